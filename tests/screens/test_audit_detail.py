"""The Audit screen at 80x24: the source in the table, Enter on an event shows every field of it
(local time with its zone, source, address, terminal, unix user, service, reason, detail), the key
help offers that and no Select that does nothing, and the reason joins the table when there is room."""

from __future__ import annotations

from textual.widgets import Input, Label, Static

from account_flows import CLI, add_account, code_now, enrol, factor_ticket
from screens.audit_detail import AuditEventModal
from screens.help import KeysHelp
from screens.time_wording import local_time
from signin_flows import settle
from store.errors import AuthenticationFailed
from store.origin import Origin
from store.services import Services
from test_audit_screen import open_audit
from tui.app import TwofoldApp
from tui.widgets.record_table import RecordTable

REASON = "phone lost on the train, new one on Monday, ticket 4711"


def history(services: Services, paths, policy, clock) -> None:
    """root; alice (2FA active) with a code replayed over SSH; bob unlocked with a reason from an
    SSH session of the command line."""
    add_account(services, "root", manager=True)
    add_account(services, "bob")
    add_account(services, "alice")
    secret, _ = enrol(services, "alice")
    clock.advance(30)
    ssh = Services.open(paths, policy, clock, origin=Origin.pam("203.0.113.5", "ssh", unix="root", service="sshd"))
    try:
        used = code_now(ssh, secret)
        ssh.signin.second_factor(factor_ticket(ssh, "alice"), used)
        try:
            ssh.signin.second_factor(factor_ticket(ssh, "alice"), used)
        except AuthenticationFailed:
            pass
    finally:
        ssh.close()
    claimed = {"SSH_CONNECTION": "198.51.100.7 50000 192.0.2.1 22"}
    cli = Services.open(paths, policy, clock, origin=Origin.here("cli", claimed))
    try:
        clock.advance(60)
        cli.admin.unlock(CLI, "bob", reason=REASON)
    finally:
        cli.close()


def detail_fields(modal: AuditEventModal) -> dict[str, str]:
    labels = [str(label.render()) for label in modal.query(".event-label").results(Label)]
    values = [str(value.render()) for value in modal.query(".event-value").results(Static)]
    return dict(zip(labels, values))


async def test_the_source_shows_and_enter_shows_every_field(services, paths, policy, clock) -> None:
    history(services, paths, policy, clock)
    app = TwofoldApp(services)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_audit(app, pilot)
        table = screen.query_one(RecordTable)
        assert [c.label for c in table.columns][-1] == "Source"
        texts = [table.row_text(i) for i in range(table.row_count)]
        replayed = next(t for t in texts if "replayed" in t)
        assert "sign-in-totp" in replayed and " alice " in replayed and "pam 203" in replayed, replayed
        assert all(len(t) <= 79 for t in texts), texts  # no sideways scrolling at 80 columns
        unlock = next(i for i, t in enumerate(texts) if "account-unlocked" in t)
        assert "bob" in texts[unlock].split() and "cli (1" in texts[unlock], texts[unlock]  # the target whole
        await pilot.press(*["down"] * unlock, "enter")
        await settle(pilot)
        modal = app.screen
        assert isinstance(modal, AuditEventModal)
        event = next(e for e in services.audit.events(CLI) if e.action == "account-unlocked")
        assert detail_fields(modal) == {
            "Time": local_time(event.time, seconds=True), "Actor": "cli:test", "Action": "account-unlocked",
            "Target": "bob", "Outcome": "ok", "Source": "cli",
            "Address": "198.51.100.7 (claimed by the SSH variables, not checked)", "Terminal": event.tty or "-",
            "Unix user": event.unix, "PAM service": "-", "Requested by": "-", "Reason": REASON, "Detail": "-",
        }
        dialog = modal.query_one("#dialog")
        assert dialog.region.y >= 0 and dialog.region.bottom <= 23, dialog.region  # whole, above the footer
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen is screen and table.cursor == unlock


async def test_a_pam_events_details_name_the_address_service_and_unix_user(services, paths, policy, clock) -> None:
    history(services, paths, policy, clock)
    app = TwofoldApp(services)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_audit(app, pilot)
        table = screen.query_one(RecordTable)
        replayed = next(i for i in range(table.row_count) if "replayed" in table.row_text(i))
        table.cursor = replayed
        await pilot.press("enter")
        await settle(pilot)
        fields = detail_fields(app.screen)
        assert (fields["Outcome"], fields["Source"], fields["Address"]) == ("replayed", "pam", "203.0.113.5")
        assert (fields["Terminal"], fields["Unix user"], fields["PAM service"]) == ("ssh", "root", "sshd")
        await pilot.press("enter")  # Enter closes it too
        await settle(pilot)
        assert app.screen is screen


async def test_enter_in_the_filter_goes_back_to_the_table(services, paths, policy, clock) -> None:
    history(services, paths, policy, clock)
    app = TwofoldApp(services)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_audit(app, pilot)
        await pilot.press("slash", "b", "o", "b", "enter")
        await settle(pilot)
        assert app.screen is screen and app.focused is screen.query_one(RecordTable)
        assert screen.query_one("#audit-filter", Input).value == "bob"


async def test_the_key_help_offers_details_and_no_select(services, paths, policy, clock) -> None:
    history(services, paths, policy, clock)
    app = TwofoldApp(services)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_audit(app, pilot)
        await pilot.press("question_mark")
        await settle(pilot)
        assert isinstance(app.screen, KeysHelp)
        rows = [row for _name, group in app.screen.groups for row in group]
        assert ("⏎", "Every field of the selected event: source, address, terminal, reason, detail") in rows, rows
        assert not any("Select" in what for _keys, what in rows), rows


async def test_the_reason_joins_the_table_when_there_is_room(services, paths, policy, clock) -> None:
    history(services, paths, policy, clock)
    app = TwofoldApp(services)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_audit(app, pilot)
        table = screen.query_one(RecordTable)
        await pilot.resize_terminal(120, 30)
        await settle(pilot)
        assert [c.label for c in table.columns][-1] == "Reason"
        unlock = next(table.row_text(i) for i in range(table.row_count) if "account-unlocked" in table.row_text(i))
        assert "phone lost" in unlock, unlock
        await pilot.resize_terminal(80, 24)
        await settle(pilot)
        assert [c.label for c in table.columns][-1] == "Source"
