"""No secret in any error text, ``repr`` or log record, whatever fails along the OAuth path.

One scenario drives every failure the token code knows, at DEBUG logging, and collects every
secret it meets (client secret, codes, access and refresh tokens, the GitHub token); then each
error's ``str``, ``repr`` and fields, each object's ``repr`` and the whole log are searched.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable

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
    consent_code,
    resources_url,
    token_url,
)

from approvalflow_sync.approvalflow.client import ApprovalFlowClient
from approvalflow_sync.approvalflow.oauth import (
    RefreshingToken,
    accessible_resources,
    exchange_code,
    exchange_refresh_token,
)
from approvalflow_sync.approvalflow.scopes import API_SCOPES
from approvalflow_sync.cli.auth import SecretSink
from approvalflow_sync.errors import ApprovalFlowSyncError
from approvalflow_sync.github.secrets import parse_secret_target, write_secret
from approvalflow_sync.sandbox import SandboxServer
from fakes.github import ACTIONS_TOKEN, FakeGitHub

REPO = "Codertocat/Hello-World"


def caught(action: Callable[[], object]) -> ApprovalFlowSyncError:
    with pytest.raises(ApprovalFlowSyncError) as failure:
        action()
    return failure.value


def test_no_secret_shows_in_errors_reprs_or_logs(
    sandbox: SandboxServer, caplog: pytest.LogCaptureFixture
) -> None:
    url = token_url(sandbox)
    secrets: set[str] = {CLIENT_SECRET, "s3cret-online", ACTIONS_TOKEN}
    shown: list[object] = []
    online = "online-only"
    admin(
        sandbox,
        "oauth/clients",
        {"clientId": online, "clientSecret": "s3cret-online", "scopes": list(API_SCOPES)},
    )
    with httpx.Client(trust_env=False, timeout=5) as http, FakeGitHub() as github:
        github.add_repository(full_name=REPO)
        # the browser's part (its own log holds the codes, as a browser's history would)
        code = consent_code(sandbox, http)
        online_code = consent_code(sandbox, http, client_id=online)
        secrets |= {code, online_code}
        caplog.set_level(logging.DEBUG)

        grant = exchange_code(http, url, CLIENT_ID, CLIENT_SECRET, code, redirect_uri=REDIRECT_URI)
        assert grant.refresh_token is not None
        secrets |= {grant.access_token, grant.refresh_token}
        shown += [grant, str(grant)]
        no_offline = caught(
            lambda: exchange_code(
                http, url, online, "s3cret-online", online_code, redirect_uri=REDIRECT_URI
            )
        )

        rotated: list[str] = []
        source = RefreshingToken(
            http, url, CLIENT_ID, CLIENT_SECRET, grant.refresh_token, on_rotate=rotated.append
        )
        with ApprovalFlowClient(sandbox.base_url, source, retry=FAST) as client:
            client.list_change_sets(DOCS)
            advance(sandbox, 3601)
            client.list_change_sets(DOCS)
        assert source.grant is not None
        newest = rotated[-1]
        secrets |= {*rotated, source.grant.access_token, "wrong-secret-1", "s3cret-online"}
        shown += [source, source.grant, client]

        def refresh(token: str, *, secret: str = CLIENT_SECRET, at: str = url) -> object:
            return exchange_refresh_token(http, at, CLIENT_ID, secret, token, retry=FAST)

        def later(seconds: float, then: Callable[[], object]) -> Callable[[], object]:
            def run() -> object:
                advance(sandbox, seconds)
                return then()

            return run

        def faulty(fault: dict[str, object], then: Callable[[], object]) -> Callable[[], object]:
            def run() -> object:
                admin(sandbox, "faults", fault)
                return then()

            return run

        echo = {"error": "invalid_request", "error_description": f"bad token {newest}"}
        echoing = {"path": "/oauth/token", "status": 400, "body": json.dumps(echo)}
        failures: list[Callable[[], object]] = [
            lambda: exchange_code(
                http, url, CLIENT_ID, CLIENT_SECRET, code, redirect_uri=REDIRECT_URI
            ),
            lambda: refresh(newest, secret="wrong-secret-1"),
            later(700, lambda: refresh(grant.refresh_token or "")),
            faulty({**echoing, "contentType": "application/json"}, lambda: refresh(newest)),
            faulty({"path": "/oauth/token", "status": 503, "count": 2}, lambda: refresh(newest)),
            lambda: accessible_resources(http, resources_url(sandbox), grant.access_token),
            lambda: refresh(newest, at="http://127.0.0.1:9/oauth/token"),
            lambda: write_secret(github.api_url, ACTIONS_TOKEN, "NAME", newest, repo=REPO),
        ]
        errors = [no_offline, *(caught(failure) for failure in failures)]
        shown.append(SecretSink(parse_secret_target("NAME", REPO), github.api_url, ACTIONS_TOKEN))

    assert len(errors) == 9
    said = " ".join(str(e) for e in errors)
    for kind in ("code was already used", "secret is wrong", "spent, expired", "busy or failing"):
        assert kind in said
    assert "offline_access was not granted" in said
    assert {type(e).__name__ for e in errors} >= {"OAuthConnectionError", "SecretWriteError"}
    texts = [str(e) for e in errors] + [repr(e) for e in errors]
    texts += [repr(value) for e in errors for value in vars(e).values()]
    texts += [repr(item) for item in shown]
    texts.append(caplog.text)
    assert "invalid_request: bad token <hidden>" in " ".join(texts)
    for secret in secrets:
        for text in texts:
            assert secret not in text, f"a secret leaked into: {text[:200]}"
