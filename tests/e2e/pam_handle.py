"""A stand-in for libpam-python's PAM handle, to drive the pam_twofold module against the real
``twofold pam`` command without sshd."""

from __future__ import annotations

import importlib.util
from collections.abc import Callable

from tui.pam import module_path

Answer = str | Callable[[str], str] | None
"""What the person types at a prompt: text, text worked out from the prompt, or None: they leave."""


class PamError(Exception):
    def __init__(self, result: int) -> None:
        self.pam_result = result


class FakePamHandle:
    """The parts of libpam-python's ``pamh`` the module uses; answers prompts from a list (an
    empty string once it runs out). An answer of None hangs up: the conversation fails there."""

    PAM_SUCCESS, PAM_AUTH_ERR, PAM_SERVICE_ERR, PAM_USER_UNKNOWN, PAM_AUTHINFO_UNAVAIL = 0, 7, 3, 10, 9
    PAM_CONV_ERR = 19
    PAM_PROMPT_ECHO_OFF, PAM_PROMPT_ECHO_ON, PAM_ERROR_MSG, PAM_TEXT_INFO = 1, 2, 3, 4
    exception = PamError

    def __init__(self, user: str, answers: list[Answer]) -> None:
        self.user, self.rhost, self.tty, self.service, self.ruser = user, "198.51.100.4", "ssh", "sshd-test", ""
        self.answers = list(answers)
        self.shown: list[tuple[int, str]] = []

    class Message:
        def __init__(self, style: int, text: str) -> None:
            self.msg_style, self.msg = style, text

    class Response:
        def __init__(self, resp: str | None) -> None:
            self.resp = resp

    def get_user(self, prompt: str | None) -> str:
        return self.user

    def conversation(self, message: "FakePamHandle.Message") -> "FakePamHandle.Response":
        self.shown.append((message.msg_style, message.msg))
        if message.msg_style not in (self.PAM_PROMPT_ECHO_OFF, self.PAM_PROMPT_ECHO_ON):
            return self.Response(None)
        answer = self.answers.pop(0) if self.answers else ""
        if answer is None:
            raise PamError(self.PAM_CONV_ERR)
        return self.Response(answer(message.msg) if callable(answer) else answer)

    @property
    def prompts(self) -> list[str]:
        return [text for style, text in self.shown if style == self.PAM_PROMPT_ECHO_OFF]

    @property
    def typed_prompts(self) -> list[str]:
        """Prompts whose answer is shown as typed."""
        return [text for style, text in self.shown if style == self.PAM_PROMPT_ECHO_ON]


def load_module():
    spec = importlib.util.spec_from_file_location("pam_twofold_under_test", module_path())
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
