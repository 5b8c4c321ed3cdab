"""DigitFields widget: typing, backspace, arrows, paste, completion and Enter passing through."""

from __future__ import annotations

from textual import events
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Button

from tui.widgets.digits import DigitFields


class VerifyScreen(Screen):
    """A verify step in miniature: the fields, a button and Enter bound to "Verify now"."""

    BINDINGS = [Binding("enter", "verify", "Verify now")]

    def __init__(self) -> None:
        super().__init__()
        self.completed: list[tuple[str, DigitFields]] = []
        self.verified: list[str] = []

    def compose(self) -> ComposeResult:
        yield DigitFields(id="code")
        yield Button("Verify now", id="verify")

    def on_mount(self) -> None:
        self.query_one(DigitFields).focus_first()

    def on_digit_fields_completed(self, message: DigitFields.Completed) -> None:
        self.completed.append((message.code, message.control))

    def action_verify(self) -> None:
        self.verified.append(self.query_one(DigitFields).value)


class DigitsApp(App):
    def on_mount(self) -> None:
        self.push_screen(VerifyScreen())


def parts(app: App) -> tuple[VerifyScreen, DigitFields]:
    screen = app.screen
    assert isinstance(screen, VerifyScreen)
    return screen, screen.query_one(DigitFields)


def shown(fields: DigitFields) -> list[str]:
    return [str(field.render()) for field in fields.fields]


async def test_typing_six_digits_completes() -> None:
    app = DigitsApp()
    async with app.run_test(size=(80, 24)) as pilot:
        screen, fields = parts(app)
        assert app.focused is fields
        await pilot.press(*"12345")
        assert fields.value == "12345"
        assert screen.completed == []
        await pilot.press("6")
        await pilot.pause()
        assert fields.value == "123456"
        assert fields.is_complete
        assert screen.completed == [("123456", fields)]
        assert shown(fields) == list("123456")


async def test_non_digits_are_ignored() -> None:
    app = DigitsApp()
    async with app.run_test(size=(80, 24)) as pilot:
        screen, fields = parts(app)
        await pilot.press("a", "1", "x", "space", "2", "minus", "full_stop")
        assert fields.value == "12"
        assert fields.cursor == 2
        assert shown(fields) == ["1", "2", "·", "·", "·", "·"]
        assert screen.completed == []


async def test_backspace_clears_then_goes_back() -> None:
    app = DigitsApp()
    async with app.run_test(size=(80, 24)) as pilot:
        _, fields = parts(app)
        await pilot.press(*"123")
        assert fields.cursor == 3
        await pilot.press("backspace")  # empty field: back to "3" and clear it
        assert (fields.value, fields.cursor) == ("12", 2)
        await pilot.press("left", "backspace")  # filled field: clear it, stay
        assert (shown(fields)[:2], fields.cursor) == (["1", "·"], 1)
        await pilot.press("backspace")  # empty again: back to "1" and clear it
        assert (fields.value, fields.cursor) == ("", 0)
        await pilot.press("backspace")  # nothing before the first field
        assert (fields.value, fields.cursor) == ("", 0)


async def test_arrows_move_and_overwrite_recompletes() -> None:
    app = DigitsApp()
    async with app.run_test(size=(80, 24)) as pilot:
        screen, fields = parts(app)
        await pilot.press(*"123456")
        assert fields.cursor == 5
        await pilot.press("right")
        assert fields.cursor == 5
        await pilot.press("left", "left", "9")
        await pilot.pause()
        assert fields.value == "123956"
        assert fields.cursor == 4
        assert [code for code, _ in screen.completed] == ["123456", "123956"]
        await pilot.press("home")
        assert fields.cursor == 0
        await pilot.press("delete")
        assert fields.value == "23956"
        assert not fields.is_complete
        assert fields.fields[0].has_class("-cursor")


async def test_paste_fills_all_six() -> None:
    for pasted in ("123 456", "123-456", " 123456\n"):
        app = DigitsApp()
        async with app.run_test(size=(80, 24)) as pilot:
            screen, fields = parts(app)
            await pilot.press("9", "right")  # paste replaces, wherever the cursor is
            app.post_message(events.Paste(pasted))
            await pilot.pause()
            assert fields.value == "123456", pasted
            assert screen.completed == [("123456", fields)]


async def test_paste_of_junk_changes_nothing() -> None:
    app = DigitsApp()
    async with app.run_test(size=(80, 24)) as pilot:
        screen, fields = parts(app)
        await pilot.press("1")
        for pasted in ("12a456", "1234567", "", "one two"):
            app.post_message(events.Paste(pasted))
            await pilot.pause()
        assert fields.value == "1"
        assert screen.completed == []


async def test_clear_empties_and_focuses_first() -> None:
    app = DigitsApp()
    async with app.run_test(size=(80, 24)) as pilot:
        screen, fields = parts(app)
        await pilot.press(*"123456", "tab")
        assert app.focused is not fields
        fields.clear()
        await pilot.pause()
        assert fields.value == ""
        assert fields.cursor == 0
        assert app.focused is fields
        assert shown(fields) == ["·"] * 6
        await pilot.press("7")
        assert fields.value == "7"


async def test_enter_reaches_the_screen_binding() -> None:
    app = DigitsApp()
    async with app.run_test(size=(80, 24)) as pilot:
        screen, fields = parts(app)
        await pilot.press(*"123", "enter")
        assert screen.verified == ["123"]
        assert app.focused is fields


async def test_one_tab_stop_and_compact_size() -> None:
    app = DigitsApp()
    async with app.run_test(size=(80, 24)) as pilot:
        _, fields = parts(app)
        await pilot.press("tab")
        assert app.focused is app.screen.query_one("#verify")
        await pilot.press("shift+tab")
        assert app.focused is fields
        assert fields.region.width <= 40
        assert fields.region.height <= 3
        assert all(field.region.width == 5 for field in fields.fields)
