"""The one exception tree of approvalflow-sync.

Only the command line catches :class:`ApprovalFlowSyncError`; it prints ``str(error)`` as one
line and exits with ``error.exit_code``. Messages never contain a token: the client builds them
from the method, the path, the status and the server's own ``error`` text only.
"""

from __future__ import annotations

EXIT_FAILURE = 1
EXIT_CONFIG = 2


class ApprovalFlowSyncError(Exception):
    """Base of every error this program raises on purpose."""

    exit_code = EXIT_FAILURE


class ConfigError(ApprovalFlowSyncError):
    """Raised when a setting, flag, input or file given by the user is invalid.

    The message names the setting, says what is wrong and how to fix it.
    """

    exit_code = EXIT_CONFIG


class UsageError(ConfigError):
    """Raised when the command line does not parse: an unknown flag, a missing argument.

    ``prog`` names the command, ``usage`` is its usage line, printed with the message.
    """

    def __init__(self, message: str, *, prog: str, usage: str) -> None:
        self.prog = prog
        self.usage = usage
        super().__init__(message)


class APIError(ApprovalFlowSyncError):
    """Raised when a call to the ApprovalFlow API fails, whatever the reason."""

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
    """Raised when no answer came back: refused, dropped or broken connection.

    ``maybe_applied`` is true when the request may have reached the server (the connection
    broke after it was sent), so a write may have taken effect.
    """

    def __init__(self, message: str, *, method: str, path: str, maybe_applied: bool) -> None:
        self.maybe_applied = maybe_applied
        super().__init__(message, method=method, path=path)


class APITimeoutError(APIConnectionError):
    """Raised when the server did not answer within the timeout."""


class APIResponseError(APIError):
    """Raised when an answer has a success status but cannot be used.

    For example an HTML page from a proxy, an empty body, ``"success": false`` under 200, or a
    field the program needs is missing.
    """


class APIStatusError(APIError):
    """Raised when ApprovalFlow answers with an error status.

    ``retry_after`` is the server's ``Retry-After`` advice in seconds, when it gave one (429 and
    503 do).
    """

    def __init__(
        self,
        message: str,
        *,
        method: str,
        path: str,
        status: int | None = None,
        error: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        self.retry_after = retry_after
        super().__init__(message, method=method, path=path, status=status, error=error)


class BadRequestError(APIStatusError):
    """Raised on 400: a parameter is missing or invalid, or the request is refused as such."""


class AuthenticationError(APIStatusError):
    """Raised on 401: the access token is missing, expired or revoked."""


class PermissionDeniedError(APIStatusError):
    """Raised on 403: the licence is not active, a scope is missing, or the app's REST API is off.

    ``reason`` is ``"licence"``, ``"scope"`` or ``"unknown"`` (the text did not tell).
    """

    def __init__(
        self,
        message: str,
        *,
        method: str,
        path: str,
        status: int | None = None,
        error: str | None = None,
        reason: str = "unknown",
    ) -> None:
        self.reason = reason
        super().__init__(message, method=method, path=path, status=status, error=error)


class NotFoundError(APIStatusError):
    """Raised on 404: the path or the object does not exist (often a wrong base URL)."""


class RateLimitError(APIStatusError):
    """Raised on 429 once the retry budget is spent; ``retry_after`` is the server's advice."""


class ServerError(APIStatusError):
    """Raised on a 5xx answer; ``retry_after`` is set when a 503 carried ``Retry-After``."""


class GitHubError(ApprovalFlowSyncError):
    """Raised when a call to the GitHub REST API fails.

    The message names the operation, GitHub's answer, and for a refused write the ``permissions:``
    line the workflow needs.
    """

    def __init__(self, operation: str, message: str, *, status: int | None = None) -> None:
        self.operation = operation
        self.status = status
        where = f" answered {status}" if status is not None else ""
        super().__init__(f"GitHub {operation}{where}: {message}")


class SecretWriteError(GitHubError):
    """Raised when an Actions secret cannot be written (public key read or the write refused).

    ``target`` names the secret as written: ``NAME``, ``env:ENVIRONMENT/NAME`` or ``org:ORG/NAME``.
    """

    def __init__(
        self, operation: str, message: str, *, target: str, status: int | None = None
    ) -> None:
        self.target = target
        super().__init__(operation, message, status=status)


class OAuthError(ApprovalFlowSyncError):
    """Raised when Atlassian's token endpoint refuses a request or answers something unusable.

    ``status`` is the HTTP status (None when no answer came), ``error`` the OAuth error code
    (``invalid_grant``, ``access_denied`` ...) and ``description`` the server's text. No token,
    code or client secret is ever part of the message.
    """

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        error: str | None = None,
        description: str | None = None,
    ) -> None:
        self.status = status
        self.error = error
        self.description = description
        super().__init__(message)


class OAuthConnectionError(OAuthError):
    """Raised when the token endpoint could not be reached, or answered 429 or 5xx.

    These are worth another attempt; a refresh may be repeated safely, because the refresh token
    used stays valid for the 10-minute reuse window even if the server did rotate it. An
    authorization code is single-use, so its exchange is repeated only when ``maybe_applied`` is
    false (the request never left). ``retry_after`` is the server's advice, in seconds.
    """

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        error: str | None = None,
        description: str | None = None,
        maybe_applied: bool = True,
        retry_after: float | None = None,
    ) -> None:
        self.maybe_applied = maybe_applied
        self.retry_after = retry_after
        super().__init__(message, status=status, error=error, description=description)


class InvalidGrantError(OAuthError):
    """Raised on ``invalid_grant``: the refresh token (or code) is spent, expired or revoked.

    The only cure is a new consent in a browser (``approvalflow-sync auth init``).
    """


class ClientCredentialsError(OAuthError):
    """Raised when the token endpoint does not accept the client id or the client secret (401)."""


class OfflineAccessMissingError(OAuthError):
    """Raised when a consent yields no refresh token: ``offline_access`` was not granted."""


class TransientAnswer(Exception):  # noqa: N818 - a signal to the retry engine, never shown
    """Raised inside a retried call when an answer is worth another attempt; never escapes it.

    ``kind`` is one of the retry policy's kinds (``approvalflow/retry.py``), ``retry_after`` the
    server's advice, and ``answer`` what the call hands on when no attempt is left.
    """

    def __init__(
        self, description: str, kind: str, *, retry_after: float | None = None, answer: object
    ) -> None:
        super().__init__(description)
        self.kind = kind
        self.retry_after = retry_after
        self.answer = answer
