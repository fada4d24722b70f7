"""The action living on a rotating refresh token, a fork's pull request, and no secret leaking.

The program runs as a subprocess against the sandbox (which also plays Atlassian's token
endpoint, with rotation) and the fake GitHub (which keeps Actions secrets sealed with a real
libsodium key pair).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from action_harness import ActionHarness, ActionRun, assert_masked_first, harness, load_payload
from approvalflow_sync.approvalflow.oauth import exchange_code
from approvalflow_sync.approvalflow.scopes import CONSENT_SCOPES
from approvalflow_sync.sandbox import SandboxServer
from fakes.github import APP_TOKEN

CLIENT_ID = "sandbox-client"
CLIENT_SECRET = "sandbox-secret"
REDIRECT = "http://127.0.0.1:9/callback"
SECRET_NAME = "APPROVALFLOW_REFRESH_TOKEN"
MAPPING = 'space: "12345"\npages:\n  - path: docs/**\n    page: "67890"\n'
TWO_SPACES = MAPPING + '  - path: handbook/**\n    page: "76540"\n    space: "54321"\n'
TWO_SPACES_FILES = ["docs/a.md", "handbook/b.md"]


@pytest.fixture
def h(tmp_path: Path, sandbox: SandboxServer) -> Iterator[ActionHarness]:
    with harness(tmp_path, sandbox, MAPPING, ActionHarness) as action:
        yield action


def consent(sandbox: SandboxServer) -> tuple[str, str]:
    """A fresh consent, as ``auth init`` gets it: (access token, refresh token)."""
    with httpx.Client(trust_env=False) as http:
        answer = http.get(
            f"{sandbox.base_url}/authorize",
            params={
                "audience": "api.atlassian.com",
                "client_id": CLIENT_ID,
                "scope": " ".join(CONSENT_SCOPES),
                "redirect_uri": REDIRECT,
                "state": "s",
                "response_type": "code",
                "prompt": "consent",
            },
        )
        code = parse_qs(urlsplit(answer.headers["Location"]).query)["code"][0]
        grant = exchange_code(
            http,
            f"{sandbox.base_url}/oauth/token",
            CLIENT_ID,
            CLIENT_SECRET,
            code,
            redirect_uri=REDIRECT,
        )
    assert grant.refresh_token
    return grant.access_token, grant.refresh_token


def consented(h: ActionHarness) -> str:
    """A fresh consent's refresh token, with the consent itself gone from the call log."""
    refresh = consent(h.sandbox)[1]
    h.forget_calls()
    return refresh


def refresh_inputs(h: ActionHarness, refresh_token: str, **extra: str) -> dict[str, str]:
    return {
        "access-token": "",
        "client-id": CLIENT_ID,
        "client-secret": CLIENT_SECRET,
        "refresh-token": refresh_token,
        "token-url": f"{h.sandbox.base_url}/oauth/token",
        **extra,
    }


def opened(h: ActionHarness, **fields: Any) -> dict[str, Any]:
    return h.add_pull_request(load_payload("opened"), ["docs/a.md"], **fields)


def api_calls(h: ActionHarness) -> list[dict[str, Any]]:
    return [c for c in h.sandbox_calls() if not c["path"].startswith("/oauth")]


def assert_no_leak(run: ActionRun, secrets: list[str], h: ActionHarness, event: Any) -> None:
    """No secret anywhere but in ``::add-mask::`` lines and the refresh-token output."""
    log_lines = [line for line in run.stdout.splitlines() if not line.startswith("::add-mask::")]
    outputs = {k: v for k, v in run.outputs.items() if k != "refresh-token"}
    comments = " ".join(c["body"] for c in h.comments(event))
    for secret in secrets:
        assert secret not in "\n".join(log_lines)
        assert secret not in run.stderr
        assert secret not in run.summary
        assert secret not in repr(outputs)
        assert secret not in comments


def test_refresh_token_is_exchanged_rotated_and_written_back_first(h: ActionHarness) -> None:
    refresh = consented(h)
    event = opened(h)
    repo = event["repository"]["full_name"]
    h.github.set_secret(repo, SECRET_NAME, refresh)
    run = h.run(
        event,
        inputs=refresh_inputs(
            h, refresh, **{"refresh-token-secret": SECRET_NAME, "secrets-token": APP_TOKEN}
        ),
    )
    assert run.returncode == 0, run.describe()
    stored = h.github.secret_value(repo, SECRET_NAME)
    assert stored != refresh, "the secret holds the new refresh token"
    assert run.outputs["refresh-token"] == stored
    masks = [line for line in run.stdout.splitlines() if line.startswith("::add-mask::")]
    assert f"::add-mask::{stored}" in masks
    assert masks.index(f"::add-mask::{stored}") < run.stdout.splitlines().index(
        next(line for line in run.stdout.splitlines() if line.startswith("Stored the rotated"))
    )
    assert next(c["path"] for c in h.sandbox_calls()) == "/oauth/token"
    assert h.change_sets(event["pull_request"]["html_url"]), "the sync itself ran"
    assert "refresh token spent" not in run.stdout
    assert_no_leak(run, [refresh, stored, CLIENT_SECRET, APP_TOKEN], h, event)

    again = h.run(
        event,
        inputs=refresh_inputs(
            h, stored, **{"refresh-token-secret": SECRET_NAME, "secrets-token": APP_TOKEN}
        ),
    )
    assert again.returncode == 0, again.describe()
    assert h.github.secret_value(repo, SECRET_NAME) not in (refresh, stored)


def test_no_github_read_and_no_api_call_starts_before_the_write_back_finished(
    h: ActionHarness,
) -> None:
    h.write_mapping(TWO_SPACES)
    refresh = consented(h)
    event = h.add_pull_request(load_payload("opened"), TWO_SPACES_FILES)
    run = h.run(
        event,
        inputs=refresh_inputs(
            h, refresh, **{"refresh-token-secret": SECRET_NAME, "secrets-token": APP_TOKEN}
        ),
    )
    assert run.returncode == 0, run.describe()
    (put,) = h.github.calls_to("PUT", r"/actions/secrets/")
    others = [c for c in h.github.calls if "/actions/secrets/" not in c.route]
    assert {c.route.rsplit("/", 1)[-1] for c in others} >= {"files", "comments", "statuses"}
    assert all(c.started >= put.ended for c in others), "a GitHub call before the write-back"
    # the sandbox logs wall-clock milliseconds; the fake GitHub, monotonic seconds
    put_ended = datetime.fromtimestamp(put.ended + time.time() - time.monotonic(), timezone.utc)
    put_ms = put_ended.strftime("%Y-%m-%dT%H:%M:%S.") + f"{put_ended.microsecond // 1000:03d}Z"
    assert {c["spaceId"] for c in h.change_sets()} == {"12345", "54321"}
    assert all(c["time"] >= put_ms for c in api_calls(h)), "an API call before the write-back"


@pytest.mark.parametrize("spaces", [1, 2])
def test_a_failed_write_back_stops_before_any_api_call_with_recovery_steps(
    h: ActionHarness, spaces: int
) -> None:
    refresh = consented(h)
    h.github.inject("PUT", r"/actions/secrets/", status=500, count=5)
    if spaces == 2:  # with the exchange done lazily, the second thread would go on (issue 12)
        h.write_mapping(TWO_SPACES)
        event = h.add_pull_request(load_payload("opened"), TWO_SPACES_FILES)
    else:
        event = opened(h)
    run = h.run(
        event,
        inputs=refresh_inputs(
            h, refresh, **{"refresh-token-secret": SECRET_NAME, "secrets-token": APP_TOKEN}
        ),
    )
    assert run.returncode == 1
    (error,) = [c for c in run.commands if c.name == "error"]
    assert "re-run this job within 10 minutes" in error.message
    assert "auth init" in error.message
    assert api_calls(h) == [], "no ApprovalFlow call before the new token is safe"
    assert run.outputs["refresh-token"] not in ("", refresh), "still handed on as an output"
    assert_no_leak(run, [refresh, run.outputs["refresh-token"], CLIENT_SECRET], h, event)


def test_a_token_endpoint_that_does_not_rotate_still_has_each_access_token_masked(
    h: ActionHarness,
) -> None:
    refresh = consented(h)
    valid = consent(h.sandbox)[0]
    h.forget_calls()
    unknown = "unknown-access-token-1"  # the sandbox answers 401, so the client refreshes once
    for access in (unknown, valid):
        answer = {"access_token": access, "expires_in": 3600, "refresh_token": refresh}
        h.admin(
            "POST",
            "/faults",
            {"method": "POST", "path": "/oauth/token", "status": 200,
             "body": json.dumps(answer), "contentType": "application/json"},
        )  # fmt: skip
    event = opened(h)
    run = h.run(event, inputs=refresh_inputs(h, refresh))
    assert run.returncode == 0, run.describe()
    masked = {c.message for c in run.commands if c.name == "add-mask"}
    assert {unknown, valid} <= masked
    assert [c["path"] for c in h.sandbox_calls()].count("/oauth/token") == 2
    assert "refresh-token" not in run.outputs, "nothing rotated, nothing to hand on"
    assert "stops working in 10 minutes" not in run.stdout
    assert_no_leak(run, [refresh, unknown, valid, CLIENT_SECRET], h, event)


def test_rotation_without_write_back_warns_loudly(h: ActionHarness) -> None:
    refresh = consented(h)
    event = opened(h)
    run = h.run(event, inputs=refresh_inputs(h, refresh))
    assert run.returncode == 0, run.describe()
    warnings = [c for c in run.commands if c.name == "warning"]
    assert any("stops working in 10 minutes" in w.message for w in warnings)
    assert "stops working in 10 minutes" in run.summary
    assert run.outputs["refresh-token"] not in ("", refresh)
    assert_no_leak(run, [refresh, run.outputs["refresh-token"], CLIENT_SECRET], h, event)


def test_a_spent_refresh_token_says_a_new_consent_is_needed(h: ActionHarness) -> None:
    refresh = consented(h)
    h.admin("POST", "/oauth/revoke", {"refreshToken": refresh})
    run = h.run(opened(h), inputs=refresh_inputs(h, refresh))
    assert run.returncode == 1
    (error,) = [c for c in run.commands if c.name == "error"]
    assert "invalid_grant" in error.message
    assert "auth init" in error.message
    assert api_calls(h) == []
    assert refresh not in run.stdout.replace(f"::add-mask::{refresh}", "")


def test_secrets_token_is_required_before_anything_is_spent(h: ActionHarness) -> None:
    refresh = consented(h)
    run = h.run(opened(h), inputs=refresh_inputs(h, refresh, **{"refresh-token-secret": "X"}))
    assert run.returncode == 2
    (error,) = [c for c in run.commands if c.name == "error"]
    assert "GITHUB_TOKEN cannot write secrets" in error.message
    assert h.sandbox_calls() == [], "the refresh token was not exchanged, so not spent"


def test_conflicting_credentials_are_a_configuration_error(h: ActionHarness) -> None:
    run = h.run(opened(h), inputs={"refresh-token": "r", "client-id": "c", "client-secret": "s"})
    assert run.returncode == 2
    assert "both given" in run.stdout
    assert h.sandbox_calls() == []


def fork_opened(h: ActionHarness) -> dict[str, Any]:
    payload = load_payload("opened")
    fork_head = {
        **payload["pull_request"]["head"],
        "repo": {**payload["pull_request"]["head"]["repo"], "full_name": "someone/Hello-World"},
    }
    return opened(h, head=fork_head)


@pytest.mark.parametrize(
    ("mode", "code", "kind"),
    [("", 0, "notice"), ("auto", 0, "notice"), ("skip", 0, "notice"), ("fail", 2, "error")],
)
def test_a_fork_pull_request_without_secrets(
    h: ActionHarness, mode: str, code: int, kind: str
) -> None:
    event = fork_opened(h)
    run = h.run(event, inputs={"access-token": "", "on-missing-credentials": mode})
    assert run.returncode == code, run.describe()
    assert [c.name for c in run.commands if c.name in ("error", "warning", "notice")] == [kind]
    (message,) = run.annotations(kind)
    assert "fork" in message.message
    assert "pull_request_target" in message.message
    assert h.sandbox_calls() == []
    assert h.github_writes() == []


@pytest.mark.parametrize("mode", ["", "auto", "fail"])
def test_a_same_repo_pull_request_without_secrets_fails_in_one_line(
    h: ActionHarness, mode: str
) -> None:
    run = h.run(opened(h), inputs={"access-token": "", "on-missing-credentials": mode})
    assert run.returncode == 2, run.describe()
    (error,) = run.annotations("error")
    assert [c.name for c in run.commands if c.name in ("warning", "notice")] == []
    assert "\n" not in error.message
    for words in ("access-token and refresh-token: both empty", "secrets", "skip"):
        assert words in error.message, error.message
    assert "Traceback" not in run.stdout + run.stderr
    assert "configuration error" in run.summary
    assert h.sandbox_calls() == []
    assert h.github_writes() == []


def test_a_fork_under_pull_request_target_gets_secrets_so_missing_ones_fail(
    h: ActionHarness,
) -> None:
    run = h.run(fork_opened(h), event_name="pull_request_target", inputs={"access-token": ""})
    assert run.returncode == 2, run.describe()
    (error,) = run.annotations("error")
    assert "both empty" in error.message
    assert "fork" not in error.message
    assert h.sandbox_calls() == []


def test_a_same_repo_pull_request_may_ask_to_skip(h: ActionHarness) -> None:
    run = h.run(opened(h), inputs={"access-token": "", "on-missing-credentials": "skip"})
    assert run.returncode == 0, run.describe()
    (notice,) = run.annotations("notice")
    assert "on-missing-credentials is skip" in notice.message
    assert run.annotations("error") == []
    assert "skipped" in run.summary
    assert h.sandbox_calls() == []


def test_dependabot_runs_without_secrets_get_a_notice(h: ActionHarness) -> None:
    run = h.run(opened(h), inputs={"access-token": ""}, env={"GITHUB_ACTOR": "dependabot[bot]"})
    assert run.returncode == 0, run.describe()
    (notice,) = run.annotations("notice")
    assert "Dependabot secrets" in notice.message
    assert h.sandbox_calls() == []


def test_an_unknown_choice_is_a_configuration_error(h: ActionHarness) -> None:
    run = h.run(opened(h), inputs={"on-missing-credentials": "ignore"})
    assert run.returncode == 2, run.describe()
    (error,) = run.annotations("error")
    assert "use auto, skip or fail" in error.message


def test_the_leak_check_run_after_every_scenario_catches_a_leak(h: ActionHarness) -> None:
    secret = "a-secret-value-1234"
    masked = ActionRun(0, f"::add-mask::{secret}\n", "", {"refresh-token": secret}, "")
    h.assert_no_leak(masked, {}, [secret])  # its mask line and the hand-on output are allowed
    for leaked in (
        ActionRun(0, f"token {secret}\n", "", {}, ""),
        ActionRun(0, "", "", {"result": secret}, ""),
        ActionRun(0, "", "", {}, f"| {secret} |"),
    ):
        with pytest.raises(AssertionError, match="a secret leaked"):
            h.assert_no_leak(leaked, {}, [secret])


def test_the_mask_check_run_after_every_scenario_wants_each_secret_masked_first() -> None:
    secret = "two\nlines"
    assert_masked_first("::add-mask::two\n::add-mask::lines\nPull request #1\n", [secret, ""])
    for late in ("Pull request #1\n::add-mask::two\n::add-mask::lines\n", "::add-mask::two\n"):
        with pytest.raises(AssertionError, match="not masked first"):
            assert_masked_first(late, [secret])


def test_a_run_that_fails_later_still_warns_the_stored_token_is_spent(h: ActionHarness) -> None:
    refresh = consented(h)
    h.admin("POST", "/faults", {"method": "POST", "path": "/changeSets", "status": 500})
    run = h.run(opened(h), inputs=refresh_inputs(h, refresh))
    assert run.returncode == 1, run.describe()
    assert [c.name for c in run.commands].count("error") == 1
    warnings = [c.message for c in run.commands if c.name == "warning"]
    assert any("stops working in 10 minutes" in w for w in warnings), run.describe()


@pytest.mark.parametrize(
    ("route", "answer"),
    [
        (r"/repositories$", {"total_count": 1, "repositories": None}),
        (r"/public-key$", []),
    ],
)
def test_whatever_fails_in_the_write_back_the_user_gets_the_recovery_steps(
    h: ActionHarness, route: str, answer: object
) -> None:
    refresh = consented(h)
    h.github.add_organization("octo-org")
    h.github.set_org_secret("octo-org", SECRET_NAME, refresh, visibility="selected")
    h.github.inject("GET", rf"/orgs/octo-org/actions/secrets.*{route}", 200, answer, count=5)
    event = opened(h)
    target = f"org:octo-org/{SECRET_NAME}"
    run = h.run(
        event,
        inputs=refresh_inputs(
            h, refresh, **{"refresh-token-secret": target, "secrets-token": APP_TOKEN}
        ),
    )
    assert run.returncode == 1
    (error,) = [c for c in run.commands if c.name == "error"]
    assert "re-run this job within 10 minutes" in error.message
    assert "Traceback" not in run.stderr
    assert run.outputs["refresh-token"] not in ("", refresh), "handed on first"
    assert api_calls(h) == []
    assert_no_leak(run, [refresh, run.outputs["refresh-token"], CLIENT_SECRET], h, event)


def test_a_bad_write_back_target_fails_before_the_token_is_spent(h: ActionHarness) -> None:
    refresh = consented(h)
    for target in ("org:octo-org\n/NAME", "env:../NAME"):
        run = h.run(
            opened(h),
            inputs=refresh_inputs(
                h, refresh, **{"refresh-token-secret": target, "secrets-token": APP_TOKEN}
            ),
        )
        assert run.returncode == 2, run.describe()
        assert "Traceback" not in run.stderr
    assert h.sandbox_calls() == [], "the refresh token was not spent"
