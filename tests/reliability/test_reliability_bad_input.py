"""Bad configuration and bad events: exit 2, one precise ``::error::``, the long form in the job
summary, no traceback, and no call to either server that writes.

Every case is its own run of ``approvalflow-sync run`` with its own sandbox and fake GitHub; the
runs are started together by a module fixture (they are independent and mostly wait on the
interpreter's start-up), and each case is then checked by its own test.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from reliability_support import (
    ActionRun,
    Harness,
    no_traceback,
    runner_commands,
)

from approvalflow_sync.sandbox import SandboxServer
from fakes.github import FakeGitHub

SOURCE = ".github/approvalflow.yml"
RULE = 'space: "12345"\npages:\n  - path: docs/**\n    page: "67890"\n'


@dataclass(frozen=True)
class Case:
    """One bad input and what the single error must say about it."""

    mapping: str | None = RULE
    """The mapping file's text; None: no file."""
    inputs: Mapping[str, str] = field(default_factory=dict)
    event: Callable[[dict[str, Any]], dict[str, Any]] | None = None
    """Turns the good ``opened`` event into the bad one."""
    options: Mapping[str, Any] = field(default_factory=dict)
    """More options of :meth:`Harness.start` (event name, event file, environment)."""
    where: tuple[int, int] | None = None
    """Line and column of the mapping problem; None for an input or an event problem."""
    says: tuple[str, ...] = ()
    """Fragments of the message: what is wrong and how to fix it."""
    workspace: Mapping[str, str] = field(default_factory=dict)
    """More files of the checked-out repository."""
    outside: str | None = None
    """Make the mapping file a symlink to a file of this name outside the workspace."""


def without(path: str) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """The event without the field at ``path`` (``pull_request.head``)."""

    def change(event: dict[str, Any]) -> dict[str, Any]:
        changed: dict[str, Any] = json.loads(json.dumps(event))
        *parents, last = path.split(".")
        target = changed
        for key in parents:
            target = target[key]
        del target[last]
        return changed

    return change


def push(event: dict[str, Any]) -> dict[str, Any]:
    return {"ref": "refs/heads/main", "after": "b" * 40, "repository": event["repository"]}


def merge_group_on_main(event: dict[str, Any]) -> dict[str, Any]:
    """A merge group whose ref is no merge queue's."""
    group = {"head_sha": "c" * 40, "head_ref": "refs/heads/main", "base_ref": "refs/heads/main"}
    return {"action": "checks_requested", "merge_group": group, "repository": event["repository"]}


HUGE = RULE + "# padding\n" * (5 * 1024 * 1024 // 10 + 1)

CASES: dict[str, Case] = {
    # -- the mapping file
    "mapping-missing": Case(
        mapping=None, says=("does not exist", "create it, or set the mapping-file input")
    ),
    "mapping-empty": Case(mapping="", where=(1, 1), says=("is empty", "write a mapping such as")),
    "mapping-not-yaml": Case(
        mapping='space: "12345"\npages: [{path: docs/**, page: "1"\n',
        where=(3, 1),
        says=("invalid YAML", "check the indentation and quotes"),
    ),
    "mapping-tab-indented": Case(
        mapping='space: "12345"\npages:\n  - path: docs/**\n\tpage: "67890"\n',
        where=(4, 1),
        says=("tabs are not allowed", "use spaces"),
    ),
    "mapping-unknown-key": Case(
        mapping=RULE + '    pgae: "67891"\n', where=(5, 5), says=("unknown key 'pgae'", "'page'")
    ),
    "mapping-rule-without-page": Case(
        mapping='space: "12345"\npages:\n  - path: docs/**\n',
        where=(3, 5),
        says=("no 'page'", "add the page id"),
    ),
    "mapping-page-id-not-digits": Case(
        mapping=RULE.replace('"67890"', '"DOCS-1"'),
        where=(4, 11),
        says=("'DOCS-1' is not a page id", "give its digits"),
    ),
    "mapping-empty-pattern": Case(
        mapping=RULE.replace("docs/**", '""'), where=(3, 11), says=("empty pattern", "such as")
    ),
    "mapping-invalid-pattern": Case(
        mapping=RULE.replace("docs/**", '"docs/[a-"'),
        where=(3, 11),
        says=("'docs/[a-'", "close it"),
    ),
    "mapping-duplicate-rules": Case(
        mapping=RULE + '  - path: docs/**\n    page: "67890"\n',
        where=(5, 5),
        says=("repeats the rule at line 3", "remove one"),
    ),
    "mapping-huge": Case(
        mapping=HUGE, where=(1, 1), says=("over the 5 MB", "map whole directories")
    ),
    # -- inputs
    "input-base-url-parts-missing": Case(
        inputs={"base-url": "", "cloud-id": "cloud-1"},
        says=("input app-id, input environment-id: missing", "give them"),
    ),
    "input-base-url-not-https": Case(
        inputs={"base-url": "http://approvalflow.example.com/svc"},
        says=("input base-url", "plain http", "use https", "127.0.0.1 or localhost"),
    ),
    "input-base-url-and-its-parts": Case(
        inputs={"cloud-id": "cloud-1"},
        says=("input base-url: given together with input cloud-id", "not both"),
    ),
    "input-conflicting-credentials": Case(
        inputs={"refresh-token": "a-refresh-token"},
        says=("inputs access-token and refresh-token: both given", "give one"),
    ),
    "input-bad-mode": Case(
        inputs={"mode": "deploy"}, says=("input mode: 'deploy' is not a mode", "use one of auto")
    ),
    "input-title-template-unknown-field": Case(
        inputs={"title-template": "PR {nope}"},
        says=("input title-template: unknown field {nope}", "use {number}, {title}"),
    ),
    "input-title-template-attribute": Case(
        inputs={"title-template": "{title.__class__.__mro__}"},
        says=("input title-template: unknown field {title.__class__.__mro__}",),
    ),
    "input-title-template-index": Case(
        inputs={"title-template": "{title[0]}"},
        says=("input title-template: unknown field {title[0]}",),
    ),
    "input-title-template-format-spec": Case(
        inputs={"title-template": "{number:>50000000}"},
        says=("input title-template: write the field plainly as {number}",),
    ),
    "input-title-template-conversion": Case(
        inputs={"title-template": "{title!r}"},
        says=("input title-template: write the field plainly as {title}",),
    ),
    "input-mapping-file-symlinked-outside": Case(
        mapping=None,
        outside="elsewhere.yml",
        says=(
            "input mapping-file: '.github/approvalflow.yml' resolves to a file outside the "
            "workspace",
        ),
    ),
    "input-bad-boolean": Case(
        inputs={"fail-on-blocked": "yes"},
        says=("input fail-on-blocked: 'yes' is not a boolean", "use true or false"),
    ),
    # -- the event
    "event-file-missing": Case(
        options={"event_path": "/nonexistent/event.json"},
        says=("GITHUB_EVENT_PATH: cannot read", "point it at the event payload file"),
    ),
    "event-file-unreadable": Case(
        options={"event_path": "/"},
        says=("GITHUB_EVENT_PATH: cannot read", "point it at the event payload file"),
    ),
    "event-file-not-json": Case(
        options={"event_text": '{"action": "opened", '},
        says=("is not JSON", "point it at the event payload file"),
    ),
    "event-not-a-pr-with-mode-sync": Case(
        inputs={"mode": "sync"},
        event=push,
        options={"event_name": "push"},
        says=("needs a pull request", "this run is 'push'", "pass pr-number"),
    ),
    "event-workflow-dispatch-without-pr-number": Case(
        event=push,
        options={"event_name": "workflow_dispatch"},
        says=("input pr-number: empty, and a workflow_dispatch event carries no pull request",),
    ),
    "event-merge-group-without-queue-ref": Case(
        event=merge_group_on_main,
        options={"event_name": "merge_group"},
        says=("'merge_group' holds no merge queue commit and ref", "gh-readonly-queue"),
    ),
    "event-without-pull-request": Case(
        event=without("pull_request"), says=("'pull_request' is missing", "payload")
    ),
    "event-without-head": Case(
        event=without("pull_request.head"), says=("'head.sha' is missing", "payload")
    ),
}


UNMATCHED = Case(
    mapping=RULE + '  - path: "handbook/nowhere/**"\n    page: "76540"\n    space: "54321"\n',
    workspace={"docs/index.md": "# Docs\n"},
)
"""Not bad input: a rule whose pattern matches no file of the repository."""

DEBUG = {
    switch: Case(inputs={"mode": "deploy"}, options={"env": {switch: value}})
    for switch, value in (("RUNNER_DEBUG", "1"), ("ACTIONS_STEP_DEBUG", "true"))
}
"""The bad-mode case with each of the runner's debug switches on."""


@dataclass(frozen=True)
class Outcome:
    """What one bad run left: the run, and every call each server received."""

    run: ActionRun
    sandbox_calls: list[dict[str, Any]]
    github_writes: list[tuple[str, str]]
    change_sets: list[dict[str, Any]]


def _run_case(case: Case, root: Path) -> Outcome:
    with SandboxServer(host="127.0.0.1", port=0) as sandbox, FakeGitHub() as fake:
        h = Harness(root, fake, sandbox)
        try:
            if case.mapping is not None:
                h.write_mapping(case.mapping)
            for path, text in case.workspace.items():
                h.write_mapping(text, path)
            if case.outside is not None:
                (root / case.outside).write_text(RULE, encoding="utf-8")
                (h.workspace / SOURCE).symlink_to(root / case.outside)
            event = h.opened(["docs/auth/login.md"])
            if case.event is not None:
                event = case.event(event)
            run = h.run(event, inputs=case.inputs, **case.options)
            return Outcome(run, h.sandbox_calls(), h.github_writes(), h.change_sets())
        finally:
            h.close()


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Outcome]:
    """Every case of this module run once, four at a time."""
    everything = {**CASES, **DEBUG, "unmatched": UNMATCHED}
    with ThreadPoolExecutor(4) as pool:
        futures = {
            name: pool.submit(_run_case, case, tmp_path_factory.mktemp(name))
            for name, case in everything.items()
        }
    return {name: future.result() for name, future in futures.items()}


@pytest.mark.parametrize("name", list(CASES))
def test_bad_input_fails_with_one_precise_error_and_writes_nothing(
    outcomes: dict[str, Outcome], name: str
) -> None:
    case, outcome = CASES[name], outcomes[name]
    run = outcome.run

    assert run.returncode == 2, run.describe()
    no_traceback(run)
    errors = [c for c in runner_commands(run.stdout + run.stderr) if c.name == "error"]
    assert len(errors) == 1, run.describe()
    (error,) = run.annotations("error")
    for words in case.says:
        assert words in error.message, error.message
    if case.where is not None:
        assert error.properties["file"] == SOURCE
        line, col = case.where
        assert (error.properties["line"], error.properties["col"]) == (str(line), str(col))
    elif case.mapping is None and case.outside is None:
        assert error.properties["file"] == SOURCE
    else:
        assert "file" not in error.properties, "an input or event problem has no file"
    assert error.message in run.summary, "the long form is in the job summary"
    assert "configuration error" in run.summary
    assert outcome.sandbox_calls == [], "ApprovalFlow was not even called"
    assert outcome.github_writes == []
    assert run.outputs == {}


# -- a pattern that matches no file is a warning, not an error ------------------------------------


def test_a_pattern_that_matches_nothing_is_no_error(outcomes: dict[str, Outcome]) -> None:
    run = outcomes["unmatched"].run
    assert run.returncode == 0, run.describe()
    no_traceback(run)
    assert run.annotations("error") == []
    assert len(outcomes["unmatched"].change_sets) == 1


def test_a_pattern_that_matches_nothing_is_a_warning_on_its_line(
    outcomes: dict[str, Outcome],
) -> None:
    run = outcomes["unmatched"].run
    warned = [w for w in run.annotations("warning") if w.properties.get("file") == SOURCE]
    assert len(warned) == 1, run.describe()
    assert "handbook/nowhere/**" in warned[0].message
    assert warned[0].properties.get("line") == "5"


# -- tracebacks only when debugging --------------------------------------------------------------


@pytest.mark.parametrize("switch", list(DEBUG))
def test_debug_logging_keeps_the_one_error_and_exit_2(
    outcomes: dict[str, Outcome], switch: str
) -> None:
    run = outcomes[switch].run
    assert run.returncode == 2, run.describe()
    assert len(run.annotations("error")) == 1


@pytest.mark.parametrize("switch", list(DEBUG))
def test_debug_logging_shows_the_traceback(outcomes: dict[str, Outcome], switch: str) -> None:
    run = outcomes[switch].run
    assert "Traceback" in run.stdout + run.stderr, run.describe()
