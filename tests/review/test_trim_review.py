"""Adversarial review of issue 11's trims (six branches, "every behaviour kept"): each finding is a
test of the behaviour the trim lost, against the real program on loopback (or httpx's
MockTransport for one layer). A fixed finding's test passes; an open one is xfail (strict).
"""

from __future__ import annotations

import json
import socket
import threading
import traceback
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from approvalflow_sync.approvalflow.oauth import RefreshingToken, exchange_code
from approvalflow_sync.approvalflow.scopes import API_SCOPES, OFFLINE_ACCESS
from approvalflow_sync.errors import ConfigError, OAuthConnectionError
from approvalflow_sync.retry import RetryPolicy
from approvalflow_sync.sandbox import SandboxServer
from approvalflow_sync.sandbox.server import read_state

CLIENT_ID = "sandbox-client"
CLIENT_SECRET = "sandbox-secret"
REDIRECT_URI = "http://127.0.0.1:9/callback"


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    with httpx.Client(trust_env=False, timeout=5) as client:
        yield client


def _admin(server: SandboxServer, http: httpx.Client, path: str, body: object) -> None:
    response = http.post(f"{server.admin_url}/{path}", json=body)
    assert response.status_code == 200, response.text


def _refresh_token(server: SandboxServer, http: httpx.Client) -> str:
    """A consent acted out over HTTP, its code traded: the refresh token ``auth init`` stores."""
    consent = http.get(
        f"{server.base_url}/authorize",
        params={
            "audience": "api.atlassian.com",
            "client_id": CLIENT_ID,
            "scope": " ".join((*API_SCOPES, OFFLINE_ACCESS)),
            "redirect_uri": REDIRECT_URI,
            "state": "st",
            "response_type": "code",
        },
    )
    code = parse_qs(urlsplit(consent.headers["Location"]).query)["code"][0]
    token_url = f"{server.base_url}/oauth/token"
    grant = exchange_code(
        http, token_url, CLIENT_ID, CLIENT_SECRET, code, redirect_uri=REDIRECT_URI
    )
    assert grant.refresh_token
    return grant.refresh_token


def _refresh(server: SandboxServer, http: httpx.Client, refresh_token: str) -> httpx.Response:
    return http.post(
        f"{server.base_url}/oauth/token",
        json={
            "grant_type": "refresh_token",
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
            "refresh_token": refresh_token,
        },
    )


# -- finding 1: the sandbox's revocation became a time, which a restart moves -------------------


def test_finding_1_a_revoked_grant_stays_revoked_after_a_restart(
    tmp_path: Path, http: httpx.Client
) -> None:
    """The merged OAuth records revoke by moving the grant's end to "now" on the sandbox clock;
    the clock's offset is not saved, so after a restart the revoked grant lived again (the
    ``revoked`` flag it replaced was kept in the state file)."""
    state_file = tmp_path / "state.json"
    with SandboxServer(state_file=state_file) as server:
        _admin(server, http, "clock", {"advance": 86400})  # a test moved the clock a day on
        refresh_token = _refresh_token(server, http)
        _admin(server, http, "oauth/revoke", {"refreshToken": refresh_token})
    with SandboxServer(state_file=state_file) as server:
        answer = _refresh(server, http, refresh_token)
        assert answer.status_code == 403, answer.text
        assert answer.json()["error"] == "invalid_grant"


# -- finding 2: a state file of the previous version was refused as if it were malformed --------


def test_finding_2_an_old_state_file_is_refused_by_its_format_with_the_cure(
    tmp_path: Path,
) -> None:
    """The OAuth records changed shape while ``STATE_FORMAT`` stayed 1: a state file saved by
    the previous version after a consent was refused as "not a sandbox state file (format 1):
    oauth.grants.grant-1.clientId: unknown field", naming the file's own format and no cure."""
    state_file = tmp_path / "state.json"
    with SandboxServer(state_file=state_file):
        pass
    saved = json.loads(state_file.read_text(encoding="utf-8"))
    saved["format"] = 1
    saved["oauth"]["grants"] = {
        "grant-1": {
            "clientId": CLIENT_ID,
            "scopes": [OFFLINE_ACCESS],
            "consentedAt": "2026-01-01T00:00:00Z",
            "revoked": False,
        }
    }
    state_file.write_text(json.dumps(saved), encoding="utf-8")
    with pytest.raises(ConfigError) as refused:
        read_state(state_file)
    message = str(refused.value)
    assert "\n" not in message
    assert "format" in message.split(":")[-2] or "format" in message
    assert "clientId" not in message  # the format is the problem, not one of its fields
    assert "delete it to start from the seed" in message


# -- checked and sound: guards for what the trims changed ----------------------------------------


def test_a_token_endpoint_failure_chains_no_secret_into_its_traceback() -> None:
    """Token-endpoint errors now chain httpx's error as ``__cause__`` (it was ``from None``):
    the whole traceback ``--debug`` prints must still hold no secret of the request."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)

    def hang_up() -> None:  # reads the request (secrets included), answers nothing
        while True:
            try:
                connection, _ = listener.accept()
            except OSError:
                return
            with connection:
                connection.recv(65536)

    threading.Thread(target=hang_up, daemon=True).start()
    secret, refresh_token = "client-secret-S3CR3T", "refresh-token-R3FR3SH"
    url = f"http://127.0.0.1:{listener.getsockname()[1]}/oauth/token"
    with httpx.Client(trust_env=False, timeout=5) as client:
        source = RefreshingToken(
            client, url, CLIENT_ID, secret, refresh_token, retry=RetryPolicy.no_backoff(2)
        )
        with pytest.raises(OAuthConnectionError) as failed:
            source.start()
    listener.close()
    assert isinstance(failed.value.__cause__, httpx.RequestError)
    shown = "".join(traceback.format_exception(failed.value)) + repr(source)
    assert secret not in shown
    assert refresh_token not in shown
