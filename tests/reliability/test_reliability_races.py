"""Reruns and races.

The same event run five times (one change set, one sticky comment, no write after the first run,
no edit when nothing changed) is ``test_rerun_of_the_same_event_writes_nothing`` in
``tests/e2e/test_action_events.py``; a rerun of the merge (no second submit, no second result
comment) is ``test_merge_submits_once_and_posts_one_result_comment`` and
``test_merge_rerun_without_result_comment_submits_once`` there. Not repeated here.

Here: two runs of the same pull request at once, as two quick pushes give (``synchronize``
twice). The workflow's ``concurrency:`` group makes this rare, not impossible (a group only
queues runs of one workflow; a second workflow, a manual re-run or a cancelled-then-restarted run
still overlap), so the program itself must end with one change set per space.

And the race inside one run: the spaces are worked on in parallel, each waiting for its own
reads; a pull request touching more spaces than there are threads must still finish.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from reliability_support import (
    DOCS_SPACE,
    HANDBOOK_SPACE,
    MAPPING,
    REPO,
    Harness,
    no_traceback,
)

from action_harness import harness
from approvalflow_sync.sandbox import SandboxServer

FILES = ["docs/auth/login.md", "handbook/onboarding.md"]


@pytest.fixture
def h(tmp_path: Path, sandbox: SandboxServer) -> Iterator[Harness]:
    with harness(tmp_path, sandbox, MAPPING, Harness) as running:
        yield running


def creates(h: Harness) -> list[dict[str, Any]]:
    return [c for c in h.sandbox_calls() if (c["method"], c["path"]) == ("POST", "/changeSets")]


def test_two_runs_of_one_pull_request_at_once_end_with_one_change_set_per_space(
    h: Harness,
) -> None:
    event = h.opened(FILES)
    first = h.with_action(event, "synchronize")
    head = {**event["pull_request"]["head"], "sha": "b" * 40}
    h.github.add_commit(REPO, head["sha"])
    second = h.with_action(event, "synchronize", head=head)
    # Slow creates: each run lists the spaces before the other's creates land, so both create.
    h.admin("POST", "/faults", {"method": "POST", "path": "/changeSets", "delay": 1.5, "count": 4})
    started = [h.start(first), h.start(second)]
    # Once all four creates are under way, slow the lists that follow them and the archives:
    # each run then sees both change sets before either archive lands, and both archive the
    # same duplicate. The race happens every time, not by luck.
    deadline = time.monotonic() + 20
    while len(creates(h)) < 4 and time.monotonic() < deadline:
        time.sleep(0.02)
    for path in ("/changeSets", "/changeSets/archive"):
        method = "GET" if path == "/changeSets" else "POST"
        h.admin("POST", "/faults", {"method": method, "path": path, "delay": 1.0, "count": 4})

    runs = [run.wait() for run in started]

    for run in runs:
        assert run.returncode == 0, run.describe()
        no_traceback(run)
        assert run.annotations("error") == []
    assert len(creates(h)) == 4, "the race happened: each run created in each space"
    archives = [c["status"] for c in h.sandbox_calls() if c["path"] == "/changeSets/archive"]
    assert sorted(archives) == [200, 200, 400, 400], "both runs archived both duplicates"

    change_sets = h.change_sets()
    assert len(change_sets) == 4
    for space in (DOCS_SPACE, HANDBOOK_SPACE):
        mine = sorted(
            (cs for cs in change_sets if cs["spaceId"] == space),
            key=lambda cs: (cs["createdAt"], cs["id"]),
        )
        assert [cs["status"] == "open" for cs in mine] == [True, False], "the oldest is kept"
        kept, extra = mine
        said = [
            w.message
            for run in runs
            for w in run.annotations("warning")
            if extra["id"] in w.message and f"kept {kept['id']}" in w.message
        ]
        assert any(message.startswith("Archived duplicate") for message in said), said
        assert any("was archived by that run" in message for message in said), said
        for run in runs:
            assert kept["id"] in run.outputs["change-set-ids"], "both runs report the kept one"


def test_a_pull_request_touching_more_spaces_than_threads_finishes(h: Harness) -> None:
    count = 20  # more than the 16 threads of the run's pool
    h.admin(
        "POST",
        "/seed",
        {
            "spaces": [
                {
                    "id": str(1000 + n),
                    "key": f"S{n}",
                    "name": f"Space {n}",
                    "workflows": [{"id": f"wf-{n}", "name": "Review", "active": True}],
                    "pages": [{"id": str(5000 + n), "title": f"Page {n}", "version": 1}],
                }
                for n in range(count)
            ]
        },
    )
    h.write_mapping(
        "pages:\n"
        + "".join(
            f'  - path: docs/s{n}/**\n    page: "{5000 + n}"\n    space: "{1000 + n}"\n'
            for n in range(count)
        )
    )
    event = h.opened([f"docs/s{n}/index.md" for n in range(count)])

    run = h.start(event).wait(timeout=30)  # it used to wait forever

    assert run.returncode == 0, run.describe()
    assert run.outputs["pages"] == str(count)
    assert len([cs for cs in h.change_sets() if cs["status"] == "open"]) == count
