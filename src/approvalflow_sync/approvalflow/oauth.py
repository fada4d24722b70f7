"""Atlassian's OAuth 2.0 (3LO) token endpoint, and a token source that refreshes itself.

Secrets go into request bodies and ``Authorization`` headers only: never into an error message,
a log line or a ``repr``.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import secrets as _random
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Annotated
from urllib.parse import quote, urlencode

import httpx
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError

from approvalflow_sync.approvalflow.scopes import CONSENT_SCOPES
from approvalflow_sync.errors import (
    OAuthConnectionError,
    OAuthError,
)
from approvalflow_sync.retry import (
    RetryPolicy,
    describe_body,
    first_problem,
    hidden,
    json_of,
    no_answer,
    send_retried,
)

log = logging.getLogger("approvalflow_sync.oauth")

DEFAULT_AUTHORIZE_URL = "https://auth.atlassian.com/authorize"
DEFAULT_RESOURCES_URL = "https://api.atlassian.com/oauth/token/accessible-resources"
AUDIENCE = "api.atlassian.com"
REUSE_WINDOW_MINUTES = 10
EARLY_REFRESH_SECONDS = 60.0
"""An access token this close to its ``expires_in`` is refreshed before use, not after a 401."""
CONSENT_COMMAND = "approvalflow-sync auth init"
"""The command that gets a new refresh token, as the advice for a refused one names it."""

TOKEN_RETRY = RetryPolicy(attempts=3, total_seconds=30.0, initial_backoff=0.5, max_backoff=4.0)
"""Token requests are few: a short budget, so a dead endpoint fails the run quickly."""


class TokenGrant(BaseModel):
    """The token endpoint's answer to either grant (RFC 6749 5.1); ``repr`` shows no token."""

    model_config = ConfigDict(frozen=True)

    access_token: str = Field(min_length=1, repr=False)
    refresh_token: Annotated[str | None, AfterValidator(lambda v: v or None)] = Field(
        default=None, repr=False
    )
    """Present (not empty) only when ``offline_access`` was granted."""
    expires_in: int = 3600
    """Seconds the access token lives; Atlassian answers 3600."""
    scope: str = ""
    """The granted scopes, separated by spaces, as the server wrote them."""
    token_type: str = "Bearer"  # noqa: S105 - a token type, not a secret

    @property
    def scopes(self) -> frozenset[str]:
        """The granted scopes as a set."""
        return frozenset(self.scope.split())


class Site(BaseModel):
    """One site (Atlassian "resource") an access token reaches, from ``accessible-resources``."""

    model_config = ConfigDict(extra="allow")

    id: str
    """The cloud id: the ``<cloud-id>`` of the ``api.atlassian.com`` base URL."""
    url: str
    name: str
    scopes: list[str] = Field(default_factory=list)
    avatarUrl: str | None = None  # noqa: N815 - the wire's name


def pkce_pair() -> tuple[str, str]:
    """A fresh PKCE code verifier and its S256 code challenge (RFC 7636): undocumented for 3LO,
    but a server ignores parameters it does not know, and where it checks, the code is bound."""
    verifier = _random.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def authorize_url(
    auth_url: str,
    client_id: str,
    redirect_uri: str,
    state: str,
    scopes: Iterable[str] = CONSENT_SCOPES,
    *,
    code_challenge: str | None = None,
) -> str:
    """The consent page's URL for the authorization code grant, as Atlassian documents it."""
    query = {
        "audience": AUDIENCE,
        "client_id": client_id,
        "scope": " ".join(scopes),
        "redirect_uri": redirect_uri,
        "state": state,
        "response_type": "code",
        "prompt": "consent",
    }
    if code_challenge:
        query.update(code_challenge=code_challenge, code_challenge_method="S256")
    return f"{auth_url}?{urlencode(query, quote_via=quote)}"


def exchange_code(
    http: httpx.Client,
    token_url: str,
    client_id: str,
    client_secret: str,
    code: str,
    *,
    redirect_uri: str,
    code_verifier: str | None = None,
    retry: RetryPolicy = TOKEN_RETRY,
    consent_command: str = CONSENT_COMMAND,
) -> TokenGrant:
    """Trade an authorization code for tokens; without a refresh token (a CI job needs one), an
    :class:`OAuthError`. Repeated only if never sent."""
    body = {
        "grant_type": "authorization_code",
        "client_id": client_id,
        "client_secret": client_secret,
        "code": code,
        "redirect_uri": redirect_uri,
    }
    if code_verifier:
        body["code_verifier"] = code_verifier
    grant = _token_request(http, token_url, body, consent_command, retry, repeatable=False)
    if grant.refresh_token is None:
        raise OAuthError(
            "the consent gave no refresh token: the scope offline_access was not granted "
            f"(granted: {grant.scope or 'nothing listed'}), so a CI job could not get new "
            "access tokens after the first hour. Ask for offline_access in the authorize URL "
            "(`approvalflow-sync auth init` does), make sure the OAuth app may be granted it, "
            "and consent again",
            status=200,
        )
    return grant


def exchange_refresh_token(
    http: httpx.Client,
    token_url: str,
    client_id: str,
    client_secret: str,
    refresh_token: str,
    *,
    retry: RetryPolicy = TOKEN_RETRY,
    consent_command: str = CONSENT_COMMAND,
) -> TokenGrant:
    """Trade a refresh token for a new access token and a new refresh token; retried, as the
    token used still works for its 10-minute reuse window."""
    body = {
        "grant_type": "refresh_token",
        "client_id": client_id,
        "client_secret": client_secret,
        "refresh_token": refresh_token,
    }
    return _token_request(http, token_url, body, consent_command, retry, repeatable=True)


def accessible_resources(
    http: httpx.Client, resources_url: str, access_token: str, *, retry: RetryPolicy = TOKEN_RETRY
) -> list[Site]:
    """The sites (with cloud ids) an access token reaches."""
    where = f"GET {resources_url}"
    headers = {"Authorization": f"Bearer {access_token}", "Accept": "application/json"}
    response = _send(http, http.build_request("GET", resources_url, headers=headers), retry, True)
    data = json_of(response)
    if response.status_code == 401:
        raise OAuthError(
            f"{where} answered 401: the access token is expired or revoked", status=401
        )
    if response.status_code >= 300 or not isinstance(data, list):
        raise OAuthError(
            f"{where} answered {response.status_code} with {describe_body(response)}",
            status=response.status_code,
        )
    try:
        return [Site.model_validate(item) for item in data]
    except ValidationError as exc:
        raise OAuthError(
            f"{where}: the answer is not as documented: {first_problem(exc)}"
        ) from None


def _send(
    http: httpx.Client, request: httpx.Request, retry: RetryPolicy, idempotent: bool
) -> httpx.Response:
    """The answer, retried after no answer, 429 and 5xx (:class:`OAuthConnectionError`)."""
    where = f"{request.method} {request.url.copy_with(query=None)}"

    def busy(response: httpx.Response) -> OAuthConnectionError:
        return OAuthConnectionError(
            f"{where} answered {response.status_code} with {describe_body(response)}: Atlassian "
            "is busy or failing; try again later",
            status=response.status_code,
        )

    return send_retried(
        http,
        lambda: request,
        retry,
        idempotent=idempotent,
        unsent=lambda exc: OAuthConnectionError(f"{where}: {no_answer(exc)}"),
        busy=busy,
    )


# -- the token source --------------------------------------------------------------------------


@dataclass(eq=False)
class RefreshingToken:
    """The client's token source for CI: access tokens from a rotating refresh token. Each new
    refresh token is kept, then handed to ``on_rotate`` to store before other work; each access
    token goes to ``on_grant`` first, to mask it."""

    http: httpx.Client = field(repr=False)
    token_url: str
    client_id: str
    client_secret: str = field(repr=False)
    refresh_token: str = field(repr=False)
    """The newest refresh token: the one to store for the next run."""
    on_rotate: Callable[[str], None] | None = field(default=None, kw_only=True, repr=False)
    on_grant: Callable[[str], None] | None = field(default=None, kw_only=True, repr=False)
    retry: RetryPolicy = field(default=TOKEN_RETRY, kw_only=True, repr=False)
    clock: Callable[[], float] = field(default=time.monotonic, kw_only=True, repr=False)
    grant: TokenGrant | None = field(default=None, init=False, repr=False)
    """The last grant, or None before the first exchange."""
    _fresh_until: float = field(default=0.0, init=False, repr=False)
    _lock: threading.RLock = field(default_factory=threading.RLock, init=False, repr=False)

    def start(self) -> TokenGrant:
        """Exchange now unless already done: call it before other work, so rotation comes first."""
        with self._lock:
            return self.grant if self.grant is not None else self._exchange()

    def current(self) -> str:
        """The access token to send; exchanges first when there is none or it is about to end."""
        with self._lock:
            grant = self.grant
            if grant is None or self.clock() >= self._fresh_until:
                grant = self._exchange()
            return grant.access_token

    def refresh(self) -> bool:
        """Exchange the refresh token now (after a 401); raises if the token endpoint refuses."""
        with self._lock:
            self._exchange()
            return True

    def _exchange(self) -> TokenGrant:
        grant = exchange_refresh_token(
            self.http,
            self.token_url,
            self.client_id,
            self.client_secret,
            self.refresh_token,
            retry=self.retry,
        )
        if self.on_grant is not None:
            self.on_grant(grant.access_token)
        self.grant = grant
        self._fresh_until = self.clock() + max(0.0, grant.expires_in - EARLY_REFRESH_SECONDS)
        new = grant.refresh_token
        if new is None or new == self.refresh_token:
            log.info("got a new access token; the refresh token did not change")
            return grant
        self.refresh_token = new
        log.info(
            "got a new access token and a new refresh token; the one used stops working in "
            "%d minutes",
            REUSE_WINDOW_MINUTES,
        )
        if self.on_rotate is not None:
            self.on_rotate(new)
        return grant


# -- the token request -------------------------------------------------------------------------


def _token_request(
    http: httpx.Client,
    token_url: str,
    body: dict[str, str],
    consent_command: str,
    retry: RetryPolicy,
    *,
    repeatable: bool,
) -> TokenGrant:
    log.debug(
        "POST %s (grant_type=%s, client_id=%s)", token_url, body["grant_type"], body["client_id"]
    )
    headers = {"Accept": "application/json"}
    response = _send(
        http, http.build_request("POST", token_url, json=body, headers=headers), retry, repeatable
    )
    data = json_of(response)
    status = response.status_code
    if status >= 300:
        raise _token_error(f"POST {token_url}", response, data, body, consent_command)
    if not isinstance(data, dict):
        raise OAuthError(
            f"POST {token_url} answered {status} with {describe_body(response)} instead of a "
            "token; check the token URL",
            status=status,
        )
    try:
        return TokenGrant.model_validate(data)
    except ValidationError as exc:
        raise OAuthError(
            f"POST {token_url}: the answer is not as documented: {first_problem(exc)}",
            status=status,
        ) from None


def _token_error(
    where: str, response: httpx.Response, data: object, body: dict[str, str], consent_command: str
) -> OAuthError:
    """The error for a refused token request: the one place statuses and codes map to classes."""
    client_id, grant_type = body["client_id"], body["grant_type"]
    secrets = [v for k, v in body.items() if k not in ("grant_type", "client_id")]
    status = response.status_code
    answer = data if isinstance(data, dict) else {}
    error, description = (
        hidden(answer.get(key), secrets) for key in ("error", "error_description")
    )
    said = ": ".join(part for part in (error, description) if part) or describe_body(response)
    head = f"{where} answered {status} ({said})"
    if status < 400:
        return OAuthError(
            f"{head}: a redirect, not followed (the client secret goes to the token URL only); "
            "check the token URL",
            status=status,
        )
    if error == "invalid_grant" and grant_type == "refresh_token":
        return OAuthError(
            f"{head}: the refresh token is spent, expired or revoked. Refresh tokens rotate: "
            "every refresh answers a new one and the one used stops working "
            f"{REUSE_WINDOW_MINUTES} minutes later, so it is spent when an earlier run refreshed "
            "and the new one was not stored (no write-back, or the write-back failed), or when "
            f"another job refreshed the same token more than {REUSE_WINDOW_MINUTES} minutes "
            "before this one (then the secret may hold that job's newer token: run this job "
            "again). It also expires after 90 days unused, and dies when the user or an admin "
            "revokes the app's access. Otherwise the only cure is a new consent in a browser: run "
            f"`{consent_command} --client-id {client_id}` and store the refresh token it "
            "gives",
            status=status,
        )
    if error == "invalid_grant":
        return OAuthError(
            f"{head}: the authorization code was already used, has expired, or the redirect URI "
            f"differs from the one in the authorize URL. Run `{consent_command}` again and "
            "finish the consent within a few minutes",
            status=status,
        )
    if status == 401 or error in ("access_denied", "invalid_client", "unauthorized_client"):
        return OAuthError(
            f"{head}: the client id {client_id!r} or its client secret is wrong. Copy both from "
            "developer.atlassian.com > Developer console > your app > Settings (a regenerated "
            "secret replaces the old one)",
            status=status,
        )
    return OAuthError(head, status=status)
