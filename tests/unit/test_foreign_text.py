"""Text that did not come from Twofold (a server's or libpq's message, a URL given on the command
line) reaches a terminal or a log without control characters and without any password it holds."""

from __future__ import annotations

import pytest

from store.errors import printable

SECRET = "fake-hunter2"


@pytest.mark.parametrize(
    "text",
    [
        f'missing "=" after "postgres://admin:{SECRET}@db/twofold" in connection info string',
        f"could not connect: password={SECRET} host=db",
        f"could not connect: PASSWORD = '{SECRET} with space' host=db",
        f"server says \x1b[2J\x1b]0;{SECRET}\x07 hello",
    ],
    ids=["url", "parameter", "quoted parameter", "escape sequences"],
)
def test_printable_removes_control_characters_and_passwords(text: str) -> None:
    shown = printable(text)
    assert "\x1b" not in shown and "\x07" not in shown
    if "\x1b" not in text:
        assert SECRET not in shown and "***" in shown


@pytest.mark.parametrize("url", [
    f"postgres://admin:{SECRET}@/twofold?host=/nonexistent&bad param",
    f"postgresql://admin:{SECRET}@127.0.0.1:1/twofold?connect_timeout=1",
], ids=["malformed", "unreachable"])
def test_the_command_line_never_prints_a_url_password(url: str, twofold, tmp_path) -> None:
    key = tmp_path / "twofold.key"
    key.write_bytes(b"k" * 32)
    key.chmod(0o600)
    for command in (("user", "list"), ("doctor",), ("audit", "verify")):
        done = twofold("--db", url, "--key", str(key), *command)
        assert done.returncode != 0 and done.stderr + done.stdout, command
        assert SECRET not in done.stderr + done.stdout and "\x1b" not in done.stderr, (command, done.stderr)
