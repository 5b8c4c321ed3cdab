"""Handlers of the ``user``, ``audit``, ``policy`` and ``doctor`` subcommands; each returns an exit code."""

from __future__ import annotations

import json
import sys
from argparse import Namespace
from typing import TextIO

from store.services.checkup import checkup
from store.services.results import SystemActor
from store.services.views import AccountView, iso
from store.witness import WitnessLog, WitnessReport

from .cli_common import EXIT_OK, EXIT_REFUSED, Input, UsageError, policy_from, unix_actor
from .parser import open_services, where


def _print_json(data: object) -> None:
    sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False) + "\n")


def _describe(view: AccountView) -> str:
    lock = "no"
    if view.locked:
        lock = "until an admin unlocks" if view.locked_for_good else f"until {iso(view.locked_until)}"
    return "\n".join(
        [
            f"username:        {view.username}",
            f"permissions:     {', '.join(view.permissions) or '-'}",
            f"two-factor:      {view.two_factor.value}",
            f"recovery codes:  {view.codes_left} left",
            f"locked:          {lock}",
            f"last sign-in:    {iso(view.last_sign_in) or 'never'}",
            f"created:         {iso(view.created)}",
        ]
    )


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
            print(f"{'USERNAME':<24} {'2FA':<8} {'CODES':>5}  {'LOCKED':<6}  {'LAST SIGN-IN':<25} PERMISSIONS")
            for v in views:
                print(
                    f"{v.username:<24} {v.two_factor.value:<8} {v.codes_left:>5}  {'yes' if v.locked else 'no':<6}"
                    f"  {iso(v.last_sign_in) or 'never':<25} {','.join(v.permissions)}"
                )
    elif args.action == "show":
        view = admin.show(me, args.name)
        _print_json(view.to_json()) if args.json else print(_describe(view))
    elif args.action == "passwd":
        admin.set_password(me, args.name, inp.new_password(), reason=args.reason)
        print(f"password of {args.name.lower()} changed")
    elif args.action == "2fa":
        if args.state == "reset":
            view = admin.reset_authenticator(me, args.name, reason=args.reason)
        else:
            view = admin.switch_two_factor(me, args.name, args.state == "on", reason=args.reason)
        print(f"two-factor of {view.username}: {view.two_factor.value}")
    elif args.action == "unlock":
        view = admin.unlock(me, args.name, reason=args.reason)
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
        for e in events:
            print(f"{iso(e.time)}  {e.actor:<20} {e.action:<20} {e.target:<20} {e.outcome}")
    return EXIT_OK


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
    for finding in checkup(where(args), policy_from(args)):
        problems += not finding.ok
        print(f"[{'FAIL' if not finding.ok else 'WARN' if finding.warning else 'ok'}] {finding.text}")
    return EXIT_OK if problems == 0 else EXIT_REFUSED
