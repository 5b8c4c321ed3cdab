"""The form in the sign-in box (sign in, first run): its fields wait while a call runs, one message line."""

from __future__ import annotations

from screens.console_screen import ConsoleScreen
from screens.service_calls import ServiceCalls
from tui.widgets.message_line import MessageLine


class SignInForm(ServiceCalls, ConsoleScreen[None]):
    """A full-screen form whose ``BUSY_WIDGET`` is the form and ``MESSAGE`` its message line."""

    MESSAGE = "#signin-message"
    """CSS selector of the line under the form that says what is wrong (or what is happening)."""

    @property
    def message_line(self) -> MessageLine:
        return self.query_one(self.MESSAGE, MessageLine)

    def set_busy(self, busy: bool) -> None:
        """A running call covers the form and disables its fields and button."""
        self.busy = busy
        self.query_one(self.BUSY_WIDGET).loading = busy
        for widget in self.query(f"{self.BUSY_WIDGET} Input, {self.BUSY_WIDGET} Button"):
            widget.disabled = busy
