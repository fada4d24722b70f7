"""ApprovalFlow misbehaving under the whole program: ``approvalflow-sync run`` as a subprocess.

Faults are injected in the sandbox (``POST /_sandbox/faults``) or, for an answer cut off in the
middle of its body, by :class:`CuttingProxy` in front of it. The client runs with its production
:class:`RetryPolicy`; faults say ``Retry-After: 1`` so the waits stay short. The client's
30-second timeout cannot be set from the action, so the timeout tests start the program through
:data:`SHORT_TIMEOUT_SHIM`, which lowers it to one second in the child process.

Each test checks what a workflow would see (exit code, ``::error::`` lines, the job summary) and
what ApprovalFlow holds afterwards. Retry decisions one call at a time are covered by
``tests/client``; here it is the run as a whole.
"""

from __future__ import annotations

import email.utils
import json
import time
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from reliability_support import (
    DOCS_SPACE,
    HANDBOOK_SPACE,
    MAPPING,
    SHORT_TIMEOUT_SHIM,
    ActionRun,
    CuttingProxy,
    Harness,
    no_traceback,
)

from action_harness import harness
from approvalflow_sync.sandbox import SandboxServer
from fakes.github import FakeGitHub

FILES = ["docs/auth/login.md", "handbook/onboarding.md"]
EXPECTED = {DOCS_SPACE: ["67890"], HANDBOOK_SPACE: ["76540"]}
"""The open change set each space must end with: its pages."""


@pytest.fixture
def h(tmp_path: Path, sandbox: SandboxServer) -> Iterator[Harness]:
    with harness(tmp_path, sandbox, MAPPING, Harness) as running:
        yield running


def fault(h: Harness, **spec: Any) -> None:
    h.admin("POST", "/faults", spec)


def open_pages(h: Harness) -> dict[str, list[str]]:
    """Pages of the open change sets by space; fails if a space has two."""
    found: dict[str, list[str]] = {}
    for cs in h.change_sets():
        if cs["status"] == "open":
            assert cs["spaceId"] not in found, f"two open change sets in {cs['spaceId']}"
            found[cs["spaceId"]] = cs["pageIds"]
    return found


def calls(h: Harness, method: str, path: str) -> list[dict[str, Any]]:
    return [c for c in h.sandbox_calls() if (c["method"], c["path"]) == (method, path)]


def synced(h: Harness, run: ActionRun, event: dict[str, Any]) -> None:
    """The run succeeded and left exactly the right state everywhere."""
    assert run.returncode == 0, run.describe()
    no_traceback(run)
    assert run.annotations("error") == []
    assert open_pages(h) == EXPECTED
    assert len(h.change_sets()) == 2, "no extra change set, archived or not"
    assert len(h.ours(event)) == 1
    assert run.outputs["pages"] == "2"


def one_error(run: ActionRun) -> str:
    """The run failed with exactly one ``::error::`` and no traceback; its message."""
    assert run.returncode == 1, run.describe()
    no_traceback(run)
    (error,) = run.annotations("error")
    return error.message


def at(call: dict[str, Any]) -> datetime:
    """When the sandbox received a call (its log keeps milliseconds)."""
    return datetime.fromisoformat(call["time"].replace("Z", "+00:00"))


# -- reads: retried, and the run ends right ------------------------------------------------------

READ_FAULTS: dict[str, tuple[str, str, dict[str, Any]]] = {
    "429-retry-after-seconds": ("GET", "/changeSets", {"status": 429, "retryAfter": "1"}),
    "429-retry-after-http-date": ("GET", "/changeSets", {"status": 429, "retryAfter": "date"}),
    "500": ("GET", "/changeSets", {"status": 500}),
    "502": ("GET", "/changeSets", {"status": 502}),
    "503": ("GET", "/changeSets", {"status": 503}),
    "500-retry-after": ("GET", "/changeSets/detail", {"status": 500, "retryAfter": "1"}),
    "502-retry-after": ("GET", "/changeSets/detail", {"status": 502, "retryAfter": "1"}),
    "503-retry-after": ("GET", "/changeSets/detail", {"status": 503, "retryAfter": "1"}),
    "502-html-page": (
        "GET",
        "/changeSets/detail",
        {"status": 502, "body": "<html><body><h1>502 Bad Gateway</h1></body></html>"},
    ),
    "503-on-preflight": ("POST", "/changeSets/preflight", {"status": 503}),
}


@pytest.mark.parametrize("case", list(READ_FAULTS))
def test_a_read_answered_with_a_retryable_error_is_retried_and_the_run_succeeds(
    h: Harness, case: str
) -> None:
    method, path, spec = READ_FAULTS[case]
    until = None
    if spec.get("retryAfter") == "date":  # whole seconds, some way ahead of the run's start-up
        until = (datetime.now(timezone.utc) + timedelta(seconds=4)).replace(microsecond=0)
        spec = {**spec, "retryAfter": email.utils.format_datetime(until, usegmt=True)}
    event = h.opened(FILES)
    fault(h, method=method, path=path, **spec)

    run = h.run(event)

    synced(h, run, event)
    tried = calls(h, method, path)
    statuses = [c["status"] for c in tried]
    assert spec["status"] in statuses, "the fault was met"
    failed = tried[statuses.index(spec["status"])]
    retry = next(
        c
        for c in tried[tried.index(failed) + 1 :]
        if (c["query"], c["body"]) == (failed["query"], failed["body"])
    )
    assert retry["status"] == 200, "the same call, repeated, then answered"
    assert f"{method} {path}" in run.stderr, "the retry is logged with the call"
    if until is not None:
        assert at(retry) >= until - timedelta(seconds=0.05), "waited until the server's date"
        assert at(retry) - at(failed) >= timedelta(seconds=0.5), "and that was a real wait"
    elif "retryAfter" in spec:
        assert at(retry) - at(failed) >= timedelta(seconds=0.95), "waited the server's seconds"


# -- writes: not repeated when they may have taken effect ------------------------------------------

WRITE_FAULTS: dict[str, dict[str, Any]] = {
    "500": {"status": 500},
    "502-html-page": {"status": 502, "body": "<html><h1>Bad Gateway</h1></html>"},
    "503-retry-after": {"status": 503, "retryAfter": "1"},
}


@pytest.fixture(scope="module", params=list(WRITE_FAULTS))
def failed_create(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, ActionRun, list[dict[str, Any]], list[dict[str, Any]], Harness]]:
    """One create of two answered with an error: the run, the change sets, the sandbox calls."""
    case: str = request.param
    with SandboxServer(host="127.0.0.1", port=0) as sandbox, FakeGitHub() as fake:
        h = Harness(tmp_path_factory.mktemp(f"create-{case}"), fake, sandbox)
        h.write_mapping(MAPPING)
        event = h.opened(FILES)
        fault(h, method="POST", path="/changeSets", count=1, **WRITE_FAULTS[case])
        run = h.run(event)
        try:
            yield case, run, h.change_sets(), h.sandbox_calls(), h
        finally:
            h.close()


def test_a_create_answered_with_an_error_is_not_repeated_and_fails_with_one_clear_error(
    failed_create: tuple[str, ActionRun, list[dict[str, Any]], list[dict[str, Any]], Harness],
) -> None:
    case, run, change_sets, sandbox_calls, h = failed_create
    status = WRITE_FAULTS[case]["status"]

    message = one_error(run)
    assert f"POST /changeSets answered {status}" in message
    assert "try again later" in message, "says what to do"
    assert "retrying" not in run.stderr, "no call cut off by the failure, none repeated"

    creates = [c for c in sandbox_calls if (c["method"], c["path"]) == ("POST", "/changeSets")]
    assert len(creates) == 2, "one create per space, the failed one not repeated"
    (failed,) = [c for c in creates if c["status"] == status]
    failed_space = failed["body"]["spaceId"]
    (made,) = change_sets
    assert made["spaceId"] != failed_space
    assert made["status"] == "open"

    # Nothing half-done silently: the summary says what was written and what was not.
    done, _, not_done = run.summary.partition("Not done:")
    assert f"Space {made['spaceId']}: created change set `{made['id']}`" in done
    assert f"Space {failed_space}: ApprovalFlow POST /changeSets answered {status}" in not_done
    assert h.github_writes() == [], "no comment or status claims a result the run did not reach"


def test_the_summary_of_a_run_that_wrote_something_never_says_nothing_was_written(
    failed_create: tuple[str, ActionRun, list[dict[str, Any]], list[dict[str, Any]], Harness],
) -> None:
    _case, run, change_sets, _calls, _h = failed_create
    assert change_sets, "the other space's change set was made"
    assert "Nothing was written" not in run.summary


# -- a create whose answer is lost ---------------------------------------------------------------


@pytest.mark.parametrize("how", ["dropped-before-the-answer", "cut-off-mid-answer"])
def test_a_create_whose_answer_is_lost_is_found_by_listing_not_made_twice(
    h: Harness, sandbox: SandboxServer, how: str
) -> None:
    event = h.opened(FILES)
    if how == "dropped-before-the-answer":
        fault(h, method="POST", path="/changeSets", drop="after")
        run = h.run(event)
    else:
        with CuttingProxy(sandbox.base_url, "POST", "/changeSets").running() as proxy:
            run = h.run(event, inputs={"base-url": proxy.url})
        assert len(proxy.cut) == 1

    synced(h, run, event)
    creates = calls(h, "POST", "/changeSets")
    assert len(creates) == 2, "one create per space: the lost one was not repeated"
    if how == "cut-off-mid-answer":
        space = json.loads(proxy.cut[0])["spaceId"]
        lost = next(c for c in creates if c["body"]["spaceId"] == space)
    else:
        lost = next(c for c in creates if c["status"] is None)
        space = lost["body"]["spaceId"]
    after = h.sandbox_calls()[h.sandbox_calls().index(lost) + 1 :]
    assert any(c["path"] == "/changeSets" and c["query"] == {"spaceId": space} for c in after), (
        "the program listed the space to find what the lost create made"
    )
    (sticky,) = h.ours(event)
    for cs in h.change_sets():
        assert f"`{cs['id']}`" in sticky["body"]


def test_a_read_cut_off_mid_answer_is_retried(h: Harness, sandbox: SandboxServer) -> None:
    event = h.opened(FILES)
    with CuttingProxy(sandbox.base_url, "GET", "/changeSets/detail").running() as proxy:
        run = h.run(event, inputs={"base-url": proxy.url})

    assert len(proxy.cut) == 1
    synced(h, run, event)
    assert len(calls(h, "GET", "/changeSets/detail")) == 3, "two spaces, one read repeated"
    assert "GET /changeSets/detail: the connection broke" in run.stderr


# -- timeouts ------------------------------------------------------------------------------------


def test_a_read_that_times_out_is_retried(h: Harness) -> None:
    event = h.opened(FILES)
    fault(h, method="GET", path="/changeSets/detail", delay=2)

    run = h.run(event, argv=["-c", SHORT_TIMEOUT_SHIM, "1"])

    synced(h, run, event)
    assert "GET /changeSets/detail: timed out" in run.stderr


def test_a_create_that_times_out_fails_clearly_and_the_next_run_names_its_change_set(
    h: Harness,
) -> None:
    event = h.opened(FILES)
    fault(h, method="POST", path="/changeSets", delay=2)

    run = h.run(event, argv=["-c", SHORT_TIMEOUT_SHIM, "1"])

    message = one_error(run)
    assert "POST /changeSets" in message
    assert "may still take effect" in message, "does not claim that nothing was made"
    assert "run the job again" in message
    assert "archive the first by hand" in message
    assert "Not done:" in run.summary
    deadline = time.monotonic() + 10
    while len(h.change_sets()) < 2 and time.monotonic() < deadline:
        time.sleep(0.1)  # the sandbox finishes the slow create after the client gave up
    late = {cs["id"] for cs in h.change_sets()}
    assert len(late) == 2

    rerun = h.run(event)

    # Unrecorded, the late change set is no proof of being ours (finding 4): named, left alone.
    assert rerun.returncode == 0, rerun.describe()
    named = {i for w in rerun.annotations("warning") for i in late if i in w.message}
    assert named == late
    assert len(calls(h, "POST", "/changeSets")) == 4, "the rerun made its own, once per space"


# -- answers that cannot be used -----------------------------------------------------------------

UNUSABLE: dict[str, tuple[str, str, dict[str, Any], list[str]]] = {
    "empty-200": (
        "GET",
        "/changeSets",
        {"status": 200, "body": "", "contentType": "application/json"},
        ["not as documented", "changeSets: Field required", "check that the base URL"],
    ),
    "html-page-under-200": (
        "GET",
        "/changeSets",
        {"status": 200, "body": "<!doctype html><title>Log in</title>"},
        ["answered with an HTML page", "check the base URL"],
    ),
    "success-false-under-200": (
        "GET",
        "/changeSets",
        {
            "status": 200,
            "body": json.dumps({"success": False, "error": "Space 12345 is not enabled"}),
            "contentType": "application/json",
        },
        ["success false", "Space 12345 is not enabled"],
    ),
    "missing-field": (
        "GET",
        "/changeSets",
        {
            "status": 200,
            "body": '{"changeSets": [{"title": "no id"}]}',
            "contentType": "application/json",
        },
        ["not as documented", "changeSets.0.id: Field required", "check that the base URL"],
    ),
}


@pytest.mark.parametrize("case", list(UNUSABLE))
def test_an_unusable_answer_fails_with_one_error_naming_the_call(h: Harness, case: str) -> None:
    method, path, spec, says = UNUSABLE[case]
    event = h.opened(FILES)
    fault(h, method=method, path=path, count=9, **spec)

    run = h.run(event)

    message = one_error(run)
    assert f"{method} {path} answered 200" in message
    assert "retrying" not in run.stderr, "not retried, and no other call cut off half-way"
    for words in says:
        assert words in message
    assert h.github_writes() == []
    if method == "GET":
        assert h.sandbox_writes() == [], "stopped before any write"
        assert h.change_sets() == []
    else:
        made = h.change_sets()
        assert len(made) == 2, "the creates before the unusable preflight stand"
        for cs in made:
            assert f"created change set `{cs['id']}`" in run.summary, "and the summary says so"
