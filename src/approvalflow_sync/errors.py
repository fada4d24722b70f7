"""The one exception tree: the command line prints ``str(error)`` and exits ``error.exit_code``."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

EXIT_FAILURE = 1
EXIT_CONFIG = 2


class ApprovalFlowSyncError(Exception):
    """Base of every error this program raises on purpose."""

    exit_code = EXIT_FAILURE


class ConfigError(ApprovalFlowSyncError):
    """Raised when a setting, flag, input or file given by the user is invalid."""

    exit_code = EXIT_CONFIG


class UsageError(ConfigError):
    """Raised when the command line does not parse; ``usage`` is printed with the message."""

    def __init__(self, message: str, *, prog: str, usage: str) -> None:
        self.prog = prog
        self.usage = usage
        super().__init__(message)


class APIError(ApprovalFlowSyncError):
    """Raised when a call to the ApprovalFlow API fails."""

    def __init__(
        self,
        message: str,
        *,
        method: str,
        path: str,
        status: int | None = None,
        error: str | None = None,
    ) -> None:
        self.method = method
        self.path = path
        self.status = status
        self.error = error
        self.detail = message
        where = f"{method} {path}"
        if status is not None:
            where += f" answered {status}"
        super().__init__(f"ApprovalFlow {where}: {message}")


class APIConnectionError(APIError):
    """Raised when no answer came back; ``maybe_applied`` when a write may have taken effect."""

    def __init__(self, message: str, *, method: str, path: str, maybe_applied: bool) -> None:
        self.maybe_applied = maybe_applied
        super().__init__(message, method=method, path=path)


class APITimeoutError(APIConnectionError):
    """Raised when the server did not answer within the timeout."""


class APIResponseError(APIError):
    """Raised when an answer cannot be used: a proxy's HTML page, ``success: false``, a redirect."""


class APIStatusError(APIError):
    """Raised when ApprovalFlow answers with an error status."""


class BadRequestError(APIStatusError):
    """Raised on 400: a parameter is missing or invalid, or the request is refused as such."""


class AuthenticationError(APIStatusError):
    """Raised on 401: the access token is missing, expired or revoked."""


class PermissionDeniedError(APIStatusError):
    """Raised on 403: a licence not active, a scope missing, or (the text won't tell) either."""


class RateLimitError(APIStatusError):
    """Raised on 429 once the retry budget is spent."""


class ServerError(APIStatusError):
    """Raised on a 5xx answer once the retry budget is spent."""


class GitHubError(ApprovalFlowSyncError):
    """Raised when a call to the GitHub REST API fails."""

    def __init__(self, operation: str, message: str, *, status: int | None = None) -> None:
        self.status = status
        where = f" answered {status}" if status is not None else ""
        super().__init__(f"GitHub {operation}{where}: {message}")


class GitHubRateLimitError(GitHubError):
    """Raised when a GitHub rate limit lasts past the deadline; ``resets_at``: epoch seconds."""

    def __init__(self, operation: str, message: str, *, resets_at: float) -> None:
        self.resets_at = resets_at
        super().__init__(operation, message)


class SecretWriteError(GitHubError):
    """Raised when an Actions secret cannot be written; ``target``: ``NAME``, ``env:E/NAME``…"""

    def __init__(
        self, operation: str, message: str, *, target: str, status: int | None = None
    ) -> None:
        self.target = target
        super().__init__(operation, message, status=status)


class OAuthError(ApprovalFlowSyncError):
    """Raised when Atlassian's token endpoint refuses a request or answers something unusable."""

    def __init__(self, message: str, *, status: int | None = None) -> None:
        self.status = status
        super().__init__(message)


class OAuthConnectionError(OAuthError):
    """Raised when the token endpoint could not be reached, or answered 429 or 5xx."""


class TransientAnswer(Exception):  # noqa: N818 - a signal to the retry engine, never shown
    """Raised inside a retried call for another attempt; ``answer`` is handed on after the last."""

    def __init__(
        self, description: str, kind: str, *, retry_after: float | None = None, answer: object
    ) -> None:
        super().__init__(description)
        self.kind = kind
        self.retry_after = retry_after
        self.answer = answer


class WriteBackError(ApprovalFlowSyncError):
    """Raised when the rotated refresh token could not be stored; says how to recover."""


MAX_REPORTED = 20
"""How many problems a :class:`MappingError`'s message shows; ``problems`` has them all."""


@dataclass(frozen=True)
class Problem:
    """One thing wrong in a mapping file; line 0: the whole file (missing, unreadable)."""

    source: str
    line: int
    column: int
    message: str
    severity: Literal["error", "warning"] = "error"

    def __str__(self) -> str:
        if self.line <= 0:
            return f"{self.source}: {self.message}"
        return f"{self.source}:{self.line}:{self.column}: {self.message}"


class MappingError(ConfigError):
    """Raised when the mapping file is missing, unreadable or invalid; ``problems`` has all."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems: list[Problem] = list(problems)
        lines = [str(problem) for problem in self.problems[:MAX_REPORTED]]
        hidden = len(self.problems) - MAX_REPORTED
        if hidden > 0:
            lines.append(f"... and {hidden} more problems")
        if len(self.problems) > 1:
            lines.insert(0, f"{self.problems[0].source}: {len(self.problems)} problems")
        super().__init__("\n".join(lines))


class RefusalError(Exception):
    """The sandbox refusing a request: its message and status make the answer (OAuth's code
    in ``error``)."""

    def __init__(self, message: str, status: int = 400, error: str = "invalid_request") -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.error = error
