"""Handlers of the ``user``, ``audit``, ``policy`` and ``doctor`` subcommands; each returns an exit code."""

from __future__ import annotations

import json
import sys
import time
from argparse import Namespace
from typing import TextIO

from store.accounts import TwoFactor
from store.services.auditview import event_note, event_source
from store.services.checkup import checkup
from store.services.results import SystemActor
from store.services.views import AccountView, due_words, iso, standing_cell
from store.witness import WitnessLog, WitnessReport

from .cli_common import EXIT_OK, EXIT_REFUSED, Input, UsageError, policy_from, unix_actor
from .installation import open_services, where
from .signin_client import server_state
from .text_table import table_lines


def _print_json(data: object) -> None:
    sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False) + "\n")


def _lock(view: AccountView) -> str:
    if not view.locked:
        return "no"
    return "until an admin unlocks" if view.locked_for_good else f"until {iso(view.locked_until)}"


def _describe(view: AccountView, now: float) -> str:
    """``user show``: one field a line, the standing worded as the console's account pages word it."""
    standing = due_words(view, now) or view.standing
    deadline = iso(view.setup_deadline) or ("at the next sign-in" if view.standing == "due" else "-")
    return "\n".join(
        [
            f"username:        {view.username}",
            f"permissions:     {', '.join(view.permissions) or '-'}",
            f"two-factor:      {view.two_factor.value}",
            f"standing:        {standing}",
            f"required:        {'yes' if view.required else 'no'}",
            f"setup deadline:  {deadline}",
            f"recovery codes:  {view.codes_left} left",
            f"locked:          {_lock(view)}",
            f"last sign-in:    {iso(view.last_sign_in) or 'never'}",
            f"created:         {iso(view.created)}",
        ]
    )


def _utc(ts: float | None, *, seconds: bool = False, never: str = "never") -> str:
    """A time in a table cell: ``2026-12-07 19:51`` (UTC, as the header says; seconds too with ``seconds``)."""
    if ts is None:
        return never
    return time.strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M", time.gmtime(ts))


LIST_HEADERS = ("USERNAME", "2FA", "REQ", "CODES", "LOCKED", "LAST SIGN-IN UTC", "PERMISSIONS")


def _list_lines(views: list[AccountView], now: float) -> list[str]:
    """``user list``: a header and a line per account in 80 columns; 2FA is the standing as the
    console's Users table shows it (``due 3d``, ``overdue``), REQ whether the policy requires it."""
    rows = [
        (
            v.username,
            standing_cell(v, now),
            "yes" if v.required else "no",
            str(v.codes_left) if v.two_factor is TwoFactor.ACTIVE else "-",
            "admin" if v.locked_for_good else "yes" if v.locked else "no",
            _utc(v.last_sign_in),
            ",".join(v.permissions) or "-",
        )
        for v in views
    ]
    return table_lines(LIST_HEADERS, rows, minimum=(12, 7, 3, 5, 6, 16, 8), fixed=(1, 5))


def _reason(args: Namespace, inp: Input, view: AccountView | None = None) -> str | None:
    """``--reason``, or on a terminal the reason asked for as the console asks (only for a change
    that will be made: not to reset an account whose 2FA is off)."""
    if args.reason is not None:
        return args.reason
    if view is not None and args.action == "2fa" and args.state == "reset" and view.two_factor is TwoFactor.OFF:
        return None  # refused by the reset itself, with the reason why
    return inp.reason(args.name.lower())


def user(args: Namespace, inp: Input) -> int:
    services = open_services(args, create=args.action == "add")
    me = SystemActor(unix_actor())
    admin = services.admin
    if args.action == "add":
        view = admin.create(me, args.name, inp.new_password(), args.permission)
        print(f"created {view.username}")
    elif args.action == "list":
        views = admin.list(me)
        if args.json:
            _print_json([v.to_json() for v in views])
        else:
            print("\n".join(_list_lines(views, services.now())))
    elif args.action == "show":
        view = admin.show(me, args.name)
        _print_json(view.to_json()) if args.json else print(_describe(view, services.now()))
    elif args.action == "passwd":
        admin.show(me, args.name)  # an unknown name is said before anything is asked
        why = _reason(args, inp)
        admin.set_password(me, args.name, inp.new_password(), reason=why)
        print(f"password of {args.name.lower()} changed")
    elif args.action == "2fa":
        if args.state == "reset":
            view = admin.reset_authenticator(me, args.name, reason=_reason(args, inp, admin.show(me, args.name)))
        elif args.state == "off":
            view = admin.switch_two_factor(me, args.name, False, reason=_reason(args, inp, admin.show(me, args.name)))
        else:
            view = admin.switch_two_factor(me, args.name, True)
        print(f"two-factor of {view.username}: {view.two_factor.value}")
    elif args.action == "unlock":
        view = admin.unlock(me, args.name, reason=_reason(args, inp, admin.show(me, args.name)))
        print(f"unlocked {view.username}")
    elif args.action == "delete":
        view = admin.show(me, args.name)
        if inp.interactive and not args.yes and not inp.confirm(f"Delete account {view.username}? [y/N] "):
            print("nothing deleted", file=sys.stderr)
            return EXIT_REFUSED
        admin.delete(me, view.username)
        print(f"deleted {view.username}")
    return EXIT_OK


def audit(args: Namespace, inp: Input) -> int:
    if args.witness is not None and args.check != "verify":
        raise UsageError("--witness goes with audit verify")
    services = open_services(args, readonly=args.check == "verify")
    me = SystemActor(unix_actor())
    if args.check == "verify":
        witness = None if args.witness is None else _open_witness(args.witness)
        report = services.audit.verify(me)
        if report.ok:
            print(f"audit chain intact: {report.events} {'event' if report.events == 1 else 'events'}")
        else:
            where = services.audit_location
            at = f" at line {report.bad_line}" if report.bad_line else ""
            print(f"twofold: audit chain broken{at} of {where}: {report.reason}", file=sys.stderr)
        witnessed = witness is None or _witness(services, me, args.witness, witness)
        return EXIT_OK if report.ok and witnessed else EXIT_REFUSED
    if args.limit is not None and args.limit < 0:
        raise UsageError("--limit must be 0 or more")
    events = services.audit.events(me, user=args.user, limit=args.limit)
    if args.json:
        _print_json([_event_json(e) for e in events])
    else:
        print("\n".join(_audit_lines(events)))
    return EXIT_OK


AUDIT_HEADERS = ("TIME (UTC)", "ACTOR", "ACTION", "TARGET", "OUTCOME", "SOURCE", "REASON")


def _audit_lines(events) -> list[str]:
    """``audit``'s text: a header and a line per event in 80 columns (long fields cut with …)."""
    rows = [
        (_utc(e.time, seconds=True), e.actor, e.action, e.target, e.outcome, event_source(e), event_note(e))
        for e in events
    ]
    return table_lines(AUDIT_HEADERS, rows, minimum=(19, 8, 12, 6, 8, 15, 6), fixed=(0,), gap=1)


def _open_witness(path: str) -> TextIO:
    try:
        return open(path, encoding="utf-8", errors="replace")
    except OSError as exc:
        raise UsageError(f"cannot read the witness {path}: {exc.strerror or exc}") from None


def _witness(services, me: SystemActor, path: str, lines: TextIO) -> bool:
    """``audit verify --witness FILE``: print what the exported log shows; True if it agrees."""
    try:
        with lines:
            log, report = services.audit.verify_witness(me, lines)
    except OSError as exc:
        raise UsageError(f"cannot read the witness {path}: {exc.strerror or exc}") from None
    for line in witness_lines(path, log, report):
        print(line, file=sys.stdout if report.ok else sys.stderr)
    return report.ok


def witness_lines(path: str, log: WitnessLog, report: WitnessReport) -> list[str]:
    """What ``audit verify --witness`` says of ``report``: one line per kind of problem."""
    def some(entries: list) -> str:
        shown = ", ".join(entry.describe() for entry in entries[:3])
        return shown + (f" and {len(entries) - 3} more" if len(entries) > 3 else "")

    def count(n: int) -> str:
        return f"{n} {'event' if n == 1 else 'events'}"

    if report.compared == 0:
        others = f" ({count(report.others)} of other installations)" if report.others else ""
        return [f"twofold: the witness {path} holds no audit events of this installation{others}"]
    lines = []
    if report.cut:
        top = max(entry.seq for entry in report.cut)
        lines.append(
            f"twofold: witness {path}: {count(len(report.cut))} cut off the end of the database (it ends at event "
            f"{report.stored}, the witness goes on to {top}; or the installation was put back from an older copy): "
            f"{some(report.cut)}"
        )
    if report.missing:
        lines.append(f"twofold: witness {path}: {count(len(report.missing))} missing from the database: {some(report.missing)}")
    if report.altered:
        lines.append(
            f"twofold: witness {path}: {count(len(report.altered))} altered in the database (another mac: the event, "
            f"or one before it, was changed and the chain rewritten): {some(report.altered)}"
        )
    if not lines:
        lines.append(
            f"witness {path}: {count(report.matched)} of this installation found in the database with their macs"
        )
    notes = []
    if report.unwitnessed:
        notes.append(f"{count(report.unwitnessed)} of the database not in the witness")
    if report.others:
        notes.append(f"{count(report.others)} of other installations ignored")
    if log.unreadable:
        notes.append(f"{log.unreadable} unreadable audit {'line' if log.unreadable == 1 else 'lines'}")
    if notes:
        lines.append(f"{'twofold: ' if not report.ok else ''}witness {path}: " + "; ".join(notes))
    return lines


def policy(args: Namespace, inp: Input) -> int:
    """``policy show`` and ``policy require WHO --grace HOURS``."""
    services = open_services(args)
    me = SystemActor(unix_actor())
    if args.action == "require":
        view = services.compliance.require(me, args.who, args.grace)
    else:
        view = services.compliance.show(me)
    if getattr(args, "json", False):
        _print_json(view.to_json())
    else:
        print(view.requirement.describe())
        print(f"due: {_accounts(view.due)} within the grace period; overdue: {_accounts(view.overdue)}")
    return EXIT_OK


def _accounts(n: int) -> str:
    return "1 account" if n == 1 else f"{n} accounts"


def _event_json(event) -> dict[str, object]:
    """time, actor, action, target, outcome, then where it came from and any reason (when known)."""
    data: dict[str, object] = {"time": iso(event.time)}
    for key in ("actor", "action", "target", "outcome", "via", "service", "unix", "ruser", "addr", "claimed_addr", "tty", "reason", "detail"):
        value = getattr(event, key)
        if value or key in ("actor", "action", "target", "outcome"):
            data[key] = value
    return data


def doctor(args: Namespace, inp: Input) -> int:
    problems = 0
    target = where(args)
    for finding in checkup(target, policy_from(args)):
        problems += not finding.ok
        print(f"[{'FAIL' if not finding.ok else 'WARN' if finding.warning else 'ok'}] {finding.text}")
    warning, text = server_state(target)
    print(f"[{'WARN' if warning else 'ok'}] {text}")
    return EXIT_OK if problems == 0 else EXIT_REFUSED
