"""The sandbox's Atlassian OAuth 2.0 (3LO) side, with no HTTP: consent, codes, tokens, rotation.

The rules copy what Atlassian documents (``approvalflow-api.md``, last section): the consent page
redirects at once with a code (tied to a PKCE S256 challenge when asked); an access token lives
an hour; a refresh token comes only with ``offline_access``, rotates on every use, stays valid
10 minutes after its first use and 90 days unused; a grant ends 365 days after the consent.
Refusals answer Atlassian's texts. Times come from the caller (the sandbox's clock).
"""

# ruff: noqa: N815 - the state file keeps camelCase keys

from __future__ import annotations

import base64
import hashlib
import secrets
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from functools import partial
from typing import Annotated, Any
from urllib.parse import urlencode, urlsplit, urlunsplit

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, PlainSerializer

from approvalflow_sync.sandbox.seed import OAuthClientSeed, RefusalError

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
AVATAR_URL = "https://site-admin-avatar-cdn.prod.public.atl-paas.net/avatars/240/rocket.png"

Scopes = Annotated[frozenset[str], PlainSerializer(sorted, return_type=list[str])]


class Record(BaseModel):
    """A part of the authorization server's state, as the state file keeps it."""

    model_config = ConfigDict(extra="forbid")


class Grant(Record):
    """One consent of the user to one client: the family of its tokens."""

    clientId: str
    scopes: Scopes
    consentedAt: AwareDatetime
    revoked: bool = False


class AuthCode(Record):
    """An authorization code: single use, short-lived, tied to the client and redirect URI."""

    clientId: str
    redirectUri: str
    scopes: Scopes
    expiresAt: AwareDatetime
    used: bool = False
    codeChallenge: str | None = None


class RefreshToken(Record):
    """A rotating refresh token; ``firstUsedAt`` starts its reuse window."""

    grantId: str
    issuedAt: AwareDatetime
    firstUsedAt: AwareDatetime | None = None


class AccessToken(Record):
    """An access token; the API accepts it with ``scopes`` until ``expiresAt``."""

    grantId: str
    scopes: Scopes
    expiresAt: AwareDatetime


class OAuthState(Record):
    """Clients, codes, grants and tokens of the sandbox's authorization server."""

    clients: dict[str, OAuthClientSeed]
    grants: dict[str, Grant] = Field(default_factory=dict)
    codes: dict[str, AuthCode] = Field(default_factory=dict, exclude=True, repr=False)
    """Not saved: they live minutes."""
    refreshTokens: dict[str, RefreshToken] = Field(default_factory=dict, repr=False)
    accessTokens: dict[str, AccessToken] = Field(default_factory=dict, repr=False)
    autoConsent: bool = True
    """False: the user declines on the consent page (redirect with ``error=access_denied``)."""

    @classmethod
    def from_seed(cls, clients: Iterable[OAuthClientSeed], api_scopes: Iterable[str]) -> OAuthState:
        """The default client (every API scope and ``offline_access``) plus the seed's clients."""
        default = OAuthClientSeed(
            clientId=DEFAULT_CLIENT_ID,
            clientSecret=DEFAULT_CLIENT_SECRET,
            scopes=[*api_scopes, OFFLINE_ACCESS],
        )
        return cls(clients={client.clientId: client for client in (default, *clients)})

    def consent(self, query: Mapping[str, str], now: datetime) -> str:
        """Where the consent page sends the browser: the redirect URI with a code or an error.

        Raises RefusalError when it cannot redirect at all (the browser shows an error page).
        """
        client = self.clients.get(query.get("client_id", ""))
        if client is None:
            raise RefusalError("Unknown client_id: this app is not registered")
        redirect_uri = query.get("redirect_uri", "")
        parts = urlsplit(redirect_uri)
        if parts.scheme not in ("http", "https") or not parts.netloc or parts.fragment:
            raise RefusalError("redirect_uri is missing or not an absolute URL")
        if not _registered(redirect_uri, client.callbackUrls):
            raise RefusalError(
                "redirect_uri does not match the callback URL registered for this app"
            )
        if query.get("audience") != AUDIENCE:
            raise RefusalError(f"audience must be {AUDIENCE}")
        back = partial(_redirect, redirect_uri, query.get("state"))
        granted = frozenset(query.get("scope", "").split()) & frozenset(client.scopes)
        challenge = query.get("code_challenge") or None
        refusals = (
            (query.get("response_type") != "code", "unsupported_response_type", "Use code"),
            (
                not granted - {OFFLINE_ACCESS},
                "invalid_scope",
                "None of the requested scopes is configured for this app",
            ),
            (not self.autoConsent, "access_denied", "The user declined to grant access"),
            (
                challenge is not None and query.get("code_challenge_method") != "S256",
                "invalid_request",
                "Use S256",
            ),
        )
        for refused, error, description in refusals:
            if refused:
                return back(error=error, error_description=description)
        code = "sbx-code-" + secrets.token_urlsafe(24)
        self.codes[code] = AuthCode(
            clientId=client.clientId,
            redirectUri=redirect_uri,
            scopes=granted,
            expiresAt=now + CODE_LIFETIME,
            codeChallenge=challenge,
        )
        return back(code=code)

    def token(self, params: Mapping[str, object], now: datetime) -> dict[str, Any]:
        """Answer one token request (either grant), or raise RefusalError with OAuth's code."""
        grant_type = _param(params, "grant_type")
        if grant_type not in ("authorization_code", "refresh_token"):
            raise RefusalError(
                "grant_type must be authorization_code or refresh_token",
                error="unsupported_grant_type",
            )
        client = self._client(params)
        self._forget_dead(now)
        if grant_type == "authorization_code":
            return self._code_grant(client, params, now)
        return self._refresh_grant(client, params, now)

    def _client(self, params: Mapping[str, object]) -> OAuthClientSeed:
        client_id = params.get("client_id")
        secret = params.get("client_secret")
        client = self.clients.get(client_id) if isinstance(client_id, str) else None
        if (
            client is None
            or not isinstance(secret, str)
            or not secrets.compare_digest(secret.encode(), client.clientSecret.encode())
        ):
            raise RefusalError("Unauthorized", 401, "access_denied")
        return client

    def _code_grant(
        self, client: OAuthClientSeed, params: Mapping[str, object], now: datetime
    ) -> dict[str, Any]:
        code = self.codes.get(_param(params, "code"))
        if (
            code is None
            or code.used
            or code.expiresAt <= now
            or code.clientId != client.clientId
            or code.redirectUri != _param(params, "redirect_uri")
            or not _verifies(code.codeChallenge, params.get("code_verifier"))
        ):
            raise RefusalError("Invalid authorization code", 403, "invalid_grant")
        code.used = True
        grant_id = "grant-" + secrets.token_hex(8)
        self.grants[grant_id] = Grant(clientId=client.clientId, scopes=code.scopes, consentedAt=now)
        return self._issue(grant_id, now)

    def _refresh_grant(
        self, client: OAuthClientSeed, params: Mapping[str, object], now: datetime
    ) -> dict[str, Any]:
        token = self.refreshTokens.get(_param(params, "refresh_token"))
        if (
            token is None
            or not self._refresh_alive(token, now)
            or self.grants[token.grantId].clientId != client.clientId
        ):
            raise RefusalError("Unknown or invalid refresh token.", 403, "invalid_grant")
        token.firstUsedAt = token.firstUsedAt or now
        return self._issue(token.grantId, now)

    def _issue(self, grant_id: str, now: datetime) -> dict[str, Any]:
        scopes = self.grants[grant_id].scopes
        access = "sbx-at-" + secrets.token_urlsafe(32)
        expires = now + timedelta(seconds=ACCESS_TOKEN_SECONDS)
        self.accessTokens[access] = AccessToken(
            grantId=grant_id, scopes=scopes - {OFFLINE_ACCESS}, expiresAt=expires
        )
        answer: dict[str, Any] = {
            "access_token": access,
            "expires_in": ACCESS_TOKEN_SECONDS,
            "token_type": "Bearer",
            "scope": " ".join(sorted(scopes)),
        }
        if OFFLINE_ACCESS in scopes:
            refresh = "sbx-rt-" + secrets.token_urlsafe(32)
            self.refreshTokens[refresh] = RefreshToken(grantId=grant_id, issuedAt=now)
            answer["refresh_token"] = refresh
        return answer

    def _refresh_alive(self, token: RefreshToken, now: datetime) -> bool:
        grant = self.grants.get(token.grantId)
        if grant is None or grant.revoked or now >= grant.consentedAt + ABSOLUTE_LIFETIME:
            return False
        if token.firstUsedAt is not None:
            return now < token.firstUsedAt + REUSE_WINDOW
        return now < token.issuedAt + UNUSED_LIFETIME

    def _forget_dead(self, now: datetime) -> None:
        """Drop what can never work again, so a saved state does not grow without end."""
        refresh = self.refreshTokens.items()
        self.refreshTokens = {k: t for k, t in refresh if self._refresh_alive(t, now)}
        self.accessTokens = {k: t for k, t in self.accessTokens.items() if t.expiresAt > now}
        self.codes = {k: c for k, c in self.codes.items() if not c.used and c.expiresAt > now}

    def access_scopes(self, token: str, now: datetime) -> frozenset[str] | None:
        """The scopes of a live access token; None when unknown, expired or revoked."""
        access = self.accessTokens.get(token)
        if access is None or access.expiresAt <= now:
            return None
        grant = self.grants.get(access.grantId)
        return None if grant is None or grant.revoked else access.scopes

    def revoke(self, refresh_token: str) -> bool:
        """Revoke the grant of a refresh token: every token of that consent; False if unknown."""
        token = self.refreshTokens.get(refresh_token)
        grant = self.grants.get(token.grantId) if token is not None else None
        if grant is not None:
            grant.revoked = True
        return grant is not None


def accessible_resources(scopes: frozenset[str]) -> list[dict[str, Any]]:
    """The sites a token with these scopes reaches: the sandbox's one site."""
    return [
        {
            "id": CLOUD_ID,
            "url": SITE_URL,
            "name": "sandbox",
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
        raise RefusalError(f"Missing required parameter: {name}", error="invalid_request")
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


def _redirect(redirect_uri: str, state: str | None, **params: str) -> str:
    """``redirect_uri`` with ``params`` and the client's ``state`` added to its query."""
    parts = urlsplit(redirect_uri)
    added = urlencode(params | ({} if state is None else {"state": state}))
    return urlunsplit(parts._replace(query="&".join(q for q in (parts.query, added) if q)))
