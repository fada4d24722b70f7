"""``approvalflow-sync plan`` in real git repositories made here, against the sandbox on loopback.

git runs with an environment of its own (no global or system configuration, fixed names and
dates), in the tests and in the command they start, so the machine's git settings cannot change
the answers.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest

from approvalflow_sync.approvalflow.client import ApprovalFlowClient
from approvalflow_sync.sandbox import DEFAULT_TOKEN, SandboxServer
from change_sets import create_and_find
from conftest import clean_env

GIT_ENV = {
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_AUTHOR_NAME": "Ada Author",
    "GIT_AUTHOR_EMAIL": "ada@example.com",
    "GIT_COMMITTER_NAME": "Cy Committer",
    "GIT_COMMITTER_EMAIL": "cy@example.com",
    "GIT_TERMINAL_PROMPT": "0",
}
MAPPING = """\
space: "12345"
pages:
  - path: docs/auth/**
    page: "67890"
  - path: docs/api/*.md
    page: ["67891", "67892"]
  - path: docs/drafts/**
    page: "88800"
    space: "99999"
"""
PR_URL = "https://github.com/acme/docs/pull/7"


def git(repo: Path, *args: str) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")} | GIT_ENV
    done = subprocess.run(
        ["git", "-C", str(repo), *args], env=env, capture_output=True, text=True, check=True
    )
    return done.stdout.strip()


def write(repo: Path, path: str, text: str = "text\n") -> None:
    (repo / path).parent.mkdir(parents=True, exist_ok=True)
    (repo / path).write_text(text)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """main holds the mapping and three docs; the branch ``feature`` changes them.

    Committed on the branch: a changed auth page, a rename into docs/api, an unmapped file.
    Staged: a draft. Not staged: another api page (not part of the plan).
    """
    root = tmp_path / "docs-repo"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    write(root, ".github/approvalflow.yml", MAPPING)
    write(root, "docs/auth/login.md")
    write(root, "docs/old.md", "a page long enough to be found again after its rename\n" * 5)
    write(root, "README.md")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "main")
    git(root, "switch", "-qc", "feature")
    write(root, "docs/auth/login.md", "changed\n")
    (root / "docs/api").mkdir()
    git(root, "mv", "docs/old.md", "docs/api/new.md")
    write(root, "tools/build.sh")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "feature")
    write(root, "docs/drafts/idea.md")
    git(root, "add", "docs/drafts/idea.md")
    write(root, "docs/api/unstaged.md")
    return root


def plan(repo: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "approvalflow_sync", "plan", *args],
        cwd=repo,
        env=clean_env(**GIT_ENV, **env),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def plan_json(repo: Path, *args: str, **env: str) -> dict[str, Any]:
    result = plan(repo, "--json", *args, **env)
    assert result.returncode == 0, result.stderr
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def state(server: SandboxServer) -> dict[str, Any]:
    answer: dict[str, Any] = httpx.get(f"{server.admin_url}/state", trust_env=False).json()
    return answer


def calls(server: SandboxServer) -> list[tuple[str, str]]:
    logged = httpx.get(f"{server.admin_url}/calls", trust_env=False).json()["calls"]
    return [(call["method"], call["path"]) for call in logged]


def only_reads(logged: list[tuple[str, str]]) -> bool:
    """Every call a GET (list, detail) or a preflight, which writes nothing."""
    return all(method == "GET" or path.endswith("/preflight") for method, path in logged)


def squeeze(text: str) -> str:
    return "\n".join(" ".join(line.split()) for line in text.splitlines())


def test_without_a_connection_it_lists_the_files_and_their_pages(repo: Path) -> None:
    result = plan(repo)
    assert result.returncode == 0, result.stderr
    out = squeeze(result.stdout)
    merge_base = git(repo, "rev-parse", "main")
    assert f"changed since this branch left main ({merge_base[:12]})" in out
    assert "docs/auth/login.md 12345 67890" in out
    assert "docs/api/new.md 12345 67891, 67892" in out
    assert "docs/drafts/idea.md 99999 88800" in out  # staged: part of the plan
    assert "unstaged" not in out  # not staged: not part of it
    assert "map to no page: docs/old.md, tools/build.sh" in out  # a rename: old path too
    assert "ApprovalFlow not asked: give --sandbox" in out


def test_json_lists_every_changed_path(repo: Path) -> None:
    data = plan_json(repo)
    assert data["base"] == "main"
    assert data["approvalflow"] is None
    assert sorted((f["path"], f["space"], tuple(f["pages"])) for f in data["files"]) == [
        ("docs/api/new.md", "12345", ("67891", "67892")),
        ("docs/auth/login.md", "12345", ("67890",)),
        ("docs/drafts/idea.md", "99999", ("88800",)),
        ("docs/old.md", None, ()),
        ("tools/build.sh", None, ()),
    ]


def test_with_the_sandbox_it_plans_creates_and_preflights_and_writes_nothing(
    repo: Path, sandbox: SandboxServer
) -> None:
    before = state(sandbox)
    result = plan(repo, "--sandbox", sandbox.base_url)
    assert result.returncode == 0, result.stderr
    out = squeeze(result.stdout)
    assert f"ApprovalFlow at {sandbox.base_url}, for a new pull request" in out
    assert "12345 create a change set with 3 pages -" in out
    assert "99999 create a change set with 1 page -" in out
    assert "12345 67891 yes wf-docs-review -" in out
    assert "99999 88800 no" in out  # the drafts space has no workflow: blocked, with why
    assert state(sandbox) == before
    assert state(sandbox)["changeSets"] == []
    assert set(calls(sandbox)) == {("GET", "/changeSets"), ("POST", "/pages/preflight")}


def test_with_its_pull_request_it_plans_the_update_of_the_change_set_and_its_preflight(
    repo: Path, sandbox: SandboxServer
) -> None:
    git(repo, "remote", "add", "origin", "git@github.com:acme/docs.git")
    with ApprovalFlowClient(sandbox.base_url, DEFAULT_TOKEN) as client:
        mine = create_and_find(client, "12345", "PR-7", ["67890", "67897"], reference_url=PR_URL)
        other = create_and_find(client, "12345", "PR-8", ["67891"], reference_url=PR_URL + "8")
    httpx.delete(f"{sandbox.admin_url}/calls", trust_env=False)
    before = state(sandbox)
    data = plan_json(
        repo, "--pr", "7", APPROVALFLOW_BASE_URL=sandbox.base_url, APPROVALFLOW_TOKEN=DEFAULT_TOKEN
    )
    flow = data["approvalflow"]
    assert flow["pullRequest"] == PR_URL
    docs = next(space for space in flow["spaces"] if space["space"] == "12345")
    assert (docs["plan"], docs["changeSetId"]) == ("update", mine.id)
    pages = {page["page"]: page for page in docs["pages"]}
    assert sorted(pages) == ["67890", "67891", "67892"]
    assert pages["67890"]["canSubmit"] is True
    assert pages["67891"]["alsoIn"] == [other.id]
    text = squeeze(plan(repo, "--pr", PR_URL, "--sandbox", sandbox.base_url).stdout)
    assert f"12345 update: add 67891, 67892; remove 67897 {mine.id}" in text
    assert f"for pull request {PR_URL}" in text
    assert state(sandbox) == before
    assert ("POST", "/changeSets/preflight") in calls(sandbox)
    assert only_reads(calls(sandbox))


def test_an_instance_plans_against_its_own_change_sets_only(
    repo: Path, sandbox: SandboxServer
) -> None:
    handbook_url = PR_URL + "#approvalflow-sync=handbook"
    with ApprovalFlowClient(sandbox.base_url, DEFAULT_TOKEN) as client:
        plain = create_and_find(client, "12345", "PR-7", ["67890"], reference_url=PR_URL)
        mine = create_and_find(client, "12345", "PR-7", ["67897"], reference_url=handbook_url)
    data = plan_json(repo, "--pr", PR_URL, "--instance", "handbook", "--sandbox", sandbox.base_url)
    (docs,) = [space for space in data["approvalflow"]["spaces"] if space["space"] == "12345"]
    assert (docs["plan"], docs["changeSetId"], docs["archive"]) == ("update", mine.id, [])
    plain_plan = plan_json(repo, "--pr", PR_URL, "--sandbox", sandbox.base_url)
    (docs,) = [space for space in plain_plan["approvalflow"]["spaces"] if space["space"] == "12345"]
    assert (docs["changeSetId"], docs["archive"]) == (plain.id, [])


def test_the_sandbox_flag_alone_starts_one_seeded_with_the_demo_pages(repo: Path) -> None:
    result = plan(repo, "--sandbox")
    assert result.returncode == 0, result.stderr
    out = squeeze(result.stdout)
    assert "12345 create a change set with 3 pages" in out
    assert "12345 67890 yes wf-docs-review" in out


def test_the_sandbox_variable_is_the_flag_s_environment_form(
    repo: Path, sandbox: SandboxServer
) -> None:
    data = plan_json(repo, APPROVALFLOW_SANDBOX=sandbox.base_url)
    assert data["approvalflow"]["baseUrl"] == sandbox.base_url
    assert [space["plan"] for space in data["approvalflow"]["spaces"]] == ["create", "create"]


def test_the_default_branch_comes_from_origin_head(repo: Path, tmp_path: Path) -> None:
    git(repo, "switch", "-q", "main")  # a clone's origin/HEAD is the branch checked out there
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", str(repo), str(clone))
    git(clone, "switch", "-qc", "mine")
    write(clone, "docs/auth/mfa.md")
    git(clone, "add", "-A")
    data = plan_json(clone)
    assert data["base"] == "origin/main"
    assert [f["path"] for f in data["files"]] == ["docs/auth/mfa.md"]
    assert plan_json(clone, "--base", "origin/feature")["base"] == "origin/feature"


@pytest.mark.parametrize(
    ("setup", "args", "expected"),
    [
        ("plain-dir", (), "is not in a git repository: run `approvalflow-sync plan` inside"),
        ("repo", ("--base", "nope"), "--base: 'nope' is not a branch, tag or commit of"),
        ("repo", ("--mapping", "missing.yml"), "missing.yml does not exist"),
        ("trunk-only", (), "cannot tell the default branch: there is no origin/HEAD, main or"),
        ("repo", ("--pr", "7"), "--pr: the remote 'origin' is not a GitHub repository URL"),
        ("repo", ("--sandbox", "ftp://x"), "--sandbox: 'ftp://x' is not an absolute URL"),
        ("repo", ("--instance", "Docs"), "--instance: 'Docs' is not an instance name; use up"),
    ],
)
def test_configuration_errors_are_one_line_and_exit_2(
    repo: Path, tmp_path: Path, setup: str, args: tuple[str, ...], expected: str
) -> None:
    where = repo
    if setup == "plain-dir":
        where = tmp_path / "plain"
        where.mkdir()
    elif setup == "trunk-only":
        where = tmp_path / "trunk"
        where.mkdir()
        git(where, "init", "-q", "-b", "trunk")
        write(where, ".github/approvalflow.yml", MAPPING)
        git(where, "add", "-A")
        git(where, "commit", "-qm", "one")
    result = plan(where, *args)
    assert result.returncode == 2, result.stderr
    assert result.stdout == ""
    assert expected in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.stderr


def test_a_bad_mapping_names_its_line_and_exits_2(repo: Path) -> None:
    write(repo, ".github/approvalflow.yml", 'space: "1"\npages:\n  - path: docs/**\n    pgae: 2\n')
    result = plan(repo)
    assert result.returncode == 2
    assert ".github/approvalflow.yml:4:5:" in result.stderr


def test_from_a_subdirectory_it_finds_the_mapping_at_the_top(repo: Path) -> None:
    data = plan_json(repo / "docs")
    assert len(data["files"]) == 5


def test_the_pre_commit_hooks_run_commands_the_cli_accepts() -> None:
    import yaml  # noqa: PLC0415 - only this test reads YAML

    from approvalflow_sync.cli.main import build_parser  # noqa: PLC0415

    hooks = yaml.safe_load((Path(__file__).parents[2] / ".pre-commit-hooks.yaml").read_text())
    ids = {hook["id"]: hook for hook in hooks}
    assert set(ids) >= {"approvalflow-sync-plan", "approvalflow-sync-validate"}
    for hook in hooks:
        words = hook["entry"].split()
        assert words[0] == "approvalflow-sync"
        build_parser(words[1:]).parse_args([*words[1:], *hook.get("args", [])])
        assert hook["pass_filenames"] is False


def test_hostile_file_names_print_as_one_harmless_line_each(repo: Path) -> None:
    names = ["docs/auth/new\nline.md", "docs/auth/\x1b[31mred.md", "docs/auth/--json.md"]
    for name in names:
        write(repo, name)
    (repo / os.fsdecode(b"docs/auth/caf\xe9.md")).write_text("latin-1 name\n")
    git(repo, "add", "-A")
    result = plan(repo)
    assert result.returncode == 0, result.stderr
    assert "\x1b" not in result.stdout
    assert "docs/auth/new line.md 12345 67890" in squeeze(result.stdout)
    assert "docs/auth/caf\ufffd.md 12345 67890" in squeeze(result.stdout)
    paths = [f["path"] for f in plan_json(repo)["files"]]
    assert "docs/auth/new\nline.md" in paths
    assert "docs/auth/--json.md" in paths


def test_plan_reads_page_ids_from_the_changed_docs_and_a_flag_turns_that_off(repo: Path) -> None:
    (repo / ".github/approvalflow.yml").unlink()
    write(
        repo,
        "docs/drafts/idea.md",
        "---\nconnie-page-id: '88801'\napprovalflow-space-id: 99999\n---\n",
    )
    write(repo, "docs/auth/login.md", "<!-- confluence-page-id: 67893 -->\n")
    write(
        repo,
        "docs/api/new.md",
        "---\nconfluence_page_id: 67891\napprovalflow-space-id: 12345\n---\n",
    )
    git(repo, "add", "docs/drafts/idea.md", "docs/auth/login.md", "docs/api/new.md")
    result = plan(repo)
    assert result.returncode == 2, result.stderr
    assert "docs/auth/login.md: page 67893 has no space" in result.stderr

    write(
        repo,
        ".github/approvalflow.yml",
        'space: "12345"\npages:\n  - path: docs/auth/**\n    page: "67890"\n',
    )
    files = {f["path"]: (f["space"], f["pages"]) for f in plan_json(repo)["files"]}
    assert files["docs/drafts/idea.md"] == ("99999", ["88801"])
    assert files["docs/api/new.md"] == ("12345", ["67891"])
    result = plan(repo, "--json")
    assert (
        "warning: docs/auth/login.md names page 67893, but the mapping maps it to 67890"
        in result.stderr
    )

    off = {f["path"]: f["pages"] for f in plan_json(repo, "--no-page-ids-from-files")["files"]}
    assert off["docs/drafts/idea.md"] == []
