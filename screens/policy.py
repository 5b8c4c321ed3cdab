"""Two-factor policy (UserManagement only): who must use 2FA, and the grace period.

The form shows what is saved, and, as it changes, how many accounts the new choice makes due
(counted by the services, off the UI thread). Saving is audited by the services; a change that
makes accounts overdue (their next sign-in runs the setup, unskippable) asks first.
"""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Button, Input, Label, RadioButton, RadioSet, Static

from screens.service_screen import ServiceScreen
from screens.setting_rows import UNSAVED, setting
from screens.dialogs import ConfirmModal
from store.requirement import MAX_GRACE_HOURS, WHO, Requirement
from store.services.compliance import RequirementView
from tui.widgets.footer import KeyFooter
from tui.widgets.header import ConsoleHeader
from tui.wording import plural

WHO_LABELS = {"nobody": "Nobody", "admins": "Admins (UserManagement)", "everyone": "Everyone"}


def effect_text(view: RequirementView) -> str:
    """What a requirement means now: how many accounts it makes due, and how many overdue."""
    if view.released:  # the setups the policy made pending that it no longer covers
        return f"{plural(view.released, 'setup')} the policy made pending: off again. " + effect_text(view._replace(released=0))
    if view.requirement.who == "nobody":
        return "Nobody has to use 2FA; everyone may switch it on or off for themselves"
    if not view.due and not view.overdue:
        return "Every account it covers already uses 2FA (or has its setup pending)"
    text = f"{plural(view.due, 'account')} due"
    if view.overdue:
        text += f", {view.overdue:,} overdue (setup first at the next sign-in, unskippable)"
    return text


class HoursField(Input):
    """Whole hours: it takes digits only, so the screen's letter keys work while it has the focus."""

    def check_consume_key(self, key: str, character: str | None) -> bool:
        return character is not None and character.isdigit()


class PolicyScreen(ServiceScreen):
    """Choose who must use 2FA and the grace period; see its effect before saving."""

    AUTO_FOCUS = "#who"
    HELP_TITLE = "Two-factor policy"
    HELP_NOTES = (("← → ⏎ ␣", "In the choice of who: move, then pick"), ("0-9", "Grace period in whole hours"))
    BINDINGS = [
        # The letters are priority keys: the only field here takes digits.
        Binding("w", "cycle_who", "Who", id="policy-who", priority=True, tooltip="Required for: nobody, admins, everyone"),
        Binding("s", "save", "Save", id="policy-save", priority=True, tooltip="Save the policy (audited)"),
        Binding("escape", "back", "Back", id="policy-back", tooltip="Back (asks first when not saved)"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.saved: RequirementView | None = None
        """The policy as last read from the store."""
        self.preview: RequirementView | None = None
        """The effect of what the form shows, as last counted."""

    def compose(self) -> ComposeResult:
        yield ConsoleHeader()
        with VerticalScroll(id="body"):
            yield Label("Two-factor policy", classes="page-title")
            yield Static("", id="policy-saved", markup=False)
            with Horizontal(classes="setting -radio"):
                yield Label("Required for", classes="setting-label")
                yield RadioSet(*(RadioButton(WHO_LABELS[w], id=f"who-{w}") for w in WHO), id="who", compact=True)
            yield setting("Grace period", HoursField("0", id="grace", restrict=r"[0-9]*", max_length=4, compact=True),
                          Static("hours (0: at the next sign-in)", classes="setting-note"))
            with Horizontal(id="policy-effect-row"):
                yield Label("Effect now", classes="setting-label")
                yield Static("", id="policy-effect", classes="setting-value", markup=False)
            with Horizontal(id="policy-save-row"):
                yield Button("Save (s)", id="save", variant="primary", compact=True)
                yield Static("", id="policy-unsaved", classes="unsaved")
            yield Static("A due account is told at each sign-in how long it has left; after that, signing in runs the "
                         "setup first. Its grace period starts at its first sign-in under the policy (or at its creation).",
                         id="policy-help")
        yield KeyFooter(compact=True)

    def on_mount(self) -> None:
        if self.turned_away(self.app.can_manage(), "The two-factor policy", self.app.open_account):
            return
        view = self.call(lambda: self.app.services.compliance.show(self.caller))
        if view is not None:
            self.show_saved(view, into_form=True)

    # -- what is saved, and what the form would do ----------------------------------------------
    def follow(self) -> None:
        """A policy saved elsewhere shows; the form follows it unless it was being changed."""
        view = self.reread(lambda: self.app.services.compliance.show(self.caller))
        if view is not None and view != self.saved:
            self.show_saved(view, into_form=not self.unsaved())

    def show_saved(self, view: RequirementView, *, into_form: bool) -> None:
        self.saved = view
        self.query_one("#policy-saved", Static).update(f"Saved: {view.requirement.describe()}.")
        if into_form:
            self.query_one(f"#who-{view.requirement.who}", RadioButton).value = True
            self.query_one("#grace", Input).value = str(view.requirement.grace_hours)
        self.form_changed()

    def wanted(self) -> Requirement | None:
        """What the form shows, or None while the grace period is not a number of hours."""
        pressed = self.query_one("#who", RadioSet).pressed_button
        who = (pressed.id or "").removeprefix("who-") if pressed is not None else "nobody"
        text = self.query_one("#grace", Input).value.strip()
        if not text.isdigit() or int(text) > MAX_GRACE_HOURS:
            return None
        return Requirement(who, int(text))

    def unsaved(self) -> bool:
        return self.saved is not None and self.wanted() != self.saved.requirement

    @on(RadioSet.Changed, "#who")
    @on(Input.Changed, "#grace")
    def form_changed(self) -> None:
        wanted = self.wanted()
        effect = self.query_one("#policy-effect", Static)
        if wanted is None:
            effect.update(f"The grace period is 0 to {MAX_GRACE_HOURS:,} whole hours")
            effect.add_class("-warn")
        else:
            effect.remove_class("-warn")
            self.count_effect(wanted)
        self.query_one("#policy-unsaved", Static).update(UNSAVED if self.unsaved() else "")

    def count_effect(self, wanted: Requirement) -> None:
        """Count the accounts ``wanted`` makes due (every account is read: off the UI thread)."""
        session = self.caller
        self.in_background(lambda: self.app.services.compliance.preview(session, wanted.who, wanted.grace_hours),
                           self.show_effect, group="preview")

    def show_effect(self, view: RequirementView) -> None:
        if self.is_attached and view.requirement == self.wanted():
            self.preview = view
            self.query_one("#policy-effect", Static).update(effect_text(view))

    # -- keys ---------------------------------------------------------------------------------
    def action_cycle_who(self) -> None:
        buttons = list(self.query_one("#who", RadioSet).query(RadioButton))
        now = next((i for i, b in enumerate(buttons) if b.value), 0)
        buttons[(now + 1) % len(buttons)].value = True

    @on(Button.Pressed, "#save")
    def action_save(self) -> None:
        wanted = self.wanted()
        if wanted is None:
            self.notify(f"The grace period must be 0 to {MAX_GRACE_HOURS:,} whole hours", severity="error")
            self.query_one("#grace", Input).focus()
            return
        if not self.unsaved():
            self.notify("Nothing to save: this is the saved policy")
            return
        preview, saved = self.preview, self.saved
        if preview is None or saved is None or preview.requirement != wanted or preview.overdue <= saved.overdue:
            self.save(wanted)  # no more accounts overdue than now
            return
        question = (f"This makes {plural(preview.overdue, 'account')} overdue: their next sign-in runs the setup "
                    "first, and it cannot be skipped. Save?")

        def confirmed(yes: bool | None) -> None:
            if yes:
                self.save(wanted)

        self.app.push_screen(ConfirmModal(question, title="Accounts overdue", yes="Save", danger=True), confirmed)

    def save(self, wanted: Requirement) -> None:
        session = self.caller

        def saved(view: RequirementView) -> None:
            self.show_saved(view, into_form=True)
            self.notify(f"{view.requirement.describe()}. {effect_text(view)}.", title="Policy saved", markup=False)

        self.in_thread(lambda: self.app.services.compliance.require(session, wanted.who, wanted.grace_hours), saved)

    def action_back(self) -> None:
        if not self.unsaved():
            self.dismiss()
            return
        modal = ConfirmModal("Leave without saving the policy?", title="Not saved", yes="Leave", danger=True)
        self.app.push_screen(modal, lambda leave: leave and self.dismiss())
