"""Shared steps of the OAuth tests: the sandbox's admin calls and a consent acted out over HTTP."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx

from approvalflow_sync.approvalflow.oauth import TokenGrant, exchange_code
from approvalflow_sync.approvalflow.scopes import API_SCOPES, OFFLINE_ACCESS
from approvalflow_sync.retry import RetryPolicy
from approvalflow_sync.sandbox import SandboxServer

CLIENT_ID = "sandbox-client"
CLIENT_SECRET = "sandbox-secret"
REDIRECT_URI = "http://127.0.0.1:9/callback"
"""Never listened on: tests read the consent page's redirect instead of following it."""
DOCS = "12345"
FAST = RetryPolicy.no_backoff(attempts=2)


def token_url(server: SandboxServer) -> str:
    """The sandbox's token endpoint."""
    return f"{server.base_url}/oauth/token"


def resources_url(server: SandboxServer) -> str:
    """The sandbox's accessible-resources endpoint."""
    return f"{server.base_url}/oauth/token/accessible-resources"


def admin(
    server: SandboxServer, path: str, body: object | None = None, method: str = "POST"
) -> Any:
    """An admin call that must succeed; its JSON."""
    response = httpx.request(method, f"{server.admin_url}/{path}", json=body, trust_env=False)
    assert response.status_code == 200, response.text
    return response.json()


def advance(server: SandboxServer, seconds: float) -> None:
    """Move the sandbox's clock forward."""
    admin(server, "clock", {"advance": seconds})


def calls(server: SandboxServer) -> list[dict[str, Any]]:
    """The sandbox's call log."""
    logged: list[dict[str, Any]] = admin(server, "calls", method="GET")["calls"]
    return logged


def token_calls(server: SandboxServer) -> list[dict[str, Any]]:
    """The logged calls to the token endpoint."""
    return [call for call in calls(server) if call["path"] == "/oauth/token"]


def consent_code(
    server: SandboxServer,
    http: httpx.Client,
    *,
    client_id: str = CLIENT_ID,
    scopes: tuple[str, ...] = (*API_SCOPES, OFFLINE_ACCESS),
    state: str = "st-1",
) -> str:
    """Go through the consent page like a browser and return the code it redirects with.

    By default the consent covers every scope, as ``auth init --with-page-scopes`` asks.
    """
    response = http.get(
        f"{server.base_url}/authorize",
        params={
            "audience": "api.atlassian.com",
            "client_id": client_id,
            "scope": " ".join(scopes),
            "redirect_uri": REDIRECT_URI,
            "state": state,
            "response_type": "code",
            "prompt": "consent",
        },
    )
    assert response.status_code == 302, response.text
    query = parse_qs(urlsplit(response.headers["Location"]).query)
    assert query["state"] == [state]
    return query["code"][0]


def first_grant(server: SandboxServer, http: httpx.Client) -> TokenGrant:
    """A fresh consent's tokens, as ``auth init`` gets them."""
    code = consent_code(server, http)
    return exchange_code(
        http, token_url(server), CLIENT_ID, CLIENT_SECRET, code, redirect_uri=REDIRECT_URI
    )
