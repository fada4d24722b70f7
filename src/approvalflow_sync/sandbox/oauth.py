"""The sandbox's Atlassian OAuth 2.0 (3LO) side, with no HTTP, by Atlassian's documented rules.

Consent redirects at once with a code (tied to a PKCE S256 challenge when asked); an access token
lives an hour; a refresh token comes only with ``offline_access``, rotates, stays valid 10 minutes
after its first use and 90 days unused; a grant ends 365 days after the consent.
"""

# ruff: noqa: N815 - the state file keeps camelCase keys

from __future__ import annotations

import base64
import hashlib
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import Annotated, Any
from urllib.parse import urlencode, urlsplit, urlunsplit

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, PlainSerializer

from approvalflow_sync.errors import RefusalError
from approvalflow_sync.sandbox.seed import OAuthClientSeed

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
    """A grant (``owner``: its client) or a token (``owner``: its grant), alive until
    ``expiresAt``; revoking a grant moves that to the moment of revocation."""

    model_config = ConfigDict(extra="forbid")

    owner: str
    scopes: Scopes = frozenset()
    expiresAt: AwareDatetime


@dataclass(frozen=True)
class Code:
    """An authorization code: single use, short-lived, tied to the client and redirect URI."""

    client_id: str
    redirect_uri: str
    scopes: frozenset[str]
    expires_at: datetime
    challenge: str | None


class OAuthState(BaseModel):
    """Clients, grants and tokens of the sandbox's authorization server, as the state file
    keeps them; codes are not saved (they live minutes)."""

    model_config = ConfigDict(extra="forbid")

    clients: dict[str, OAuthClientSeed]
    grants: dict[str, Record] = Field(default_factory=dict)
    codes: dict[str, Code] = Field(default_factory=dict, exclude=True, repr=False)
    refreshTokens: dict[str, Record] = Field(default_factory=dict, repr=False)
    accessTokens: dict[str, Record] = Field(default_factory=dict, repr=False)
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
        Raises RefusalError when it cannot redirect at all (the browser shows an error page)."""
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
        if query.get("response_type") != "code":
            return back(error="unsupported_response_type", error_description="Use code")
        if not granted - {OFFLINE_ACCESS}:
            description = "None of the requested scopes is configured for this app"
            return back(error="invalid_scope", error_description=description)
        if not self.autoConsent:
            description = "The user declined to grant access"
            return back(error="access_denied", error_description=description)
        if challenge is not None and query.get("code_challenge_method") != "S256":
            return back(error="invalid_request", error_description="Use S256")
        code = "sbx-code-" + secrets.token_urlsafe(24)
        expires = now + CODE_LIFETIME
        self.codes[code] = Code(client.clientId, redirect_uri, granted, expires, challenge)
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
            grant_id = self._exchange_code(client, params, now)
        else:
            grant_id = self._rotate(client, params, now)
        return self._issue(grant_id, now)

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

    def _exchange_code(
        self, client: OAuthClientSeed, params: Mapping[str, object], now: datetime
    ) -> str:
        """Use up a code: a new grant of its scopes, whose id this returns."""
        key = _param(params, "code")
        code = self.codes.get(key)
        if (
            code is None
            or code.expires_at <= now
            or code.client_id != client.clientId
            or code.redirect_uri != _param(params, "redirect_uri")
            or not _verifies(code.challenge, params.get("code_verifier"))
        ):
            raise RefusalError("Invalid authorization code", 403, "invalid_grant")
        del self.codes[key]
        grant_id = "grant-" + secrets.token_hex(8)
        expires = now + ABSOLUTE_LIFETIME
        self.grants[grant_id] = Record(owner=client.clientId, scopes=code.scopes, expiresAt=expires)
        return grant_id

    def _rotate(self, client: OAuthClientSeed, params: Mapping[str, object], now: datetime) -> str:
        """Use a refresh token: from its first use it has ``REUSE_WINDOW`` left; its grant's id."""
        token = self.refreshTokens.get(_param(params, "refresh_token"))
        grant = self._live_grant(token, now)
        if token is None or grant is None or grant.owner != client.clientId:
            raise RefusalError("Unknown or invalid refresh token.", 403, "invalid_grant")
        token.expiresAt = min(token.expiresAt, now + REUSE_WINDOW)
        return token.owner

    def _issue(self, grant_id: str, now: datetime) -> dict[str, Any]:
        scopes = self.grants[grant_id].scopes
        access = "sbx-at-" + secrets.token_urlsafe(32)
        expires = now + timedelta(seconds=ACCESS_TOKEN_SECONDS)
        self.accessTokens[access] = Record(owner=grant_id, expiresAt=expires)
        answer: dict[str, Any] = {
            "access_token": access,
            "expires_in": ACCESS_TOKEN_SECONDS,
            "token_type": "Bearer",
            "scope": " ".join(sorted(scopes)),
        }
        if OFFLINE_ACCESS in scopes:
            refresh = "sbx-rt-" + secrets.token_urlsafe(32)
            self.refreshTokens[refresh] = Record(owner=grant_id, expiresAt=now + UNUSED_LIFETIME)
            answer["refresh_token"] = refresh
        return answer

    def _live_grant(self, token: Record | None, now: datetime) -> Record | None:
        """The token's grant when both are alive, else None."""
        grant = (
            self.grants.get(token.owner) if token is not None and token.expiresAt > now else None
        )
        return grant if grant is not None and grant.expiresAt > now else None

    def _forget_dead(self, now: datetime) -> None:
        """Drop what can never work again, so a saved state does not grow without end."""
        self.grants = {k: grant for k, grant in self.grants.items() if grant.expiresAt > now}
        refresh = self.refreshTokens.items()
        self.refreshTokens = {k: t for k, t in refresh if self._live_grant(t, now)}
        self.accessTokens = {k: t for k, t in self.accessTokens.items() if self._live_grant(t, now)}
        self.codes = {k: code for k, code in self.codes.items() if code.expires_at > now}

    def access_scopes(self, token: str, now: datetime) -> frozenset[str] | None:
        """The scopes of a live access token; None when unknown, expired or revoked."""
        grant = self._live_grant(self.accessTokens.get(token), now)
        return None if grant is None else grant.scopes - {OFFLINE_ACCESS}

    def revoke(self, refresh_token: str) -> bool:
        """Revoke the grant of a refresh token: every token of that consent; False if unknown.
        The grant goes (an end set to "now" would live again once a restart resets the clock)."""
        token = self.refreshTokens.get(refresh_token)
        return token is not None and self.grants.pop(token.owner, None) is not None


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
