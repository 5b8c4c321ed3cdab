"""No secret on a PAM line: files in /etc/pam.d can be read by every user, so `twofold pam` refuses
a database URL that carries a password, before it connects, and says nothing of it to the client."""

from __future__ import annotations

import pytest

from tui.pam import UNAVAILABLE_MESSAGE, carries_password

URLS = {
    "in the user part": "postgresql://twofold:fake-s3cret@127.0.0.1:1/twofold",
    "as a parameter": "postgresql://twofold@127.0.0.1:1/twofold?password=fake-s3cret",
}


@pytest.mark.parametrize("url", list(URLS.values()), ids=list(URLS))
def test_a_pam_line_with_a_password_is_refused(url: str, twofold, tmp_path) -> None:
    key = tmp_path / "twofold.key"
    key.write_bytes(b"k" * 32)
    key.chmod(0o600)
    done = twofold("--db", url, "--key", str(key), "pam", stdin="pw123456\0",
                   env={"PAM_TYPE": "auth", "PAM_USER": "alice", "PAM_RHOST": "192.0.2.1"})
    assert done.returncode == 2
    assert done.stdout.strip() == UNAVAILABLE_MESSAGE and done.stderr == ""  # the reason is for the system log
    assert "fake-s3cret" not in done.stdout + done.stderr


def test_urls_without_a_password_pass() -> None:
    assert not carries_password("postgresql:///twofold?host=/run/postgresql")
    assert not carries_password("postgresql://db.example/twofold?sslmode=verify-full&service=twofold")
    assert all(carries_password(url) for url in URLS.values())
