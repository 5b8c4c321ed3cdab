"""The start-up baseline: the least Textual app showing what the sign-in screen shows.

Header, a bordered box with two labels, two inputs and a button, and a Footer; no database, no
services, no stylesheet file. Launched exactly like the console (same python, same terminal), so
what the console takes beyond it is Twofold's own start-up.

    python bench/minimal_app.py
"""

from __future__ import annotations

from textual.app import App, ComposeResult
from textual.containers import Vertical
from textual.widgets import Button, Footer, Header, Input, Label


class MinimalSignIn(App[None]):
    """Sign-in look-alike: the same widgets as LoginScreen, nothing behind them."""

    CSS = """
    Screen { align: center middle; }
    #box { width: 60; height: auto; padding: 0 2; border: round $primary; background: $surface; }
    """

    def compose(self) -> ComposeResult:
        yield Header()
        with Vertical(id="box"):
            yield Label("Username")
            yield Input(id="username")
            yield Label("Password")
            yield Input(id="password", password=True)
            yield Button("Sign in", variant="primary")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#username", Input).focus()


if __name__ == "__main__":
    MinimalSignIn().run()
