"""Refresh tokens against the sandbox over HTTP: rotation, the reuse window, spent tokens, expiry.

Every test starts from a real consent (consent page, then the code grant) on a fresh sandbox and
moves the sandbox's clock instead of waiting.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from auth_helpers import (
    CLIENT_ID,
    CLIENT_SECRET,
    DOCS,
    FAST,
    REDIRECT_URI,
    admin,
    advance,
    calls,
    consent_code,
    first_grant,
    token_calls,
    token_url,
)

from approvalflow_sync.approvalflow.client import ApprovalFlowClient
from approvalflow_sync.approvalflow.oauth import (
    RefreshingToken,
    exchange_code,
    exchange_refresh_token,
)
from approvalflow_sync.approvalflow.scopes import API_SCOPES
from approvalflow_sync.errors import (
    AuthenticationError,
    OAuthConnectionError,
    OAuthError,
)
from approvalflow_sync.sandbox import SandboxServer


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    with httpx.Client(trust_env=False, timeout=5) as client:
        yield client


def refresh(server: SandboxServer, http: httpx.Client, refresh_token: str) -> str:
    """Exchange a refresh token; the new refresh token."""
    grant = exchange_refresh_token(
        http, token_url(server), CLIENT_ID, CLIENT_SECRET, refresh_token, retry=FAST
    )
    assert grant.refresh_token is not None
    return grant.refresh_token


def test_the_code_grant_answers_both_tokens_and_every_scope(
    sandbox: SandboxServer, http: httpx.Client
) -> None:
    grant = first_grant(sandbox, http)
    assert grant.refresh_token
    assert grant.expires_in == 3600
    assert grant.token_type == "Bearer"
    assert grant.scopes == {*API_SCOPES, "offline_access"}


def test_a_refresh_answers_a_new_access_token_and_a_new_refresh_token(
    sandbox: SandboxServer, http: httpx.Client
) -> None:
    grant = first_grant(sandbox, http)
    assert grant.refresh_token is not None
    renewed = exchange_refresh_token(
        http, token_url(sandbox), CLIENT_ID, CLIENT_SECRET, grant.refresh_token
    )
    assert renewed.refresh_token not in (None, grant.refresh_token)
    assert renewed.access_token != grant.access_token
    with ApprovalFlowClient(sandbox.base_url, renewed.access_token, retry=FAST) as client:
        assert client.list_change_sets(DOCS) == []


def test_the_used_refresh_token_works_within_the_reuse_window_and_not_after(
    sandbox: SandboxServer, http: httpx.Client
) -> None:
    old = first_grant(sandbox, http).refresh_token
    assert old is not None
    newest = refresh(sandbox, http, old)  # starts the old token's 10-minute window
    advance(sandbox, 9 * 60 + 59)
    assert refresh(sandbox, http, old) != newest  # a parallel job within the window: fine
    advance(sandbox, 2)
    with pytest.raises(OAuthError, match="spent, expired or revoked") as spent:
        refresh(sandbox, http, old)
    assert spent.value.status == 403
    assert "(invalid_grant: Unknown or invalid refresh token.)" in str(spent.value)
    refresh(sandbox, http, newest)  # the one handed on still works


def test_a_spent_refresh_token_says_why_and_how_to_recover(
    sandbox: SandboxServer, http: httpx.Client
) -> None:
    old = first_grant(sandbox, http).refresh_token
    assert old is not None
    refresh(sandbox, http, old)
    advance(sandbox, 11 * 60)
    with pytest.raises(OAuthError, match="spent, expired or revoked") as spent:
        refresh(sandbox, http, old)
    text = str(spent.value)
    assert "403 (invalid_grant: Unknown or invalid refresh token.)" in text
    for why in ("rotate", "not stored", "90 days", "revokes"):
        assert why in text
    # Parallel jobs are fine; a token held ten minutes after another job rotated it is not.
    assert "another job refreshed the same token more than 10 minutes before this one" in text
    assert "run this job again" in text
    assert "parallel" not in text
    assert f"approvalflow-sync auth init --client-id {CLIENT_ID}" in text
    assert spent.value.exit_code == 1


def test_a_refresh_token_unused_for_90_days_is_dead(
    sandbox: SandboxServer, http: httpx.Client
) -> None:
    token = first_grant(sandbox, http).refresh_token
    assert token is not None
    advance(sandbox, 90 * 86400)
    with pytest.raises(OAuthError, match="spent, expired or revoked"):
        refresh(sandbox, http, token)


def test_a_revoked_grant_kills_its_refresh_and_access_tokens(
    sandbox: SandboxServer, http: httpx.Client
) -> None:
    grant = first_grant(sandbox, http)
    assert grant.refresh_token is not None
    newest = refresh(sandbox, http, grant.refresh_token)
    admin(sandbox, "oauth/revoke", {"refreshToken": newest})
    with pytest.raises(OAuthError, match="spent, expired or revoked"):
        refresh(sandbox, http, newest)
    with (
        ApprovalFlowClient(sandbox.base_url, grant.access_token, retry=FAST) as client,
        pytest.raises(AuthenticationError),
    ):
        client.list_change_sets(DOCS)


def test_a_wrong_client_secret_is_refused_with_401(
    sandbox: SandboxServer, http: httpx.Client
) -> None:
    token = first_grant(sandbox, http).refresh_token
    assert token is not None
    with pytest.raises(OAuthError, match="client secret is wrong") as refused:
        exchange_refresh_token(http, token_url(sandbox), CLIENT_ID, "not-the-secret", token)
    assert refused.value.status == 401
    assert "(access_denied" in str(refused.value)
    assert "client secret is wrong" in str(refused.value)
    refresh(sandbox, http, token)  # a refused client spends nothing


def test_an_app_without_offline_access_gets_no_refresh_token_and_a_clear_error(
    sandbox: SandboxServer, http: httpx.Client
) -> None:
    admin(
        sandbox,
        "oauth/clients",
        {"clientId": "online-only", "clientSecret": "s3cret-online", "scopes": list(API_SCOPES)},
    )
    code = consent_code(sandbox, http, client_id="online-only")
    with pytest.raises(OAuthError, match="offline_access was not granted") as missing:
        exchange_code(
            http,
            token_url(sandbox),
            "online-only",
            "s3cret-online",
            code,
            redirect_uri=REDIRECT_URI,
        )
    assert "offline_access" in str(missing.value)
    assert "consent again" in str(missing.value)


def test_an_access_token_expiring_mid_run_is_refreshed_once_and_the_call_succeeds(
    sandbox: SandboxServer, http: httpx.Client
) -> None:
    stored = first_grant(sandbox, http).refresh_token
    assert stored is not None
    handed_on: list[str] = []
    source = RefreshingToken(
        http, token_url(sandbox), CLIENT_ID, CLIENT_SECRET, stored, on_rotate=handed_on.append
    )
    admin(sandbox, "calls", method="DELETE")
    with ApprovalFlowClient(sandbox.base_url, source, http=http, retry=FAST) as client:
        client.list_change_sets(DOCS)
        advance(sandbox, 3601)
        client.create_change_set(DOCS, "PR-1 docs", ["67890"])
        assert [cs.title for cs in client.list_change_sets(DOCS)] == ["PR-1 docs"]
    assert [(c["method"], c["path"], c["status"]) for c in calls(sandbox)] == [
        ("POST", "/oauth/token", 200),
        ("GET", "/changeSets", 200),
        ("POST", "/changeSets", 401),
        ("POST", "/oauth/token", 200),
        ("POST", "/changeSets", 200),
        ("GET", "/changeSets", 200),
    ]
    assert handed_on == [handed_on[0], source.refresh_token]
    assert len(set(handed_on)) == 2
    assert stored not in handed_on


def test_a_refresh_that_fails_after_a_401_ends_the_call_without_a_loop(
    sandbox: SandboxServer, http: httpx.Client
) -> None:
    stored = first_grant(sandbox, http).refresh_token
    assert stored is not None
    source = RefreshingToken(http, token_url(sandbox), CLIENT_ID, CLIENT_SECRET, stored, retry=FAST)
    with ApprovalFlowClient(sandbox.base_url, source, http=http, retry=FAST) as client:
        client.list_change_sets(DOCS)
        admin(sandbox, "oauth/revoke", {"refreshToken": source.refresh_token})
        admin(sandbox, "calls", method="DELETE")
        with pytest.raises(OAuthError, match="spent, expired or revoked"):
            client.list_change_sets(DOCS)
    assert [(c["path"], c["status"]) for c in calls(sandbox)] == [
        ("/changeSets", 401),
        ("/oauth/token", 403),
    ]


def test_a_failing_write_back_propagates_and_the_new_token_is_still_kept(
    sandbox: SandboxServer, http: httpx.Client
) -> None:
    stored = first_grant(sandbox, http).refresh_token
    assert stored is not None

    def broken_store(_token: str) -> None:
        raise RuntimeError("GitHub is down")

    source = RefreshingToken(
        http, token_url(sandbox), CLIENT_ID, CLIENT_SECRET, stored, on_rotate=broken_store
    )
    with pytest.raises(RuntimeError, match="GitHub is down"):
        source.start()
    assert source.refresh_token != stored
    refresh(sandbox, http, source.refresh_token)


def test_a_busy_token_endpoint_is_retried_and_the_refresh_still_works(
    sandbox: SandboxServer, http: httpx.Client
) -> None:
    stored = first_grant(sandbox, http).refresh_token
    assert stored is not None
    admin(sandbox, "faults", {"path": "/oauth/token", "status": 503, "retryAfter": "0"})
    assert refresh(sandbox, http, stored)
    assert [call["status"] for call in token_calls(sandbox)][-2:] == [503, 200]
    admin(sandbox, "faults", {"path": "/oauth/token", "status": 503, "count": 5})
    with pytest.raises(OAuthConnectionError) as busy:
        refresh(sandbox, http, stored)
    assert busy.value.status == 503


def test_a_code_is_single_use(sandbox: SandboxServer, http: httpx.Client) -> None:
    code = consent_code(sandbox, http)
    exchange_code(
        http, token_url(sandbox), CLIENT_ID, CLIENT_SECRET, code, redirect_uri=REDIRECT_URI
    )
    with pytest.raises(OAuthError, match="authorization code was already used") as used:
        exchange_code(
            http, token_url(sandbox), CLIENT_ID, CLIENT_SECRET, code, redirect_uri=REDIRECT_URI
        )
    assert "authorization code" in str(used.value)
    assert "auth init" in str(used.value)
