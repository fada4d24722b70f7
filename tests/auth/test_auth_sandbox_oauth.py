"""The sandbox's authorization server on the wire: shapes, refusals, admin surface, the call log.

Plain httpx on purpose, as the other sandbox contract tests: these pin what the sandbox answers.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from auth_helpers import (
    CLIENT_ID,
    CLIENT_SECRET,
    DOCS,
    REDIRECT_URI,
    admin,
    advance,
    calls,
    consent_code,
    first_grant,
    resources_url,
    token_url,
)

from approvalflow_sync.approvalflow.oauth import TokenGrant, exchange_code, pkce_pair
from approvalflow_sync.errors import ConfigError, OAuthError
from approvalflow_sync.sandbox import DEFAULT_TOKEN, SandboxServer
from approvalflow_sync.sandbox.oauth import CLOUD_ID
from approvalflow_sync.sandbox.seed import LOOPBACK_CALLBACK, validate_seed


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    with httpx.Client(trust_env=False, timeout=5) as client:
        yield client


def authorize(server: SandboxServer, http: httpx.Client, **overrides: str) -> httpx.Response:
    params = {
        "audience": "api.atlassian.com",
        "client_id": CLIENT_ID,
        "scope": "read:forge-app:confluence offline_access",
        "redirect_uri": REDIRECT_URI,
        "state": "xyz",
        "response_type": "code",
    }
    params.update(overrides)
    return http.get(f"{server.base_url}/authorize", params=params)


def redirect_query(response: httpx.Response) -> dict[str, list[str]]:
    assert response.status_code == 302, response.text
    return parse_qs(urlsplit(response.headers["Location"]).query)


def test_a_token_answer_has_atlassians_fields(sandbox: SandboxServer, http: httpx.Client) -> None:
    code = consent_code(sandbox, http)
    response = http.post(
        token_url(sandbox),
        json={
            "grant_type": "authorization_code",
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
            "code": code,
            "redirect_uri": REDIRECT_URI,
        },
    )
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"access_token", "expires_in", "token_type", "scope", "refresh_token"}
    assert (body["expires_in"], body["token_type"]) == (3600, "Bearer")


def test_the_token_endpoint_also_takes_a_form_body(
    sandbox: SandboxServer, http: httpx.Client
) -> None:
    token = first_grant(sandbox, http).refresh_token
    form = {
        "grant_type": "refresh_token",
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
        "refresh_token": token,
    }
    response = http.post(token_url(sandbox), data=form)
    assert response.status_code == 200, response.text
    assert response.json()["refresh_token"] != token


@pytest.mark.parametrize(
    ("body", "status", "error"),
    [
        ({"grant_type": "password"}, 400, "unsupported_grant_type"),
        ({"grant_type": "refresh_token", "client_id": CLIENT_ID}, 401, "access_denied"),
        (
            {"grant_type": "refresh_token", "client_id": CLIENT_ID, "client_secret": "no"},
            401,
            "access_denied",
        ),
        (
            {"grant_type": "refresh_token", "client_id": "ghost", "client_secret": CLIENT_SECRET},
            401,
            "access_denied",
        ),
        (
            {"grant_type": "refresh_token", "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET},
            400,
            "invalid_request",
        ),
        (
            {
                "grant_type": "refresh_token",
                "client_id": CLIENT_ID,
                "client_secret": CLIENT_SECRET,
                "refresh_token": "made-up",
            },
            403,
            "invalid_grant",
        ),
    ],
)
def test_refused_token_requests_answer_the_oauth_error_shape(
    sandbox: SandboxServer, http: httpx.Client, body: dict[str, str], status: int, error: str
) -> None:
    response = http.post(token_url(sandbox), json=body)
    assert response.status_code == status
    assert set(response.json()) == {"error", "error_description"}
    assert response.json()["error"] == error


def test_an_unknown_refresh_token_answers_atlassians_exact_text(
    sandbox: SandboxServer, http: httpx.Client
) -> None:
    response = http.post(
        token_url(sandbox),
        json={
            "grant_type": "refresh_token",
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
            "refresh_token": "made-up",
        },
    )
    assert response.json() == {
        "error": "invalid_grant",
        "error_description": "Unknown or invalid refresh token.",
    }


def test_the_consent_page_redirects_with_a_code_and_echoes_state(
    sandbox: SandboxServer, http: httpx.Client
) -> None:
    query = redirect_query(authorize(sandbox, http))
    assert query["state"] == ["xyz"]
    assert query["code"][0]


def test_a_code_asked_for_with_pkce_needs_its_verifier(
    sandbox: SandboxServer, http: httpx.Client
) -> None:
    verifier, challenge = pkce_pair()
    pkce = {"code_challenge": challenge, "code_challenge_method": "S256"}

    def trade(code_verifier: str | None) -> TokenGrant:
        code = redirect_query(authorize(sandbox, http, **pkce))["code"][0]
        return exchange_code(
            http,
            token_url(sandbox),
            CLIENT_ID,
            CLIENT_SECRET,
            code,
            redirect_uri=REDIRECT_URI,
            code_verifier=code_verifier,
        )

    for wrong in (None, pkce_pair()[0]):
        with pytest.raises(OAuthError, match="authorization code was already used"):
            trade(wrong)
    assert trade(verifier).refresh_token
    plain = redirect_query(
        authorize(sandbox, http, code_challenge_method="plain", code_challenge=verifier)
    )
    assert plain["error"] == ["invalid_request"]


@pytest.mark.parametrize(
    ("overrides", "problem"),
    [
        ({"client_id": "ghost"}, "Unknown client_id"),
        ({"redirect_uri": "not a url"}, "redirect_uri"),
        ({"audience": "example.com"}, "audience"),
    ],
)
def test_the_consent_page_shows_an_error_page_when_it_cannot_redirect(
    sandbox: SandboxServer, http: httpx.Client, overrides: dict[str, str], problem: str
) -> None:
    response = authorize(sandbox, http, **overrides)
    assert response.status_code == 400
    assert problem in response.text


@pytest.mark.parametrize(
    "redirect_uri",
    [
        "https://attacker.example/callback",
        "http://127.0.0.1.attacker.example:8765/callback",
        "http://localhost:8765/callback",
        "https://127.0.0.1:8765/callback",
        "http://127.0.0.1:8765/other",
        "http://127.0.0.1:8765/callback?next=https://attacker.example",
        "http://127.0.0.1:99999/callback",
    ],
)
def test_the_default_client_redirects_only_to_auth_inits_loopback_callback(
    sandbox: SandboxServer, http: httpx.Client, redirect_uri: str
) -> None:
    refused = authorize(sandbox, http, redirect_uri=redirect_uri)
    assert refused.status_code == 400, "a fresh code went to an unregistered redirect_uri"
    assert "does not match the callback URL" in refused.text
    for port in (8765, 9, 51234):  # auth init --port, any port (RFC 8252, 7.3)
        good = authorize(sandbox, http, redirect_uri=f"http://127.0.0.1:{port}/callback")
        assert redirect_query(good)["code"]


def test_a_registered_callback_url_must_match(sandbox: SandboxServer, http: httpx.Client) -> None:
    admin(
        sandbox,
        "oauth/clients",
        {
            "clientId": "strict",
            "clientSecret": "s3cret-strict",
            "scopes": ["read:forge-app:confluence", "offline_access"],
            "callbackUrls": ["http://127.0.0.1:8765/callback"],
        },
    )
    assert authorize(sandbox, http, client_id="strict").status_code == 400
    good = authorize(
        sandbox, http, client_id="strict", redirect_uri="http://127.0.0.1:8765/callback"
    )
    assert redirect_query(good)["code"]


def test_a_declined_consent_redirects_with_access_denied(
    sandbox: SandboxServer, http: httpx.Client
) -> None:
    admin(sandbox, "oauth/consent", {"approve": False})
    query = redirect_query(authorize(sandbox, http))
    assert query["error"] == ["access_denied"]
    assert query["state"] == ["xyz"]
    assert "code" not in query


def test_scopes_the_app_lacks_are_not_granted(sandbox: SandboxServer, http: httpx.Client) -> None:
    query = redirect_query(authorize(sandbox, http, scope="read:jira-work offline_access"))
    assert query["error"] == ["invalid_scope"]


def test_accessible_resources_lists_the_site_with_the_tokens_scopes(
    sandbox: SandboxServer, http: httpx.Client
) -> None:
    assert http.get(resources_url(sandbox)).status_code == 401
    grant = first_grant(sandbox, http)
    sites = http.get(
        resources_url(sandbox), headers={"Authorization": f"Bearer {grant.access_token}"}
    ).json()
    assert len(sites) == 1
    assert sites[0]["id"] == CLOUD_ID
    assert sites[0]["url"] == "https://sandbox.atlassian.net"
    assert "offline_access" not in sites[0]["scopes"]
    assert set(sites[0]) == {"id", "url", "name", "scopes", "avatarUrl"}


def test_an_access_token_expires_after_an_hour_on_the_sandbox_clock(
    sandbox: SandboxServer, http: httpx.Client
) -> None:
    headers = {"Authorization": f"Bearer {first_grant(sandbox, http).access_token}"}
    listing = f"{sandbox.base_url}/changeSets"
    advance(sandbox, 3599)
    assert http.get(listing, params={"spaceId": DOCS}, headers=headers).status_code == 200
    advance(sandbox, 1)
    assert http.get(listing, params={"spaceId": DOCS}, headers=headers).status_code == 401
    static = {"Authorization": f"Bearer {DEFAULT_TOKEN}"}
    assert http.get(listing, params={"spaceId": DOCS}, headers=static).status_code == 200


def test_the_clock_only_moves_forward(sandbox: SandboxServer, http: httpx.Client) -> None:
    before = admin(sandbox, "clock", method="GET")
    assert before["offsetSeconds"] == 0
    assert admin(sandbox, "clock", {"advance": 90})["offsetSeconds"] == 90
    refused = http.post(f"{sandbox.admin_url}/clock", json={"advance": -1})
    assert refused.status_code == 400


def test_the_call_log_keeps_no_secret(sandbox: SandboxServer, http: httpx.Client) -> None:
    grant = first_grant(sandbox, http)
    http.post(
        token_url(sandbox),
        data={
            "grant_type": "refresh_token",
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
            "refresh_token": grant.refresh_token,
        },
    )
    logged = str(calls(sandbox))
    assert "/oauth/token" in logged
    assert CLIENT_ID in logged
    assert grant.refresh_token is not None
    for secret in (CLIENT_SECRET, grant.access_token, grant.refresh_token, "st-1", "sbx-"):
        assert secret not in logged


def test_revoking_an_unknown_refresh_token_is_refused(
    sandbox: SandboxServer, http: httpx.Client
) -> None:
    response = http.post(f"{sandbox.admin_url}/oauth/revoke", json={"refreshToken": "nope"})
    assert response.status_code == 400


def test_seeds_can_bring_oauth_clients_and_are_checked() -> None:
    seed = validate_seed(
        {"spaces": [], "oauthClients": [{"clientId": "a", "clientSecret": "b", "scopes": []}]}
    )
    assert [client.model_dump() for client in seed.oauthClients] == [
        {"clientId": "a", "clientSecret": "b", "scopes": [], "callbackUrls": [LOOPBACK_CALLBACK]}
    ]
    with pytest.raises(ConfigError, match=r"oauthClients\[0\]\.clientSecret"):
        validate_seed({"spaces": [], "oauthClients": [{"clientId": "a", "scopes": []}]})


def test_a_seeded_client_and_the_default_one_both_work(http: httpx.Client) -> None:
    seed = {
        "spaces": [{"id": DOCS}],
        "oauthClients": [
            {"clientId": "mine", "clientSecret": "s3cret-mine", "scopes": ["offline_access"]}
        ],
    }
    with SandboxServer(seed=seed) as server:
        assert redirect_query(authorize(server, http, client_id="mine", scope="offline_access"))[
            "error"
        ] == ["invalid_scope"]
        assert consent_code(server, http)


def test_tokens_survive_a_restart_with_a_state_file(tmp_path: Path, http: httpx.Client) -> None:
    state_file = tmp_path / "state.json"
    with SandboxServer(state_file=state_file) as server:
        grant = first_grant(server, http)
    with SandboxServer(state_file=state_file) as server:
        response = http.post(
            token_url(server),
            json={
                "grant_type": "refresh_token",
                "client_id": CLIENT_ID,
                "client_secret": CLIENT_SECRET,
                "refresh_token": grant.refresh_token,
            },
        )
        assert response.status_code == 200, response.text
        headers = {"Authorization": f"Bearer {grant.access_token}"}
        listing = http.get(
            f"{server.base_url}/changeSets", params={"spaceId": DOCS}, headers=headers
        )
        assert listing.status_code == 200
