"""The CLI as a user runs it: a subprocess talking real HTTP to the sandbox on loopback."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from approvalflow_sync.sandbox import SandboxServer
from conftest import RunCli, clean_env, interruptible

SEED: dict[str, Any] = {
    "spaces": [
        {
            "id": "100",
            "key": "DOCS",
            "name": "Docs",
            "workflows": [{"id": "wf-1", "name": "Two reviewers", "active": True}],
            "pages": [
                {"id": "1001", "title": "Auth", "version": 3},
                {"id": "1002", "title": "Tokens", "version": 1},
                {"id": "1003", "title": "Errors", "version": 7},
            ],
        }
    ]
}


def admin(server: SandboxServer, path: str, body: object | None = None) -> Any:
    response = httpx.post(f"{server.admin_url}/{path}", json=body or {})
    response.raise_for_status()
    return response.json()


@pytest.fixture
def seeded(sandbox: SandboxServer) -> SandboxServer:
    admin(sandbox, "seed", SEED)
    return sandbox


def ok_json(result: subprocess.CompletedProcess[str]) -> Any:
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_whole_round_from_create_to_refused_update(seeded: SandboxServer, run_cli: RunCli) -> None:
    created = ok_json(
        run_cli(
            "change-sets", "create", "--space", "100", "--title", "PR-1 Auth",
            "--page", "1001", "--page", "1002", "--reference-url", "https://github.com/o/r/pull/1",
            "--json",
        )
    )  # fmt: skip
    cs_id = created["id"]
    assert [ref["pageId"] for ref in created["pageRefs"]] == ["1001", "1002"]
    assert created["referenceUrl"] == "https://github.com/o/r/pull/1"

    updated = ok_json(
        run_cli("change-sets", "update", cs_id, "--page", "1001,1003", "--summary", "s", "--json")
    )
    assert [ref["pageId"] for ref in updated["pageRefs"]] == ["1001", "1003"]
    assert updated["summary"] == "s"
    assert updated["title"] == "PR-1 Auth"

    preflight = ok_json(run_cli("change-sets", "preflight", cs_id, "--json"))
    assert preflight["summary"] == {"total": 2, "submittable": 2, "blocked": 0}

    submitted = ok_json(run_cli("change-sets", "submit", cs_id, "--json"))
    assert submitted["submittedCount"] == 2
    assert submitted["skippedCount"] == 0

    again = ok_json(run_cli("change-sets", "preflight", cs_id, "--json"))
    assert {r["reason"] for r in again["results"]} == {"Page already has a pending approval"}

    admin(seeded, "approve", {"pageId": "1001"})
    admin(seeded, "approve", {"pageId": "1003"})
    detail = ok_json(run_cli("change-sets", "show", cs_id, "--json"))
    assert detail["rollupState"] == "all_approved"
    pages = {p["pageId"]: p for p in detail["pageRefs"]}
    assert pages["1003"]["approvedAtVersion"] == 7
    assert pages["1003"]["isStale"] is False

    admin(seeded, "edit-page", {"pageId": "1003"})
    stale = ok_json(run_cli("change-sets", "show", cs_id, "--json"))
    assert stale["rollupState"] == "stale"
    page = {p["pageId"]: p for p in stale["pageRefs"]}["1003"]
    assert (page["currentPageVersion"], page["isStale"], page["versionDelta"]) == (8, True, 1)

    archived = ok_json(run_cli("change-sets", "archive", cs_id, "--json"))
    assert archived["status"] != "open"

    refused = run_cli("change-sets", "update", cs_id, "--title", "late")
    assert refused.returncode == 1
    assert refused.stdout == ""
    lines = refused.stderr.strip().splitlines()
    assert len(lines) == 1
    assert "POST /changeSets/update answered 400" in lines[0]
    assert "archived" in lines[0]
    assert "Traceback" not in refused.stderr


def test_tables_for_people(seeded: SandboxServer, run_cli: RunCli) -> None:
    created = ok_json(
        run_cli("change-sets", "create", "--space", "100", "--title", "T", "--page", "1001",
                "--page", "999", "--json")
    )  # fmt: skip
    listing = run_cli("change-sets", "list", "--space", "100")
    assert listing.returncode == 0
    header, row = listing.stdout.strip().splitlines()
    assert header.split() == ["ID", "STATUS", "ROLLUP", "PAGES", "TITLE", "REFERENCE"]
    assert row.split()[:4] == [created["id"], "open", "open", "2"]

    preflight = run_cli("change-sets", "preflight", created["id"])
    assert preflight.returncode == 0
    assert "1 of 2 pages can be submitted, 1 blocked." in preflight.stdout
    assert "Page not found" in preflight.stdout

    page = run_cli("pages", "preflight", "1002")
    assert page.stdout.strip() == "Page 1002 can be submitted (workflow wf-1)."
    submitted = run_cli("pages", "submit", "1002")
    assert submitted.stdout.strip() in (
        "Page 1002 submitted.",
        "Page 1002 submitted (workflow wf-1).",
    )
    blocked = run_cli("pages", "submit", "1002")
    assert blocked.returncode == 1
    assert "Page already has a pending approval" in blocked.stderr


@pytest.mark.parametrize(
    ("args", "env", "needle"),
    [
        (("change-sets", "create", "--space", "100", "--title", "T", "--page", "12a"), {},
         "--page: '12a' is not a page id"),
        (("change-sets", "list", "--space", "100"), {"APPROVALFLOW_TOKEN": ""},
         "--token: not set"),
        (("change-sets", "list", "--space", "100"), {"APPROVALFLOW_BASE_URL": "http://example.com"},
         "uses plain http"),
        (("change-sets", "update", "cs-1"), {}, "nothing to change"),
        (("change-sets", "list"), {}, "the following arguments are required: --space"),
    ],
)  # fmt: skip
def test_bad_usage_exits_2_with_one_line(
    run_cli: RunCli, args: tuple[str, ...], env: dict[str, str], needle: str
) -> None:
    result = run_cli(*args, **env)
    assert result.returncode == 2
    assert needle in result.stderr
    assert "Traceback" not in result.stderr


def test_refusals_exit_1_and_name_the_cause(seeded: SandboxServer, run_cli: RunCli) -> None:
    scopes = ["read:forge-app:confluence", "read:change-set:custom"]
    admin(seeded, "tokens", {"token": "read-only", "scopes": scopes})
    scope = run_cli("change-sets", "create", "--space", "100", "--title", "T", "--page", "1001",
                    APPROVALFLOW_TOKEN="read-only")  # fmt: skip
    assert scope.returncode == 1
    assert "write:change-set:custom" in scope.stderr
    assert "read-only" not in scope.stderr

    unknown = run_cli("change-sets", "list", "--space", "100", APPROVALFLOW_TOKEN="nope")
    assert unknown.returncode == 1
    assert "answered 401" in unknown.stderr
    assert "nope" not in unknown.stderr

    admin(seeded, "licence", {"active": False})
    licence = run_cli("change-sets", "list", "--space", "100")
    assert licence.returncode == 1
    assert "licence is not active" in licence.stderr.lower()


def test_debug_shows_the_traceback(seeded: SandboxServer, run_cli: RunCli) -> None:
    result = run_cli("--debug", "change-sets", "show", "cs-missing")
    assert result.returncode == 1
    assert "Traceback" in result.stderr


def test_sandbox_command_serves_and_stops_on_ctrl_c(tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    with subprocess.Popen(
        [sys.executable, "-m", "approvalflow_sync", "sandbox", "--port=0", f"--state={state}"],
        env=clean_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=interruptible,  # noqa: PLW1509 - one signal() call before exec
    ) as process:
        stderr = _serve_one_create(process, state)
    assert process.returncode == 0
    assert "Traceback" not in stderr


def _serve_one_create(process: subprocess.Popen[str], state: Path) -> str:
    try:
        assert process.stdout is not None
        started = time.monotonic()
        line = process.stdout.readline()
        assert time.monotonic() - started < 5
        base_url = line.split()[3]
        assert base_url.startswith("http://127.0.0.1:")
        answer = httpx.post(
            f"{base_url}/changeSets",
            json={"spaceId": "12345", "title": "kept", "pageRefs": [{"pageId": "67890"}]},
            headers={"Authorization": "Bearer sandbox-token"},
        )
        assert answer.json() == {"success": True}, "the reference mode answers a write so"
        listed = httpx.get(
            f"{base_url}/changeSets",
            params={"spaceId": "12345"},
            headers={"Authorization": "Bearer sandbox-token"},
        )
        cs_id = listed.json()["changeSets"][0]["id"]
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=10)
    assert cs_id in state.read_text()
    return process.stderr.read() if process.stderr else ""


def test_a_create_whose_answer_is_lost_says_how_to_check(
    seeded: SandboxServer, run_cli: RunCli
) -> None:
    fault = {"method": "POST", "path": "/changeSets", "count": 1, "drop": "after"}
    admin(seeded, "faults", fault)
    lost = run_cli("change-sets", "create", "--space", "100", "--title", "T", "--page", "1001")
    assert lost.returncode == 1
    assert "change-sets list --space 100" in lost.stderr
    listing = ok_json(run_cli("change-sets", "list", "--space", "100", "--json"))
    assert [cs["title"] for cs in listing] == ["T"]  # made once, not retried blindly


# -- issue 13: the CLI's rough edges ------------------------------------------------------------


def text_after_first_line(text: str) -> str:
    """``Created cs-….`` or ``Updated cs-….`` taken off: what ``show`` prints."""
    return text.split("\n", 2)[2]


@pytest.mark.parametrize(
    "args",
    [
        ("--debug", "change-sets", "show", "cs-missing"),
        ("change-sets", "--debug", "show", "cs-missing"),
        ("change-sets", "show", "cs-missing", "--debug"),
    ],
)
def test_debug_works_before_or_after_the_command(
    seeded: SandboxServer, run_cli: RunCli, args: tuple[str, ...]
) -> None:
    result = run_cli(*args)
    assert result.returncode == 1
    assert "Traceback" in result.stderr
    assert "GET /changeSets/detail" in result.stderr


def test_create_and_update_print_what_show_prints(seeded: SandboxServer, run_cli: RunCli) -> None:
    created = run_cli("change-sets", "create", "--space", "100", "--title", "T",
                      "--page", "1001", "--page", "1003")  # fmt: skip
    assert created.returncode == 0, created.stderr
    cs_id = created.stdout.split()[1].rstrip(".")
    shown = run_cli("change-sets", "show", cs_id)
    assert text_after_first_line(created.stdout) == shown.stdout
    row = [line for line in shown.stdout.splitlines() if line.startswith("1003")]
    assert row[0].split() == ["1003", "Errors", "7", "—", "no", "—"]

    updated = run_cli("change-sets", "update", cs_id, "--page", "1002", "--title", "T2")
    assert updated.returncode == 0, updated.stderr
    assert updated.stdout.startswith(f"Updated {cs_id}.")
    assert text_after_first_line(updated.stdout) == run_cli("change-sets", "show", cs_id).stdout
    assert "title:     T2" in updated.stdout
    (row,) = [line.split() for line in updated.stdout.splitlines() if line.startswith("1002")]
    assert row == ["1002", "Tokens", "1", "—", "no", "—"]


def test_tables_show_titles_and_explain_their_columns(
    seeded: SandboxServer, run_cli: RunCli
) -> None:
    created = ok_json(
        run_cli("change-sets", "create", "--space", "100", "--title", "T", "--page", "1001",
                "--page", "999", "--json")
    )  # fmt: skip
    assert run_cli("pages", "submit", "1001").returncode == 0
    admin(seeded, "approve", {"pageId": "1001"})
    admin(seeded, "edit-page", {"pageId": "1001"})
    shown = run_cli("change-sets", "show", created["id"]).stdout.splitlines()
    (header,) = [index for index, line in enumerate(shown) if line.startswith("PAGE")]
    assert shown[header].split() == ["PAGE", "TITLE", "VERSION", "APPROVED", "V.", "STALE", "DELTA"]
    assert shown[header + 1].split() == ["1001", "Auth", "4", "3", "yes", "1"]
    assert shown[header + 2].split() == ["999", "—", "—", "—", "no", "—"]  # no title: unknown page
    legend = "\n".join(shown[header + 3 :])
    assert "APPROVED V.: the version that was approved" in legend
    assert "STALE: edited after its approval" in legend
    assert "DELTA: versions between the approved one and now" in legend

    preflight = run_cli("change-sets", "preflight", created["id"]).stdout.splitlines()
    assert preflight[2].split() == ["PAGE", "TITLE", "CAN", "SUBMIT", "WORKFLOW", "/", "REASON"]
    assert preflight[3].split()[:3] == ["1001", "Auth", "yes"]  # stale: may be submitted again
    assert preflight[4].split()[:3] == ["999", "—", "no"]


def test_change_set_submit_exits_1_when_every_page_is_skipped(
    seeded: SandboxServer, run_cli: RunCli
) -> None:
    created = ok_json(
        run_cli("change-sets", "create", "--space", "100", "--title", "T", "--page", "1001",
                "--json")
    )  # fmt: skip
    first = run_cli("change-sets", "submit", created["id"])
    assert first.returncode == 0, first.stderr
    assert first.stdout.splitlines()[3].split()[:3] == ["1001", "Auth", "submitted"]
    again = run_cli("change-sets", "submit", created["id"])
    assert again.returncode == 1
    assert again.stdout.startswith("0 submitted, 1 skipped. Nothing was submitted.")
    assert "Page already has a pending approval" in again.stdout
    as_json = run_cli("change-sets", "submit", created["id"], "--json")
    assert as_json.returncode == 1
    assert json.loads(as_json.stdout)["skippedCount"] == 1


JSON_ERRORS = {
    "api": (("change-sets", "show", "cs-missing"), {}, 1, "BadRequestError", 400,
            "Change set not found"),
    "auth": (("change-sets", "list", "--space", "100"), {"APPROVALFLOW_TOKEN": "nope"}, 1,
             "AuthenticationError", 401, "answered 401"),
    "config": (("change-sets", "list", "--space", "100"), {"APPROVALFLOW_TOKEN": ""}, 2,
               "ConfigError", None, "--token: not set"),
    "missing": (("change-sets", "list"), {}, 2, "UsageError", None,
                "the following arguments are required: --space"),
    "unknown": (("change-sets", "update", "cs-1", "--bogus"), {}, 2, "UsageError", None,
                "unrecognized arguments: --bogus"),
}  # fmt: skip
"""Per case: the command, its environment, the exit status, the error's type, status, words."""


@pytest.mark.parametrize("case", list(JSON_ERRORS))
def test_json_errors_are_json_on_stdout_with_the_same_exit_status(
    seeded: SandboxServer, run_cli: RunCli, case: str
) -> None:
    args, env, code, kind, status, needle = JSON_ERRORS[case]
    plain = run_cli(*args, **env)
    result = run_cli(*args, "--json", **env)
    assert (plain.returncode, result.returncode) == (code, code)
    assert result.stderr == ""
    error = json.loads(result.stdout)["error"]
    assert (error["type"], error["status"]) == (kind, status)
    assert needle in error["message"]
    assert needle in plain.stderr, "the plain form says the same"
