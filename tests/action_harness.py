"""Run ``approvalflow-sync run`` the way the Actions runner does, against loopback servers.

:class:`ActionHarness` owns a workspace (with the mapping file), writes the event file, sets
the environment the runner and the composite ``action.yml`` step set (``GITHUB_*`` and every
``INPUT_*`` with its default), runs the program as a subprocess and reads back what a workflow
would see: the exit code, the log's workflow commands, the ``GITHUB_OUTPUT`` file (parsed as the
runner parses it) and the job summary. It also reads both servers: comments and statuses of the
fake GitHub, change sets and the call log of the ApprovalFlow sandbox.
"""

from __future__ import annotations

import copy
import json
import re
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import httpx

from approvalflow_sync.approvalflow.base_url import build_base_url
from approvalflow_sync.sandbox import (
    APP_ID,
    CLOUD_ID,
    DEFAULT_TOKEN,
    ENVIRONMENT_ID,
    SandboxServer,
)
from conftest import clean_env
from fakes.github import ACTIONS_TOKEN, FakeGitHub

PAYLOADS = Path(__file__).resolve().parent / "data" / "github" / "payloads"
MAPPING_PATH = ".github/approvalflow.yml"
MIN_SECRET = 8
"""Shorter test values ("r", "s") are not secrets worth searching for: they occur anywhere."""
STICKY_MARKER = "<!-- approvalflow-sync:sticky -->"
RESULT_MARKER = "<!-- approvalflow-sync:result -->"
PREFLIGHT_PATHS = frozenset({"/changeSets/preflight", "/pages/preflight"})
SECRET_INPUTS = ("access-token", "github-token", "client-secret", "refresh-token", "secrets-token")
"""The inputs that hold secrets: the tests' own list, never the code's (issue 12, item 16)."""
MASK = "::add-mask::"

ACTION_DEFAULTS: dict[str, str] = {
    "base-url": "",
    "cloud-id": "",
    "site": "",
    "app-id": "",
    "environment-id": "",
    "access-token": "",
    "mapping-file": ".github/approvalflow.yml",
    "instance": "",
    "github-token": "",
    "comment-author": "",
    "mode": "auto",
    "pr-number": "",
    "status-context": "ApprovalFlow / preflight",
    "comment": "true",
    "fail-on-blocked": "false",
    "archive-on-close": "true",
    "title-template": "",
    "confluence-url": "",
    "dry-run": "false",
    "approval-status-context": "ApprovalFlow / approval",
    "repository": "",
    "since": "14",
    "time-budget": "50",
    "resume-file": "",
    "etag-file": "",
    "page-ids-from-files": "true",
}
"""The inputs of ``action.yml`` with their defaults: the composite step sets every one."""

REAL_BASE_URLS = {
    "reference": build_base_url(cloud_id=CLOUD_ID, app_id=APP_ID, environment_id=ENVIRONMENT_ID),
    "rich": build_base_url(site="acme.atlassian.net", app_id=APP_ID, environment_id=ENVIRONMENT_ID),
}
"""The base URL a run is given, by the sandbox's answer mode: each documented path shape is used
(on the sandbox's loopback address) by every end-to-end run of one mode."""


def load_payload(name: str) -> dict[str, Any]:
    """A real webhook payload from ``tests/data/github/payloads`` (e.g. ``opened``)."""
    data: dict[str, Any] = json.loads(
        (PAYLOADS / f"pull_request.{name}.json").read_text(encoding="utf-8")
    )
    return data


def _minimal_side(side: Mapping[str, Any]) -> dict[str, Any]:
    repo = side.get("repo") or {}
    return {
        "ref": side["ref"],
        "sha": side["sha"],
        "repo": {key: repo.get(key) for key in ("id", "url", "name")},
    }


def workflow_run_event(event: Mapping[str, Any], *, listed: bool) -> dict[str, Any]:
    """The ``completed`` ``workflow_run`` event of a workflow that ran on ``event``'s pull request.

    GitHub lists the pull request in ``workflow_run.pull_requests`` only when its head is a
    branch of this repository (``listed``); for a fork's it leaves the list empty.
    """
    pr, repository = event["pull_request"], event["repository"]
    minimal = {
        "id": pr["id"],
        "number": pr["number"],
        "url": pr["url"],
        "head": _minimal_side(pr["head"]),
        "base": _minimal_side(pr["base"]),
    }
    run = {
        "id": 30433642,
        "name": "Docs approval (pull request)",
        "event": "pull_request",
        "status": "completed",
        "conclusion": "success",
        "head_branch": pr["head"]["ref"],
        "head_sha": pr["head"]["sha"],
        "head_repository": copy.deepcopy(pr["head"].get("repo")),
        "pull_requests": [minimal] if listed else [],
        "repository": copy.deepcopy(repository),
    }
    return {
        "action": "completed",
        "workflow_run": run,
        "repository": copy.deepcopy(repository),
        "sender": copy.deepcopy(event["sender"]),
    }


def workflow_dispatch_event(event: Mapping[str, Any]) -> dict[str, Any]:
    """A ``workflow_dispatch`` event of ``event``'s repository (it names no pull request)."""
    return {
        "inputs": {"pr-number": str(event["pull_request"]["number"])},
        "ref": "refs/heads/main",
        "repository": copy.deepcopy(event["repository"]),
        "sender": copy.deepcopy(event["sender"]),
        "workflow": ".github/workflows/docs-approval.yml",
    }


def merge_group_event(event: Mapping[str, Any], head_sha: str) -> dict[str, Any]:
    """The merge queue's ``checks_requested`` for a group with ``event``'s pull request on top."""
    pr = event["pull_request"]
    base, base_sha = pr["base"]["ref"], pr["base"]["sha"]
    return {
        "action": "checks_requested",
        "merge_group": {
            "head_sha": head_sha,
            "head_ref": f"refs/heads/gh-readonly-queue/{base}/pr-{pr['number']}-{base_sha}",
            "base_sha": base_sha,
            "base_ref": f"refs/heads/{base}",
            "head_commit": {
                "id": head_sha,
                "tree_id": "9c2e5d3a4b1f60718293a4b5c6d7e8f901234567",
                "message": f"Merge pull request #{pr['number']}",
                "timestamp": "2019-05-15T15:21:00Z",
                "author": {"name": "GitHub", "email": "noreply@github.com"},
                "committer": {"name": "GitHub", "email": "noreply@github.com"},
            },
        },
        "repository": copy.deepcopy(event["repository"]),
        "sender": copy.deepcopy(event["sender"]),
    }


def parse_output_file(text: str) -> dict[str, str]:
    """The outputs in a ``GITHUB_OUTPUT`` file, read the way the runner reads it.

    Each entry is ``name=value`` on one line, or ``name<<DELIMITER``, the value's lines, then
    a line holding only ``DELIMITER``; a later entry of the same name wins. A heredoc that is
    never closed is an error, as it fails the step on the runner.
    """
    outputs: dict[str, str] = {}
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    index = 0
    while index < len(lines):
        line = lines[index]
        index += 1
        if not line.strip():
            continue
        equals, heredoc = line.find("="), line.find("<<")
        if equals >= 0 and (heredoc < 0 or equals < heredoc):
            outputs[line[:equals]] = line[equals + 1 :]
            continue
        if heredoc <= 0:
            raise ValueError(f"invalid GITHUB_OUTPUT line {line!r}")
        name, delimiter = line[:heredoc], line[heredoc + 2 :]
        value: list[str] = []
        while True:
            if index >= len(lines):
                raise ValueError(f"GITHUB_OUTPUT: delimiter {delimiter!r} never closes {name!r}")
            current = lines[index]
            index += 1
            if current == delimiter:
                break
            value.append(current)
        outputs[name] = "\n".join(value)
    return outputs


def _unescape(text: str, *, prop: bool) -> str:
    if prop:
        text = text.replace("%3A", ":").replace("%2C", ",")
    return text.replace("%0D", "\r").replace("%0A", "\n").replace("%25", "%")


@dataclass(frozen=True)
class Command:
    """A workflow command the program printed: ``::name k=v,k=v::message`` (unescaped)."""

    name: str
    properties: Mapping[str, str]
    message: str


def parse_commands(log: str) -> list[Command]:
    """Every workflow command line in ``log``."""
    commands: list[Command] = []
    for line in log.splitlines():
        stripped = line.lstrip()
        if not stripped.startswith("::"):
            continue
        head, sep, message = stripped[2:].partition("::")
        if not sep:
            continue
        name, _, raw_props = head.partition(" ")
        props: dict[str, str] = {}
        for pair in filter(None, raw_props.split(",")):
            key, _, value = pair.partition("=")
            props[key] = _unescape(value, prop=True)
        commands.append(Command(name, props, _unescape(message, prop=False)))
    return commands


@dataclass(frozen=True)
class ActionRun:
    """What one run left behind, as a workflow would see it."""

    returncode: int
    stdout: str
    stderr: str
    outputs: dict[str, str]
    summary: str
    commands: list[Command] = field(default_factory=list)

    def annotations(self, kind: str) -> list[Command]:
        """The ``error``/``warning``/``notice`` commands."""
        return [command for command in self.commands if command.name == kind]

    def describe(self) -> str:
        """For assertion messages."""
        return f"exit {self.returncode}\n--- stdout\n{self.stdout}\n--- stderr\n{self.stderr}"


class ActionHarness:
    """A workspace, an event and the two loopback servers; :meth:`run` runs the action."""

    def __init__(self, root: Path, github: FakeGitHub, sandbox: SandboxServer) -> None:
        self.root = root
        self.github = github
        self.sandbox = sandbox
        self.workspace = root / "workspace"
        (self.workspace / ".github").mkdir(parents=True, exist_ok=True)
        # a checkout, as actions/checkout leaves one (tests of no checkout delete .git)
        subprocess.run(["git", "init", "-q", str(self.workspace)], check=True)
        self.elsewhere = root / "cwd"
        self.elsewhere.mkdir(exist_ok=True)
        self.runs = 0
        self._lock = threading.Lock()
        self._http = httpx.Client(trust_env=False, timeout=10)

    def close(self) -> None:
        """Close the admin HTTP client."""
        self._http.close()

    # -- the repository and the pull request ---------------------------------------------------

    def write_mapping(self, text: str, path: str = MAPPING_PATH) -> None:
        """The mapping file in the checked-out workspace."""
        target = self.workspace / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")

    def add_pull_request(
        self,
        payload: Mapping[str, Any],
        files: Sequence[Mapping[str, Any] | str],
        **pr_fields: Any,
    ) -> dict[str, Any]:
        """Seed the fake with the payload's pull request (fields overridden), return an event.

        The returned event is ``payload`` with its ``pull_request`` replaced by the fake's copy,
        so every URL in it points at the fake, as the runner's event file would at GitHub.
        """
        source = copy.deepcopy(dict(payload))
        source["pull_request"] = {**source["pull_request"], **copy.deepcopy(pr_fields)}
        stored = self.github.add_pull_request(source, files=files)
        return {**source, "pull_request": stored}

    @staticmethod
    def with_action(event: Mapping[str, Any], action: str, **pr_fields: Any) -> dict[str, Any]:
        """The same pull request's event with another action and some fields changed."""
        changed = copy.deepcopy(dict(event))
        changed["action"] = action
        changed["pull_request"] = {**changed["pull_request"], **copy.deepcopy(pr_fields)}
        return changed

    # -- running -------------------------------------------------------------------------------

    def start(
        self,
        event: Mapping[str, Any],
        *,
        event_name: str = "pull_request",
        token: str = ACTIONS_TOKEN,
        inputs: Mapping[str, str] | None = None,
        env: Mapping[str, str] | None = None,
        argv: Sequence[str] | None = None,
        event_text: str | None = None,
        event_path: str | None = None,
    ) -> Started:
        """Start ``approvalflow-sync run`` as a workflow step would; :meth:`Started.wait` ends it.

        ``env`` is added last (``RUNNER_DEBUG``, or an empty string to unset a variable);
        ``argv`` replaces ``-m approvalflow_sync run`` after the interpreter; ``event_text``
        is written as the event file instead of ``event``; ``event_path`` points elsewhere.
        """
        with self._lock:
            self.runs += 1
        step = Path(tempfile.mkdtemp(prefix=f"step-{self.runs}-", dir=self.root))
        path = step / "event.json"
        path.write_text(json.dumps(event) if event_text is None else event_text, "utf-8")
        output_path = step / "github_output"
        summary_path = step / "step_summary.md"
        output_path.write_text("", encoding="utf-8")
        summary_path.write_text("", encoding="utf-8")
        values = {
            **ACTION_DEFAULTS,
            "base-url": self.sandbox.url_for(REAL_BASE_URLS[self.sandbox.app.answers]),
            "access-token": DEFAULT_TOKEN,
            "github-token": token,
            **(inputs or {}),
        }
        repository = event.get("repository", {}).get("full_name", "") if event else ""
        variables = clean_env(
            GITHUB_ACTIONS="true",
            CI="true",
            GITHUB_EVENT_NAME=event_name,
            GITHUB_EVENT_PATH=str(path) if event_path is None else event_path,
            GITHUB_API_URL=self.github.api_url,
            GITHUB_SERVER_URL=self.github.web_url,
            GITHUB_REPOSITORY=str(repository),
            GITHUB_OUTPUT=str(output_path),
            GITHUB_STEP_SUMMARY=str(summary_path),
            GITHUB_WORKSPACE=str(self.workspace),
            GITHUB_RUN_ID="4242",
            NO_PROXY="127.0.0.1,localhost",
            no_proxy="127.0.0.1,localhost",
            **{f"INPUT_{name.upper()}": value for name, value in values.items()},
        )
        for name, value in (env or {}).items():
            if value:
                variables[name] = value
            else:
                variables.pop(name, None)
        process = subprocess.Popen(
            [sys.executable, *(argv or ["-m", "approvalflow_sync", "run"])],
            env=variables,
            cwd=self.elsewhere,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        secrets = [values.get(name, "") for name in SECRET_INPUTS]
        masked = variables.get("GITHUB_ACTIONS") == "true"  # masks are for the runner only
        return Started(
            process, output_path, summary_path, harness=self, event=event, secrets=secrets,
            masked=masked,
        )  # fmt: skip

    def run(self, event: Mapping[str, Any], **options: Any) -> ActionRun:
        """Run the program to its end (the options of :meth:`start`)."""
        return self.start(event, **options).wait()

    def assert_no_leak(
        self, run: ActionRun, event: Mapping[str, Any], secrets: Sequence[str]
    ) -> None:
        """Every secret is absent from the log, the summary, the outputs and the comments.

        Checked after every run of every scenario. The only places a secret may stand are its
        ``::add-mask::`` line and the ``refresh-token`` output, which hands it on on purpose.
        """
        log = "\n".join(line for line in run.stdout.splitlines() if not line.startswith(MASK))
        outputs = repr({k: v for k, v in run.outputs.items() if k != "refresh-token"})
        number = event.get("pull_request", {}).get("number")
        repo = event.get("repository", {}).get("full_name", "")
        comments = ""
        if number is not None and repo:
            try:
                comments = " ".join(c["body"] for c in self.github.issue_comments(repo, number))
            except KeyError:  # the pull request was never added to the fake
                comments = ""
        for secret in secrets:
            if len(secret) < MIN_SECRET:
                continue
            for where, text in (
                ("stdout", log),
                ("stderr", run.stderr),
                ("summary", run.summary),
                ("outputs", outputs),
                ("comments", comments),
            ):
                assert secret not in text, f"a secret leaked into {where}"

    # -- the fake GitHub -----------------------------------------------------------------------

    def comments(self, event: Mapping[str, Any]) -> list[dict[str, Any]]:
        """The pull request's conversation comments, oldest first."""
        repo = event["repository"]["full_name"]
        return self.github.issue_comments(repo, int(event["pull_request"]["number"]))

    def ours(self, event: Mapping[str, Any], marker: str = STICKY_MARKER) -> list[dict[str, Any]]:
        """The comments by the bot that start with ``marker``."""
        return [
            c
            for c in self.comments(event)
            if c["user"]["type"] == "Bot" and c["body"].startswith(marker)
        ]

    def statuses(self, event: Mapping[str, Any], sha: str | None = None) -> list[dict[str, Any]]:
        """Statuses on ``sha`` (default: the head commit), newest first."""
        repo = event["repository"]["full_name"]
        return self.github.statuses(repo, sha or event["pull_request"]["head"]["sha"])

    def github_writes(self) -> list[tuple[str, str]]:
        """The (method, route) of every call to the fake that was not a read."""
        return [(c.method, c.route) for c in self.github.calls if c.method != "GET"]

    # -- the ApprovalFlow sandbox --------------------------------------------------------------

    def admin(self, method: str, path: str, body: object | None = None) -> Any:
        """A call to the sandbox's admin surface (``/_sandbox/...``)."""
        response = self._http.request(method, f"{self.sandbox.admin_url}{path}", json=body)
        response.raise_for_status()
        return response.json()

    def api(self, path: str, body: Mapping[str, Any]) -> Any:
        """A POST to the ApprovalFlow API itself, as another user of the site would make it."""
        response = self._http.post(
            f"{self.sandbox.base_url}{path}",
            json=dict(body),
            headers={"Authorization": f"Bearer {DEFAULT_TOKEN}"},
        )
        response.raise_for_status()
        return response.json()

    def change_sets(self, reference_url: str | None = None) -> list[dict[str, Any]]:
        """Every change set in the sandbox (archived included), optionally of one link."""
        found: list[dict[str, Any]] = self.admin("GET", "/state")["changeSets"]
        if reference_url is None:
            return found
        return [cs for cs in found if cs["referenceUrl"] == reference_url]

    def sandbox_calls(self) -> list[dict[str, Any]]:
        """The sandbox's API call log (method, path, query, body, status)."""
        calls: list[dict[str, Any]] = self.admin("GET", "/calls")["calls"]
        return calls

    def sandbox_writes(self) -> list[dict[str, Any]]:
        """Calls that change ApprovalFlow: every POST except the two preflights."""
        return [
            c
            for c in self.sandbox_calls()
            if c["method"] != "GET" and c["path"] not in PREFLIGHT_PATHS
        ]

    def forget_calls(self) -> None:
        """Clear both servers' call logs."""
        self.admin("DELETE", "/calls")
        self.github.clear_calls()


def by_space(change_sets: Sequence[Mapping[str, Any]]) -> dict[str, Mapping[str, Any]]:
    """Change sets keyed by space (the caller checks there is one per space)."""
    found: dict[str, Mapping[str, Any]] = {}
    for cs in change_sets:
        assert cs["spaceId"] not in found, f"two change sets in space {cs['spaceId']}"
        found[cs["spaceId"]] = cs
    return found


def table_lines(markdown: str) -> list[str]:
    """The lines of the markdown tables in ``markdown``."""
    return [line for line in markdown.splitlines() if line.startswith("|")]


Kind = TypeVar("Kind", bound=ActionHarness)


@contextmanager
def harness(
    root: Path, sandbox: SandboxServer, mapping: str | None, kind: type[Kind]
) -> Iterator[Kind]:
    """A harness with its own fake GitHub, which must have answered as GitHub would."""
    with FakeGitHub() as fake:
        action = kind(root, fake, sandbox)
        if mapping is not None:
            action.write_mapping(mapping)
        try:
            yield action
        finally:
            action.close()
        assert fake.errors == []


class Started:
    """A run in progress."""

    def __init__(
        self,
        process: subprocess.Popen[str],
        output: Path,
        summary: Path,
        *,
        harness: ActionHarness,
        event: Mapping[str, Any],
        secrets: Sequence[str],
        masked: bool,
    ) -> None:
        self.process = process
        self._masked = masked
        self._output = output
        self._summary = summary
        self._harness = harness
        self._event = event
        self._secrets = secrets

    def wait(self, timeout: float = 90) -> ActionRun:
        """Wait for the end; what a workflow would see."""
        try:
            stdout, stderr = self.process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            stdout, stderr = self.process.communicate()
            raise AssertionError(f"the run did not end in {timeout}s\n{stdout}\n{stderr}") from None
        run = ActionRun(
            returncode=self.process.returncode,
            stdout=stdout,
            stderr=stderr,
            outputs=parse_output_file(self._output.read_text(encoding="utf-8")),
            summary=self._summary.read_text(encoding="utf-8"),
            commands=parse_commands(stdout),
        )
        if self._masked:
            assert_masked_first(run.stdout, self._secrets)
        secrets = [*self._secrets, run.outputs.get("refresh-token", "")]
        self._harness.assert_no_leak(run, self._event, secrets)
        return run


def assert_masked_first(stdout: str, secrets: Sequence[str]) -> None:
    """Each line of each secret stands in an ``::add-mask::`` line before any other output.

    Checked after every run of every scenario (the runner masks line by line, blank lines not).
    """
    lines = stdout.split("\n")
    first = next(i for i, line in enumerate(lines) if not line.startswith(MASK))
    masked = {_unescape(line.removeprefix(MASK), prop=False) for line in lines[:first]}
    for secret in secrets:
        for piece in re.split(r"\r\n|\r|\n", secret):
            assert not piece.strip() or piece in masked, "a secret input was not masked first"
