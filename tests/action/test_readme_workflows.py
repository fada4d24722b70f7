"""The YAML the docs tell users to copy: every workflow lints clean, and the complete one runs.

Every ```yaml block of README.md and docs/*.md is a whole workflow, or says what else it is in
an HTML comment on the line before its fence (``<!-- yaml: steps -->``; the kinds are in
:data:`KINDS` and docs/development.md). Whole workflows, and steps or job keys wrapped into a
minimal workflow, go through actionlint with ``uses: approvalflow-sync/approvalflow-sync@…``
read as ``uses: ./``, so their inputs are checked against this ``action.yml``. The README's
complete workflow also runs under act, as in test_act_runner.py, against the sandbox and the
fake GitHub on 127.0.0.1.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
import yaml
from test_act_runner import (
    ACT_TIMEOUT,
    act_binary,
    act_offline,
    git,
    project_repository,
    pull_request_event,
    run_act,
)
from test_action_yml import TOOL_TIMEOUT, venv_tool

from approvalflow_sync.approvalflow.client import ApprovalFlowClient
from approvalflow_sync.approvalflow.oauth import exchange_code, exchange_refresh_token
from approvalflow_sync.approvalflow.scopes import CONSENT_SCOPES
from approvalflow_sync.core.mapping import load_mapping
from approvalflow_sync.core.markdown import has_marker
from approvalflow_sync.core.plan import linked_open
from approvalflow_sync.core.report import STICKY
from approvalflow_sync.sandbox import DEFAULT_TOKEN, SandboxServer
from approvalflow_sync.sandbox.oauth import DEFAULT_CLIENT_ID as CLIENT_ID
from approvalflow_sync.sandbox.oauth import DEFAULT_CLIENT_SECRET as CLIENT_SECRET
from fakes.github import ACTIONS_TOKEN, APP_TOKEN, GITHUB_ACTIONS_BOT, FakeGitHub

ROOT = Path(__file__).resolve().parents[2]
DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
PAYLOAD = ROOT / "tests/data/github/payloads/pull_request.opened.json"
REPOSITORY = "Codertocat/Hello-World"
OUR_ACTION = re.compile(r"(uses:\s*)approvalflow-sync/approvalflow-sync@\S+")

KINDS = ("complete workflow", "workflow", "steps", "job", "mapping", "other")
"""What a block may be marked as; an unmarked block must be a whole workflow."""
WORKFLOWS = ("complete workflow", "workflow")
LINTED = (*WORKFLOWS, "steps", "job")

FENCE = re.compile(r"^(?P<indent>[ ]*)```yaml[ ]*\n(?P<body>.*?)^(?P=indent)```[ ]*$", re.M | re.S)
MARK = re.compile(r"<!--\s*yaml:\s*(?P<mark>.*?)\s*-->\s*$")


@dataclass(frozen=True)
class Block:
    """One ```yaml block: where it is, what it is marked as, its text (dedented)."""

    where: str
    kind: str
    text: str


def _kind(mark: str | None, where: str) -> str:
    if mark is None:
        return "workflow"
    for kind in KINDS:
        if mark == kind or mark.startswith(f"{kind} "):
            return kind
    raise AssertionError(f"{where}: unknown mark <!-- yaml: {mark} -->; use one of {KINDS}")


def yaml_blocks(path: Path) -> list[Block]:
    """Every ```yaml block of a markdown file, with the mark on the line before its fence."""
    text = path.read_text(encoding="utf-8")
    blocks = []
    for match in FENCE.finditer(text):
        where = f"{path.relative_to(ROOT)}:{text.count(chr(10), 0, match.start()) + 1}"
        line_before = text[: match.start()].rstrip("\n").rpartition("\n")[2]
        mark = MARK.search(line_before)
        kind = _kind(mark["mark"] if mark else None, where)
        blocks.append(Block(where, kind, textwrap.dedent(match["body"])))
    return blocks


BLOCKS = [block for document in DOCUMENTS for block in yaml_blocks(document)]


class WorkflowLoader(yaml.SafeLoader):
    """YAML as GitHub reads a workflow: ``on`` is a key, not the boolean YAML 1.1 makes of it."""


_BOOL = "tag:yaml.org,2002:bool"
WorkflowLoader.yaml_implicit_resolvers = {
    first: [(tag, regex) for tag, regex in resolvers if tag != _BOOL]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
WorkflowLoader.add_implicit_resolver(
    _BOOL, re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


def load(text: str) -> Any:
    return yaml.load(text, Loader=WorkflowLoader)  # noqa: S506 - a SafeLoader subclass


def as_workflow(block: Block) -> str:
    """The block as a whole workflow file, our action read as ``./`` (this action.yml)."""
    text = OUR_ACTION.sub(r"\1./", block.text)
    if block.kind == "steps":
        return WRAPPER.format(job="", steps=textwrap.indent(text, " " * 6))
    if block.kind == "job":
        return WRAPPER.format(job=textwrap.indent(text, " " * 4), steps="      - run: 'true'\n")
    return text


WRAPPER = """\
name: wrapped
on: pull_request
permissions: {{}}
jobs:
  wrapped:
    runs-on: ubuntu-latest
{job}    steps:
{steps}"""


def complete_workflow() -> Block:
    [block] = [b for b in BLOCKS if b.kind == "complete workflow"]
    assert block.where.startswith("README.md:"), "the complete workflow is the README's"
    return block


# ---------------------------------------------------------------- every block is what it says


def test_the_docs_have_workflows_and_one_complete_one() -> None:
    kinds = [block.kind for block in BLOCKS]
    assert kinds.count("complete workflow") == 1
    assert kinds.count("workflow") >= 1
    assert {"steps", "mapping"} <= set(kinds)


@pytest.mark.parametrize("block", BLOCKS, ids=lambda b: b.where)
def test_each_yaml_block_is_what_its_mark_says(block: Block) -> None:
    data = load(block.text)
    is_workflow = isinstance(data, dict) and {"on", "jobs"} <= set(data)
    if block.kind in WORKFLOWS:
        assert is_workflow, f"{block.where}: not a whole workflow; mark what it is"
    else:
        assert not (isinstance(data, dict) and "jobs" in data), (
            f"{block.where}: a workflow marked {block.kind!r}: it must be linted as a workflow"
        )
    if block.kind == "steps":
        assert isinstance(data, list), block.where
        assert all(isinstance(step, dict) for step in data), block.where
    if block.kind == "job":
        assert isinstance(data, dict), block.where
    if block.kind == "mapping":
        load_mapping(block.text, block.where)  # raises MappingError with line:col if wrong


# ---------------------------------------------------------------- actionlint


def lint_project(root: Path, files: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """actionlint over workflow files in a git repository holding this action.yml."""
    actionlint = venv_tool("actionlint")
    workflows = root / ".github/workflows"
    workflows.mkdir(parents=True)
    shutil.copy2(ROOT / "action.yml", root / "action.yml")
    git(root, "init", "-q")  # actionlint resolves `uses: ./` from the repository's top
    for name, text in files.items():
        (workflows / name).write_text(text, encoding="utf-8")
    return subprocess.run(
        [actionlint, "-oneline", "-no-color", *(f".github/workflows/{name}" for name in files)],
        cwd=root, capture_output=True, text=True, timeout=TOOL_TIMEOUT, check=False,
    )  # fmt: skip


def file_name(block: Block) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "-", block.where) + ".yml"


def test_every_workflow_in_the_docs_passes_actionlint(tmp_path: Path) -> None:
    linted = {file_name(block): as_workflow(block) for block in BLOCKS if block.kind in LINTED}
    assert len(linted) == sum(block.kind in LINTED for block in BLOCKS)
    assert sum("uses: ./" in text for text in linted.values()) >= 2, "our action, checked"
    result = lint_project(tmp_path, linted)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout == ""


def test_the_lint_checks_our_action_inputs_against_action_yml(tmp_path: Path) -> None:
    broken = complete_workflow().text.replace("refresh-token-secret:", "refresh-token-secrett:")
    result = lint_project(tmp_path, {"broken.yml": as_workflow(Block("x", "workflow", broken))})
    assert result.returncode == 1
    assert 'input "refresh-token-secrett" is not defined in action "ApprovalFlow sync"' in (
        result.stdout
    )


# ---------------------------------------------------------------- what the complete one says


def expression_names(text: str, context: str) -> set[str]:
    return set(re.findall(rf"\b{context}\.([A-Za-z_][A-Za-z0-9_]*)", text))


def settings_table(readme: str) -> dict[str, str]:
    """``name -> variable|secret`` from the README's table of what to create."""
    rows = re.findall(r"^\| `([A-Z_]+)` \| (variable|secret) \|", readme, re.M)
    return dict(rows)


def test_the_complete_workflow_is_the_safe_refresh_token_setup() -> None:
    block = complete_workflow()
    workflow = load(block.text)
    assert set(workflow["on"]) == {"pull_request"}
    assert "paths" not in workflow["on"]["pull_request"], "no paths: filter"
    assert "closed" in workflow["on"]["pull_request"]["types"]
    assert workflow["concurrency"]["cancel-in-progress"] is False
    [job] = workflow["jobs"].values()
    assert job["timeout-minutes"] < 10, "no job may hold a refresh token ten minutes"
    environment = job["environment"]
    [step] = [s for s in job["steps"] if OUR_ACTION.match(f"uses: {s.get('uses', '')}")]
    inputs = step["with"]
    assert "access-token" not in inputs, "an access token expires in an hour"
    assert {"client-id", "client-secret", "refresh-token", "secrets-token"} <= set(inputs)
    assert inputs["refresh-token-secret"] == f"env:{environment}/APPROVALFLOW_REFRESH_TOKEN"
    # Every variable and secret it reads is named in the README's table, as what it is.
    table = settings_table((ROOT / "README.md").read_text(encoding="utf-8"))
    names = dict.fromkeys(expression_names(block.text, "vars"), "variable")
    names |= dict.fromkeys(expression_names(block.text, "secrets"), "secret")
    assert names == table


# ---------------------------------------------------------------- the complete one under act

PR_FILES = [
    "docs/auth/login.md",
    "docs/api/users.md",
    "docs/api/draft-notes.md",
    "handbook/onboarding.md",
    "README.md",
]
EXPECTED = {"12345": {"67890", "67891", "67892"}, "54321": {"76540"}}
"""The pages of the README's mapping example for those files, per space."""


def for_act(workflow_text: str, token_endpoint: str) -> str:
    """The complete workflow as act runs it offline: a copy for the checkout, ``uses: ./``."""
    workflow = load(workflow_text)
    [job] = workflow["jobs"].values()
    steps = job["steps"]
    [checkout] = [
        i for i, s in enumerate(steps) if s.get("uses", "").startswith("actions/checkout@")
    ]
    steps[checkout] = {
        "name": "Copy the repository into the empty workspace",
        "run": 'cp -a "$APPROVALFLOW_ACT_SOURCE/." .',
    }
    [ours] = [s for s in steps if OUR_ACTION.match(f"uses: {s.get('uses', '')}")]
    ours["uses"] = "./"
    ours["with"]["token-url"] = token_endpoint  # the sandbox plays Atlassian's token endpoint
    return yaml.safe_dump(workflow, sort_keys=False)


def act_repository(repo: Path, workflow: str) -> None:
    """The project as a git repository, with the README's workflow, mapping, and docs files."""
    [mapping] = [b for b in BLOCKS if b.kind == "mapping" and b.where.startswith("README.md:")]
    files = {
        ".github/workflows/docs-approval.yml": workflow,
        ".github/approvalflow.yml": mapping.text,
    }
    project_repository(
        repo, files, PR_FILES, "The project, the README's workflow and mapping, docs"
    )


def act_values(values: dict[str, dict[str, str]]) -> list[str]:
    """``--var NAME=VALUE`` and ``--secret NAME=VALUE`` for act."""
    flags = {"vars": "--var", "secrets": "--secret"}
    return [
        arg
        for ctx, given in values.items()
        for n, v in given.items()
        for arg in (flags[ctx], f"{n}={v}")
    ]


def consent(sandbox: SandboxServer) -> str:
    """The refresh token of a consent acted out as ``auth init`` does, browser included."""
    redirect = "http://127.0.0.1:9/callback"  # never listened on: the redirect is read instead
    with httpx.Client(trust_env=False) as http:
        page = http.get(
            f"{sandbox.base_url}/authorize",
            params={"audience": "api.atlassian.com", "client_id": CLIENT_ID,
                    "scope": " ".join(CONSENT_SCOPES), "redirect_uri": redirect, "state": "s",
                    "response_type": "code", "prompt": "consent"},
        )  # fmt: skip
        code = parse_qs(urlsplit(page.headers["Location"]).query)["code"][0]
        grant = exchange_code(
            http, token_url(sandbox), CLIENT_ID, CLIENT_SECRET, code, redirect_uri=redirect
        )
    assert grant.refresh_token
    return grant.refresh_token


def token_url(sandbox: SandboxServer) -> str:
    return f"{sandbox.base_url}/oauth/token"


@pytest.mark.timeout(ACT_TIMEOUT + 60)
def test_the_readme_workflow_runs_under_act_and_writes_the_new_refresh_token_back(
    tmp_path: Path, sandbox: SandboxServer, fake_github: FakeGitHub
) -> None:
    act = act_binary()
    block = complete_workflow()
    first = consent(sandbox)
    payload: dict[str, Any] = json.loads(PAYLOAD.read_text(encoding="utf-8"))
    pr = fake_github.add_pull_request(payload, files=PR_FILES)
    environment = load(block.text)["jobs"]["approvalflow"]["environment"]
    fake_github.add_environment(REPOSITORY, environment)
    fake_github.set_secret(REPOSITORY, "APPROVALFLOW_REFRESH_TOKEN", first, environment=environment)
    values = {
        "vars": {"APPROVALFLOW_BASE_URL": sandbox.base_url, "ATLASSIAN_CLIENT_ID": CLIENT_ID},
        "secrets": {
            "ATLASSIAN_CLIENT_SECRET": CLIENT_SECRET,
            "APPROVALFLOW_REFRESH_TOKEN": first,
            "SECRETS_TOKEN": APP_TOKEN,  # may write environment secrets
        },
    }
    for context, given in values.items():
        assert expression_names(block.text, context) == set(given), f"give every {context}.*"

    event = pull_request_event(tmp_path, fake_github, payload, pr)
    repo = tmp_path / "repo"
    act_repository(repo, for_act(block.text, token_url(sandbox)))
    workflow = repo / ".github/workflows/docs-approval.yml"
    command = [
        *act_offline(act, workflow, event=event, work=tmp_path, gh=fake_github),
        "--secret", f"GITHUB_TOKEN={ACTIONS_TOKEN}",  # act's github.token
        *act_values(values),
    ]  # fmt: skip
    result = run_act(command, repo)
    log = result.stdout + result.stderr
    assert result.returncode == 0, log[-6000:]
    assert "Job succeeded" in log

    # The refresh token was exchanged, and the new one written back into the environment's
    # secret: it is not the first one, and it works.
    stored = fake_github.secret_value(
        REPOSITORY, "APPROVALFLOW_REFRESH_TOKEN", environment=environment
    )
    assert stored not in ("", first)
    with httpx.Client(trust_env=False) as http:
        grant = exchange_refresh_token(http, token_url(sandbox), CLIENT_ID, CLIENT_SECRET, stored)
        assert grant.refresh_token

    # One change set per space, with the pages the README's mapping gives those files.
    with ApprovalFlowClient(sandbox.base_url, DEFAULT_TOKEN) as af:
        for space, pages in EXPECTED.items():
            [change_set] = linked_open(af.list_change_sets(space), pr["html_url"])
            assert {ref.pageId for ref in change_set.pageRefs} == pages

    # The pull request shows it: a status on the head commit and one sticky comment.
    statuses = fake_github.statuses(REPOSITORY, pr["head"]["sha"])
    assert [(s["context"], s["state"]) for s in statuses] == [
        ("ApprovalFlow / preflight", "success")
    ]
    [comment] = fake_github.issue_comments(REPOSITORY, 2)
    assert comment["user"]["login"] == GITHUB_ACTIONS_BOT.login
    assert has_marker(comment["body"], STICKY)

    for secret in (first, stored, CLIENT_SECRET, APP_TOKEN, ACTIONS_TOKEN):
        assert secret not in log


# ---------------------------------------------------------------- the matrix one under act


def matrix_workflow() -> Block:
    [block] = [b for b in BLOCKS if "mode: reconcile" in b.text and "matrix:" in b.text]
    return block


def matrix_for_act(workflow_text: str, token_endpoint: str) -> str:
    """The README's reconcile matrix as act runs it offline: the app token (no GitHub App
    here) and the cache (a remote action) left out, a copy for the checkout, ``uses: ./``."""
    workflow = load(workflow_text.replace("${{ steps.token.outputs.token }}",
                                          "${{ secrets.GITHUB_TOKEN }}"))  # fmt: skip
    [job] = workflow["jobs"].values()
    remote = ("actions/create-github-app-token@", "actions/cache@")
    job["steps"] = [s for s in job["steps"] if not s.get("uses", "").startswith(remote)]
    for step in job["steps"]:
        if step.get("uses", "").startswith("actions/checkout@"):
            step.clear()
            step.update(name="Copy the repository", run='cp -a "$APPROVALFLOW_ACT_SOURCE/." .')
        elif OUR_ACTION.match(f"uses: {step.get('uses', '')}"):
            step["uses"] = "./"
            step["with"]["token-url"] = token_endpoint
    return yaml.safe_dump(workflow, sort_keys=False)


def add_repository_with_a_pull_request(gh: FakeGitHub, name: str, number: int) -> dict[str, Any]:
    """``Codertocat/<name>`` with one open pull request no event ever reached the action for."""
    payload: dict[str, Any] = json.loads(PAYLOAD.read_text(encoding="utf-8"))
    full_name = f"Codertocat/{name}"
    repository = {**payload["repository"], "name": name, "full_name": full_name,
                  "id": 1000 + number, "html_url": f"https://github.com/{full_name}"}  # fmt: skip
    pr = payload["pull_request"]
    pr |= {"number": number, "html_url": f"https://github.com/Codertocat/{name}/pull/{number}"}
    pr["base"] = {**pr["base"], "repo": repository}
    pr["head"] = {**pr["head"], "repo": repository}
    return gh.add_pull_request({**payload, "repository": repository, "pull_request": pr},
                               files=PR_FILES)  # fmt: skip


@pytest.mark.timeout(ACT_TIMEOUT + 60)
def test_the_readme_matrix_reconciles_each_repository_in_its_own_job_under_act(
    tmp_path: Path, sandbox: SandboxServer, fake_github: FakeGitHub
) -> None:
    act = act_binary()
    block = matrix_workflow()
    repositories = load(block.text)["jobs"]["reconcile"]["strategy"]["matrix"]["repository"]
    assert len(repositories) == 2
    prs = [add_repository_with_a_pull_request(fake_github, name, 10 + i)
           for i, name in enumerate(repositories)]  # fmt: skip
    first = consent(sandbox)
    fake_github.add_pull_request(json.loads(PAYLOAD.read_text(encoding="utf-8")))  # act's own
    fake_github.add_environment(REPOSITORY, "approvalflow")
    values = {
        "vars": {"APPROVALFLOW_BASE_URL": sandbox.base_url, "ATLASSIAN_CLIENT_ID": CLIENT_ID,
                 "APPROVALFLOW_APP_SLUG": "github-actions"},  # the fake's Actions token writes
        "secrets": {"ATLASSIAN_CLIENT_SECRET": CLIENT_SECRET,
                    "APPROVALFLOW_REFRESH_TOKEN": first, "SECRETS_TOKEN": APP_TOKEN},
    }  # fmt: skip
    event = tmp_path / "schedule.json"
    event.write_text(json.dumps({"schedule": "23 * * * *"}), encoding="utf-8")
    repo = tmp_path / "repo"
    act_repository(repo, matrix_for_act(block.text, token_url(sandbox)))
    workflow = repo / ".github/workflows/docs-approval.yml"
    command = [
        *act_offline(act, workflow, event=event, work=tmp_path, gh=fake_github,
                     event_name="schedule"),
        "--secret", f"GITHUB_TOKEN={ACTIONS_TOKEN}",
        *act_values(values),
    ]  # fmt: skip
    result = run_act(command, repo)
    log = result.stdout + result.stderr
    assert result.returncode == 0, log[-6000:]
    assert log.count("Job succeeded") == 2, log[-6000:]

    # Each job reconciled its own repository: the pull request no event reached is synced.
    with ApprovalFlowClient(sandbox.base_url, DEFAULT_TOKEN) as af:
        for pr in prs:
            for space, pages in EXPECTED.items():
                [change_set] = linked_open(af.list_change_sets(space), pr["html_url"])
                assert {ref.pageId for ref in change_set.pageRefs} == pages
    for pr in prs:
        [comment] = fake_github.issue_comments(pr["base"]["repo"]["full_name"], pr["number"])
        assert comment["user"]["login"] == GITHUB_ACTIONS_BOT.login
        assert has_marker(comment["body"], STICKY)
    for secret in (first, CLIENT_SECRET, APP_TOKEN, ACTIONS_TOKEN):
        assert secret not in log
