"""Setup step 1: the QR code of the otpauth URI, and the secret key for typing by hand."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.geometry import Size
from textual.widgets import Button, Static

from screens.enrol.step import Move, WizardStep
from store.services.views import Enrolment
from tui.widgets.footer import KeyFooter
from tui.widgets.message_line import MessageLine
from tui.widgets.qr import QRCode
from tui.wording import sent_to_clipboard

GROUPS_PER_LINE = 4
"""Groups of four characters per line of the key, so it stays readable in a narrow column."""

WIDE_FROM = 78
"""From this many columns the key goes beside the QR code (below it in narrower terminals)."""

SIDE_WIDTH = 34
"""Columns of the text beside the QR code (``#scan-side`` in screens.tcss)."""


class ScanStep(WizardStep[Move]):
    """Shows the new secret as a QR code and as text. Screenshots are refused while it is shown."""

    SHOWS_SECRETS = True
    NUMBER = 1
    HEADLINE = "Scan the code"

    BINDINGS = [
        Binding("enter,n", "next", "Next", priority=True, id="next", key_display="⏎/n", tooltip="Next: type a code"),
        Binding("c", "copy_key", "Copy key", id="copy-key", tooltip="Send the key to your terminal's clipboard (OSC 52)"),
        Binding("u", "copy_uri", "Copy URI", id="copy-uri", tooltip="Send the otpauth:// link to your terminal's clipboard (OSC 52)"),
    ]

    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (WIDE_FROM, "-wide")]
    """Below 78 columns the key goes under the QR code instead of beside it."""
    VERTICAL_BREAKPOINTS = [(0, "-short"), (36, "-tall")]
    """Stacked, the QR code is drawn only with room left for the key below it."""

    def __init__(self, enrolment: Enrolment) -> None:
        super().__init__()
        self.enrolment = enrolment
        """The setup in progress; its secret exists only in memory."""

    def compose(self) -> ComposeResult:
        groups = self.enrolment.grouped_secret.split()
        key_lines = [" ".join(groups[i : i + GROUPS_PER_LINE]) for i in range(0, len(groups), GROUPS_PER_LINE)]
        with Horizontal(id="scan-dialog", classes="wizard-dialog"):
            yield QRCode(self.enrolment.uri, id="scan-qr")
            with Vertical(id="scan-side"):
                yield self.step_title()
                yield Static(
                    f"Scan this code with your authenticator app to add {self.enrolment.username}.",
                    classes="step-text",
                    markup=False,
                )
                yield Static("Can't scan it? Type this key:", classes="step-text")
                yield Static("\n".join(key_lines), id="scan-key", markup=False)
                yield Static("Time-based, 6 digits, every 30 s.", classes="step-note")
                yield MessageLine(id="scan-message")
                yield Button("Next", id="next", variant="primary")
        yield KeyFooter(compact=True)

    def on_mount(self) -> None:
        self.query_one("#next", Button).focus()
        qr = self.query_one(QRCode)
        cols, rows = qr.needed_size
        # Beside the key (the wide layout): the code, the dialog's padding and the 34-column side,
        # above the footer. Narrower terminals draw it only when tall enough to stack the key below.
        qr.terminal_needed = Size(max(WIDE_FROM, cols + 2 + SIDE_WIDTH), rows + 1)

    @on(Button.Pressed, "#next")
    def action_next(self) -> None:
        self.dismiss(Move.NEXT)

    def action_copy_key(self) -> None:
        self.app.copy_to_clipboard(self.enrolment.secret)
        self.query_one("#scan-message", MessageLine).say(sent_to_clipboard("The key"), "information")

    def action_copy_uri(self) -> None:
        self.app.copy_to_clipboard(self.enrolment.uri)
        self.query_one("#scan-message", MessageLine).say(sent_to_clipboard("The otpauth:// link"), "information")
