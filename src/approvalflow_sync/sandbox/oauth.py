"""The sandbox's Atlassian OAuth 2.0 (3LO) side, with no HTTP: consent, codes, tokens, rotation.

The rules copy what Atlassian documents and answers (see ``approvalflow-api.md``, last section):

- ``/authorize`` is the consent page. The sandbox's "user" is an admin who consents at once, so
  it redirects straight to ``redirect_uri?code=...&state=...``. A code asked for with a PKCE
  ``code_challenge`` (S256) is then traded only with its ``code_verifier`` (RFC 7636).
- The authorization code grant answers an access token (1 hour) and, only when ``offline_access``
  was granted, a refresh token.
- Refresh tokens rotate: every refresh answers a new one; the used one stays valid for a
  10-minute reuse window from its first use, then it is dead. A refresh token expires after
  90 days unused; a grant ends 365 days after the consent.
- A spent, expired, revoked or unknown refresh token answers
  ``403 {"error": "invalid_grant", "error_description": "Unknown or invalid refresh token."}``;
  a wrong client id or secret ``401 {"error": "access_denied", "error_description":
  "Unauthorized"}``; a bad code ``403 invalid_grant "Invalid authorization code"``.

Times come from the caller (the sandbox's clock, which tests can move). Tokens are random.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit

from approvalflow_sync.sandbox.seed import LOOPBACK_CALLBACK, OAuthClientSeed

OFFLINE_ACCESS = "offline_access"
AUDIENCE = "api.atlassian.com"
ACCESS_TOKEN_SECONDS = 3600
REUSE_WINDOW = timedelta(minutes=10)
UNUSED_LIFETIME = timedelta(days=90)
ABSOLUTE_LIFETIME = timedelta(days=365)
CODE_LIFETIME = timedelta(minutes=10)
"""Atlassian does not document it; ten minutes is what RFC 6749 recommends as a maximum."""

DEFAULT_CLIENT_ID = "sandbox-client"
DEFAULT_CLIENT_SECRET = "sandbox-secret"  # noqa: S105 - a well-known fake secret, like the token

CLOUD_ID = "5a1e2b3c-4d5e-4f60-8a7b-9c0d1e2f3a4b"
"""The sandbox site's cloud id, as ``accessible-resources`` lists it."""
SITE_URL = "https://sandbox.atlassian.net"
SITE_NAME = "sandbox"
AVATAR_URL = "https://site-admin-avatar-cdn.prod.public.atl-paas.net/avatars/240/rocket.png"

INVALID_REFRESH_TOKEN = "Unknown or invalid refresh token."  # noqa: S105 - an error text
INVALID_CODE = "Invalid authorization code"
UNAUTHORIZED = "Unauthorized"


class OAuthRefusalError(Exception):
    """Raised when the token endpoint refuses a request; the server answers the OAuth shape."""

    def __init__(self, status: int, error: str, description: str) -> None:
        super().__init__(f"{status} {error}: {description}")
        self.status = status
        self.error = error
        self.description = description

    def body(self) -> dict[str, str]:
        """The answer's JSON: ``error`` and ``error_description``."""
        return {"error": self.error, "error_description": self.description}


class ConsentPageError(Exception):
    """Raised when the consent page cannot even redirect back (unknown client, bad redirect).

    The browser then shows an error page (400) instead of going back to the app.
    """

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass
class OAuthClient:
    """An OAuth 2.0 (3LO) integration registered in the developer console."""

    client_id: str
    secret: str = field(repr=False)
    scopes: frozenset[str]
    """What the app may be granted; requested scopes outside it are not granted."""
    callback_urls: tuple[str, ...] = (LOOPBACK_CALLBACK,)
    """The registered callback URLs: ``/authorize`` redirects to no other."""


@dataclass
class Grant:
    """One consent of the user to one client: the family of its tokens."""

    id: str
    client_id: str
    scopes: frozenset[str]
    consented_at: datetime
    revoked: bool = False


@dataclass
class AuthCode:
    """An authorization code: single use, short-lived, tied to the client and redirect URI."""

    client_id: str
    redirect_uri: str
    scopes: frozenset[str]
    expires_at: datetime
    used: bool = False
    code_challenge: str | None = None
    """The PKCE S256 challenge the consent was asked with, if any."""


@dataclass
class RefreshToken:
    """A rotating refresh token; ``first_used_at`` starts its reuse window."""

    grant_id: str
    issued_at: datetime
    first_used_at: datetime | None = None


@dataclass
class AccessToken:
    """An access token; the API accepts it with ``scopes`` until ``expires_at``."""

    grant_id: str
    scopes: frozenset[str]
    expires_at: datetime


def default_client(api_scopes: Iterable[str]) -> OAuthClient:
    """The client every sandbox knows: every API scope plus ``offline_access``."""
    return OAuthClient(
        DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, frozenset((*api_scopes, OFFLINE_ACCESS))
    )


@dataclass
class OAuthState:
    """Clients, codes, grants and tokens of the sandbox's authorization server."""

    clients: dict[str, OAuthClient] = field(default_factory=dict)
    grants: dict[str, Grant] = field(default_factory=dict)
    codes: dict[str, AuthCode] = field(default_factory=dict, repr=False)
    refresh_tokens: dict[str, RefreshToken] = field(default_factory=dict, repr=False)
    access_tokens: dict[str, AccessToken] = field(default_factory=dict, repr=False)
    auto_consent: bool = True
    """False: the user declines on the consent page (redirect with ``error=access_denied``)."""

    @classmethod
    def from_seed(cls, clients: list[OAuthClientSeed], api_scopes: Iterable[str]) -> OAuthState:
        """The default client (with ``api_scopes``) plus the seed's clients."""
        state = cls()
        state.register(default_client(api_scopes))
        for client in clients:
            state.register(
                OAuthClient(
                    client.clientId,
                    client.clientSecret,
                    frozenset(client.scopes),
                    tuple(client.callbackUrls),
                )
            )
        return state

    def register(self, client: OAuthClient) -> None:
        """Add a client, or replace the one with the same id."""
        self.clients[client.client_id] = client

    # -- the consent page ----------------------------------------------------------------------

    def consent(self, query: Mapping[str, str], now: datetime) -> str:
        """Where the consent page sends the browser: the redirect URI with a code or an error."""
        client = self.clients.get(query.get("client_id", ""))
        if client is None:
            raise ConsentPageError("Unknown client_id: this app is not registered")
        redirect_uri = query.get("redirect_uri", "")
        parts = urlsplit(redirect_uri)
        if parts.scheme not in ("http", "https") or not parts.netloc or parts.fragment:
            raise ConsentPageError("redirect_uri is missing or not an absolute URL")
        if not _registered(redirect_uri, client.callback_urls):
            raise ConsentPageError(
                "redirect_uri does not match the callback URL registered for this app"
            )
        if query.get("audience") != AUDIENCE:
            raise ConsentPageError(f"audience must be {AUDIENCE}")
        state = query.get("state")
        if query.get("response_type") != "code":
            return _redirect(
                redirect_uri, state, error="unsupported_response_type", description="Use code"
            )
        requested = frozenset(query.get("scope", "").split())
        granted = requested & client.scopes
        if not granted - {OFFLINE_ACCESS}:
            return _redirect(
                redirect_uri,
                state,
                error="invalid_scope",
                description="None of the requested scopes is configured for this app",
            )
        if not self.auto_consent:
            return _redirect(
                redirect_uri,
                state,
                error="access_denied",
                description="The user declined to grant access",
            )
        challenge = query.get("code_challenge") or None
        if challenge and query.get("code_challenge_method") != "S256":
            return _redirect(redirect_uri, state, error="invalid_request", description="Use S256")
        code = "sbx-code-" + secrets.token_urlsafe(24)
        self.codes[code] = AuthCode(
            client.client_id, redirect_uri, granted, now + CODE_LIFETIME, code_challenge=challenge
        )
        return _redirect(redirect_uri, state, code=code)

    # -- the token endpoint --------------------------------------------------------------------

    def token(self, params: Mapping[str, object], now: datetime) -> dict[str, Any]:
        """Answer one token request (either grant), or raise :class:`OAuthRefusalError`."""
        grant_type = _param(params, "grant_type")
        if grant_type not in ("authorization_code", "refresh_token"):
            raise OAuthRefusalError(
                400,
                "unsupported_grant_type",
                "grant_type must be authorization_code or refresh_token",
            )
        client = self._client(params)
        self._forget_dead(now)
        if grant_type == "authorization_code":
            return self._code_grant(client, params, now)
        return self._refresh_grant(client, params, now)

    def _client(self, params: Mapping[str, object]) -> OAuthClient:
        client_id = params.get("client_id")
        secret = params.get("client_secret")
        client = self.clients.get(client_id) if isinstance(client_id, str) else None
        if (
            client is None
            or not isinstance(secret, str)
            or not secrets.compare_digest(secret.encode(), client.secret.encode())
        ):
            raise OAuthRefusalError(401, "access_denied", UNAUTHORIZED)
        return client

    def _code_grant(
        self, client: OAuthClient, params: Mapping[str, object], now: datetime
    ) -> dict[str, Any]:
        code = self.codes.get(_param(params, "code"))
        redirect_uri = _param(params, "redirect_uri")
        if (
            code is None
            or code.used
            or code.expires_at <= now
            or code.client_id != client.client_id
            or code.redirect_uri != redirect_uri
            or not _verifies(code.code_challenge, params.get("code_verifier"))
        ):
            raise OAuthRefusalError(403, "invalid_grant", INVALID_CODE)
        code.used = True
        grant = Grant("grant-" + secrets.token_hex(8), client.client_id, code.scopes, now)
        self.grants[grant.id] = grant
        return self._issue(grant, now)

    def _refresh_grant(
        self, client: OAuthClient, params: Mapping[str, object], now: datetime
    ) -> dict[str, Any]:
        value = _param(params, "refresh_token")
        token = self.refresh_tokens.get(value)
        grant = self.grants.get(token.grant_id) if token is not None else None
        if (
            token is None
            or grant is None
            or grant.client_id != client.client_id
            or not self._refresh_alive(token, grant, now)
        ):
            raise OAuthRefusalError(403, "invalid_grant", INVALID_REFRESH_TOKEN)
        if token.first_used_at is None:
            token.first_used_at = now
        return self._issue(grant, now)

    def _issue(self, grant: Grant, now: datetime) -> dict[str, Any]:
        access = "sbx-at-" + secrets.token_urlsafe(32)
        self.access_tokens[access] = AccessToken(
            grant.id,
            grant.scopes - {OFFLINE_ACCESS},
            now + timedelta(seconds=ACCESS_TOKEN_SECONDS),
        )
        answer: dict[str, Any] = {
            "access_token": access,
            "expires_in": ACCESS_TOKEN_SECONDS,
            "token_type": "Bearer",
            "scope": " ".join(sorted(grant.scopes)),
        }
        if OFFLINE_ACCESS in grant.scopes:
            refresh = "sbx-rt-" + secrets.token_urlsafe(32)
            self.refresh_tokens[refresh] = RefreshToken(grant.id, now)
            answer["refresh_token"] = refresh
        return answer

    @staticmethod
    def _refresh_alive(token: RefreshToken, grant: Grant, now: datetime) -> bool:
        if grant.revoked or now >= grant.consented_at + ABSOLUTE_LIFETIME:
            return False
        if token.first_used_at is not None:
            return now < token.first_used_at + REUSE_WINDOW
        return now < token.issued_at + UNUSED_LIFETIME

    def _forget_dead(self, now: datetime) -> None:
        """Drop what can never work again, so a saved state does not grow without end."""
        for value, token in list(self.refresh_tokens.items()):
            grant = self.grants.get(token.grant_id)
            if grant is None or not self._refresh_alive(token, grant, now):
                del self.refresh_tokens[value]
        for value, access in list(self.access_tokens.items()):
            if access.expires_at <= now:
                del self.access_tokens[value]
        for value, code in list(self.codes.items()):
            if code.used or code.expires_at <= now:
                del self.codes[value]

    # -- using and revoking tokens -------------------------------------------------------------

    def access_scopes(self, token: str, now: datetime) -> frozenset[str] | None:
        """The scopes of a live access token; None when unknown, expired or revoked."""
        access = self.access_tokens.get(token)
        if access is None or access.expires_at <= now:
            return None
        grant = self.grants.get(access.grant_id)
        if grant is None or grant.revoked:
            return None
        return access.scopes

    def revoke(self, refresh_token: str) -> bool:
        """Revoke the whole grant of a refresh token (as removing the app's access does).

        Every refresh and access token of that consent stops working; False when unknown.
        """
        token = self.refresh_tokens.get(refresh_token)
        grant = self.grants.get(token.grant_id) if token is not None else None
        if grant is None:
            return False
        grant.revoked = True
        return True

    # -- saving --------------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """Everything but the codes (they live minutes) as JSON-ready data."""
        return {
            "clients": [
                {
                    "clientId": c.client_id,
                    "clientSecret": c.secret,
                    "scopes": sorted(c.scopes),
                    "callbackUrls": list(c.callback_urls),
                }
                for c in self.clients.values()
            ],
            "grants": [
                {
                    "id": g.id,
                    "clientId": g.client_id,
                    "scopes": sorted(g.scopes),
                    "consentedAt": g.consented_at.isoformat(),
                    "revoked": g.revoked,
                }
                for g in self.grants.values()
            ],
            "refreshTokens": [
                {
                    "token": value,
                    "grantId": t.grant_id,
                    "issuedAt": t.issued_at.isoformat(),
                    "firstUsedAt": t.first_used_at.isoformat() if t.first_used_at else None,
                }
                for value, t in self.refresh_tokens.items()
            ],
            "accessTokens": [
                {
                    "token": value,
                    "grantId": t.grant_id,
                    "scopes": sorted(t.scopes),
                    "expiresAt": t.expires_at.isoformat(),
                }
                for value, t in self.access_tokens.items()
            ],
            "autoConsent": self.auto_consent,
        }

    def load(self, data: Mapping[str, Any]) -> None:
        """Add what :meth:`to_dict` saved; raises KeyError, TypeError or ValueError if bad."""
        for c in data.get("clients", []):
            self.register(
                OAuthClient(
                    str(c["clientId"]),
                    str(c["clientSecret"]),
                    frozenset(str(s) for s in c["scopes"]),
                    tuple(str(u) for u in c.get("callbackUrls", [LOOPBACK_CALLBACK])),
                )
            )
        for g in data.get("grants", []):
            self.grants[str(g["id"])] = Grant(
                str(g["id"]),
                str(g["clientId"]),
                frozenset(str(s) for s in g["scopes"]),
                _time(g["consentedAt"]),
                bool(g.get("revoked", False)),
            )
        for t in data.get("refreshTokens", []):
            first = t.get("firstUsedAt")
            self.refresh_tokens[str(t["token"])] = RefreshToken(
                str(t["grantId"]), _time(t["issuedAt"]), _time(first) if first else None
            )
        for t in data.get("accessTokens", []):
            self.access_tokens[str(t["token"])] = AccessToken(
                str(t["grantId"]), frozenset(str(s) for s in t["scopes"]), _time(t["expiresAt"])
            )
        self.auto_consent = bool(data.get("autoConsent", True))


def accessible_resources(scopes: frozenset[str]) -> list[dict[str, Any]]:
    """The sites a token with these scopes reaches: the sandbox's one site."""
    return [
        {
            "id": CLOUD_ID,
            "url": SITE_URL,
            "name": SITE_NAME,
            "scopes": sorted(scopes - {OFFLINE_ACCESS}),
            "avatarUrl": AVATAR_URL,
        }
    ]


def _verifies(challenge: str | None, verifier: object) -> bool:
    """True without a challenge, or when the verifier's S256 digest is the challenge."""
    if challenge is None:
        return True
    if not isinstance(verifier, str):
        return False
    digest = hashlib.sha256(verifier.encode()).digest()
    computed = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
    return secrets.compare_digest(computed.encode(), challenge.encode())


def _param(params: Mapping[str, object], name: str) -> str:
    value = params.get(name)
    if not isinstance(value, str) or not value:
        raise OAuthRefusalError(400, "invalid_request", f"Missing required parameter: {name}")
    return value


def _registered(redirect_uri: str, callback_urls: Iterable[str]) -> bool:
    """Whether ``redirect_uri`` is registered; a loopback one without a port matches any port."""
    if redirect_uri in callback_urls:
        return True
    parts = urlsplit(redirect_uri)
    try:
        loopback = parts.scheme == "http" and parts.hostname == "127.0.0.1" and bool(parts.port)
    except ValueError:  # a port out of range
        return False
    return loopback and urlunsplit(parts._replace(netloc="127.0.0.1")) in callback_urls


def _redirect(
    redirect_uri: str,
    state: str | None,
    *,
    code: str | None = None,
    error: str | None = None,
    description: str | None = None,
) -> str:
    extra: dict[str, str] = {}
    if code is not None:
        extra["code"] = code
    if error is not None:
        extra["error"] = error
    if description is not None:
        extra["error_description"] = description
    if state is not None:
        extra["state"] = state
    parts = urlsplit(redirect_uri)
    query = "&".join(q for q in (parts.query, urlencode(extra)) if q)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, ""))


def _time(value: object) -> datetime:
    moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)
