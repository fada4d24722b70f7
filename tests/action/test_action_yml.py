"""Static checks of ``action.yml`` and the workflows under ``.github/workflows/``.

``act`` hands every composite step every input as ``INPUT_*`` whether or not ``env:`` maps it,
so the act run cannot catch a missing mapping: these checks read ``action.yml`` itself. The
linters run as subprocesses from the venv (``zizmor`` offline, ``actionlint``); actionlint
only reads workflows, and checks ``action.yml`` through the workflows' ``uses: ./`` (it loads
the local action's metadata and checks the inputs given to it).
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from action_harness import SECRET_INPUTS
from approvalflow_sync.core.mapping import compile_mapping, read_mapping

ROOT = Path(__file__).resolve().parents[2]
ACTION = ROOT / "action.yml"
SETUP_SCRIPT = ROOT / "scripts/setup-action.sh"
WORKFLOWS_DIR = ROOT / ".github/workflows"
WORKFLOWS = sorted(WORKFLOWS_DIR.glob("*.yml")) + sorted(WORKFLOWS_DIR.glob("*.yaml"))
DEPENDABOT = ROOT / ".github/dependabot.yml"
LIVING_MAPPING = ROOT / ".github/approvalflow.yml"
TOOL_TIMEOUT = 120

# The inputs and outputs issue 3 names (``site`` came later as another way to the base URL).
DOCUMENTED_INPUTS = {
    "base-url", "cloud-id", "app-id", "environment-id", "access-token", "mapping-file",
    "github-token", "mode", "status-context", "comment", "fail-on-blocked", "archive-on-close",
    "title-template", "confluence-url", "dry-run",
    # issue 4: credentials a CI job can live on
    "client-id", "client-secret", "refresh-token", "token-url", "refresh-token-secret",
    "secrets-token", "on-missing-credentials",
}  # fmt: skip
OUTPUTS = {
    "change-set-ids", "pages", "submittable", "blocked", "submitted", "skipped", "result",
    "refresh-token",
}  # fmt: skip
SHA_PINNED = re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_./-]+@[0-9a-f]{40}$")


def load_yaml(path: Path) -> dict[Any, Any]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(data, dict), f"{path}: not a YAML mapping"
    return data


def workflow_on(workflow: dict[Any, Any]) -> Any:
    """The ``on:`` key, which YAML 1.1 reads as the boolean True."""
    return workflow.get("on", workflow.get(True))


@pytest.fixture(scope="module")
def action() -> dict[str, Any]:
    return load_yaml(ACTION)


def composite_steps(action: dict[str, Any]) -> list[dict[str, Any]]:
    steps = action["runs"]["steps"]
    assert isinstance(steps, list)
    return steps


def run_step(action: dict[str, Any]) -> dict[str, Any]:
    [step] = [s for s in composite_steps(action) if s.get("id") == "run"]
    return step


def all_steps(path: Path) -> Iterator[tuple[str, dict[str, Any]]]:
    """``(where, step)`` for every step of action.yml or a workflow."""
    data = load_yaml(path)
    if "runs" in data:
        for index, step in enumerate(data["runs"].get("steps", [])):
            yield f"{path.name}: runs.steps[{index}]", step
    for job_id, job in (data.get("jobs") or {}).items():
        for index, step in enumerate(job.get("steps", [])):
            yield f"{path.name}: jobs.{job_id}.steps[{index}]", step


def input_variable(name: str) -> str:
    """What the runner calls an input for JavaScript and Docker actions: hyphens kept."""
    return f"INPUT_{name.upper()}"


# ---------------------------------------------------------------- action.yml: inputs, outputs


def test_action_declares_every_documented_input_and_output(action: dict[str, Any]) -> None:
    assert action["runs"]["using"] == "composite"
    assert set(action["inputs"]) >= DOCUMENTED_INPUTS
    assert set(action["outputs"]) == OUTPUTS


def test_every_input_is_mapped_to_its_input_variable_in_the_run_step(
    action: dict[str, Any],
) -> None:
    env = run_step(action)["env"]
    expected = {input_variable(name): f"${{{{ inputs.{name} }}}}" for name in action["inputs"]}
    assert {key: value for key, value in env.items() if key.startswith("INPUT_")} == expected
    for key, value in env.items():
        if not key.startswith("INPUT_"):
            assert "inputs." not in str(value), f"{key}: inputs go in INPUT_* variables only"


def test_the_run_step_runs_the_program_from_the_private_venv(action: dict[str, Any]) -> None:
    step = run_step(action)
    assert step["shell"] == "bash"
    assert "-m approvalflow_sync run" in step["run"]
    assert "$APPROVALFLOW_SYNC_HOME/bin/python" in step["run"]
    steps = composite_steps(action)
    assert steps.index(step) == len(steps) - 1, "the setup must come before the run step"


def test_every_output_is_wired_to_the_run_step(action: dict[str, Any]) -> None:
    for name, output in action["outputs"].items():
        assert output["value"] == f"${{{{ steps.run.outputs.{name} }}}}", name
        assert output.get("description"), f"output {name} has no description"


def test_every_input_is_documented_and_optional(action: dict[str, Any]) -> None:
    for name, spec in action["inputs"].items():
        assert spec.get("description"), f"input {name} has no description"
        assert spec.get("required", False) is False, f"input {name}: nothing is required"
        assert re.fullmatch(r"[a-z][a-z0-9-]*", name), f"input {name} is not kebab-case"


def test_composite_steps_are_bash(action: dict[str, Any]) -> None:
    for step in composite_steps(action):
        if "run" in step:
            assert step.get("shell") == "bash", step.get("name")


# ---------------------------------------------------------------- secrets


def test_secret_inputs_go_to_the_run_step_env_and_nowhere_else(action: dict[str, Any]) -> None:
    secrets = sorted(SECRET_INPUTS)
    assert set(secrets) <= set(action["inputs"])
    run = run_step(action)
    for step in composite_steps(action):
        for key, value in (step.get("env") or {}).items():
            for name in secrets:
                if f"inputs.{name}" in str(value):
                    assert step is run, f"{step.get('name')}: {key} carries {name}"
        script = str(step.get("run", ""))
        for name in secrets:
            assert input_variable(name) not in script, f"{step.get('name')} echoes {name}"
            assert input_variable(name).replace("-", "_") not in script
    for name, output in action["outputs"].items():
        assert "inputs." not in output["value"], f"output {name} passes an input through"


def test_no_script_traces_or_prints_the_environment(action: dict[str, Any]) -> None:
    scripts = [str(step.get("run", "")) for step in composite_steps(action)]
    scripts.append(SETUP_SCRIPT.read_text(encoding="utf-8"))
    for script in scripts:
        assert not re.search(r"set\s+-[a-wyz]*x|\bxtrace\b", script), script
        assert not re.search(r"^\s*(env|printenv|export -p)\s*$", script, re.MULTILINE), script
        assert "INPUT_" not in script, "inputs reach the program through env: only"


# ---------------------------------------------------------------- action.yml and workflows


@pytest.mark.parametrize("path", [ACTION, *WORKFLOWS], ids=lambda p: p.name)
def test_no_expression_inside_any_run_script(path: Path) -> None:
    found = False
    for where, step in all_steps(path):
        if "run" in step:
            found = True
            assert "${{" not in str(step["run"]), f"{where}: pass values through env:"
    assert found, f"{path.name} has no run: step"


def test_there_are_workflows_and_one_uses_the_action_itself() -> None:
    names = {path.name for path in WORKFLOWS}
    assert {"ci.yml", "docs-approval.yml"} <= names
    uses = [step.get("uses") for path in WORKFLOWS for _, step in all_steps(path)]
    assert "./" in uses, "actionlint checks action.yml only through a workflow's uses: ./"


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_workflow_pins_actions_by_sha_and_drops_credentials(path: Path) -> None:
    workflow = load_yaml(path)
    assert "permissions" in workflow, "top-level permissions: (least privilege)"
    text = path.read_text(encoding="utf-8")
    for where, step in all_steps(path):
        uses = step.get("uses")
        if uses is None or uses.startswith("./"):
            continue
        assert SHA_PINNED.match(uses), f"{where}: {uses} is not pinned by a full commit SHA"
        assert re.search(rf"{re.escape(uses)} # v\d", text), f"{where}: no version comment"
        if uses.startswith("actions/checkout@"):
            assert step.get("with", {}).get("persist-credentials") is False, where
    for job_id, job in workflow["jobs"].items():
        assert "timeout-minutes" in job, f"job {job_id} has no timeout"


def test_ci_workflow_lints_tests_every_python_and_runs_the_linters() -> None:
    ci = load_yaml(WORKFLOWS_DIR / "ci.yml")
    assert ci["permissions"] == {"contents": "read"}
    scripts = "\n".join(str(step.get("run", "")) for _, step in all_steps(WORKFLOWS_DIR / "ci.yml"))
    for command in ("ruff check", "ruff format --check", "mypy", "zizmor", "actionlint"):
        assert command in scripts, command
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    test_command = "python3 -m venv .venv && .venv/bin/pip install -q -e '.[test]' && "
    test_command += ".venv/bin/python -m pytest"
    assert test_command in readme
    assert test_command in scripts
    versions = ci["jobs"]["test"]["strategy"]["matrix"]["python-version"]
    assert versions == ["3.10", "3.11", "3.12", "3.13"]


def test_docs_approval_workflow_is_the_documented_pull_request_workflow() -> None:
    workflow = load_yaml(WORKFLOWS_DIR / "docs-approval.yml")
    trigger = workflow_on(workflow)
    assert set(trigger) == {"pull_request"}
    assert set(trigger["pull_request"]["types"]) == {
        "opened", "reopened", "synchronize", "edited", "ready_for_review", "closed",
    }  # fmt: skip
    assert "paths" not in trigger["pull_request"], "close events must always reach the action"
    assert workflow["concurrency"] == {
        "group": "approvalflow-${{ github.event.pull_request.number }}",
        "cancel-in-progress": False,
    }
    [job] = workflow["jobs"].values()
    granted = {**(workflow.get("permissions") or {}), **(job.get("permissions") or {})}
    assert granted == {"contents": "read", "pull-requests": "write", "statuses": "write"}
    steps = job["steps"]
    [action_step] = [step for step in steps if step.get("uses") == "./"]
    # The refresh-token flow (issue 12, item 9), its secrets in a dedicated environment.
    assert job["environment"] == "approvalflow"
    given = action_step["with"]
    assert "access-token" not in given, "an access token lives one hour"
    assert given["refresh-token"] == "${{ secrets.APPROVALFLOW_REFRESH_TOKEN }}"
    assert given["refresh-token-secret"] == "env:approvalflow/APPROVALFLOW_REFRESH_TOKEN"
    assert {"client-id", "client-secret", "secrets-token"} <= set(given)
    assert "github-token" not in action_step["with"], "the default ${{ github.token }} does"
    checkout = steps[0]
    assert checkout["uses"].startswith("actions/checkout@")
    assert steps.index(action_step) > 0


def test_living_example_mapping_is_valid_and_covers_the_docs_folder() -> None:
    mapping = read_mapping(LIVING_MAPPING, ".github/approvalflow.yml")
    docs = sorted(
        path.relative_to(ROOT).as_posix() for path in (ROOT / "docs").rglob("*") if path.is_file()
    )
    assert docs, "the living example needs docs files"
    result = compile_mapping(mapping).match(docs)
    assert result.unmatched_files == ()
    assert result.files_by_page


# ---------------------------------------------------------------- the linters


def venv_tool(name: str) -> str:
    """A linter from this venv's bin dir (else PATH); skip, with why, if it cannot start."""
    found = shutil.which(name, path=str(Path(sys.executable).parent)) or shutil.which(name)
    if found is None:
        pytest.skip(f"{name} is not installed: pip install -e '.[test]' brings it")
    flag = "-version" if name == "actionlint" else "--version"
    try:
        probe = subprocess.run(
            [found, flag], capture_output=True, text=True, timeout=TOOL_TIMEOUT, check=False
        )
    except OSError as exc:
        pytest.skip(f"{name} cannot start here: {found}: {exc}")
    if probe.returncode != 0:
        pytest.skip(f"{name} cannot start here: {found} {flag}: {probe.stderr.strip()}")
    return found


def lint_targets() -> list[str]:
    return ["action.yml", *(path.relative_to(ROOT).as_posix() for path in WORKFLOWS)]


@pytest.mark.parametrize("persona", ["regular", "auditor"])
def test_zizmor_finds_nothing_offline(persona: str) -> None:
    zizmor = venv_tool("zizmor")
    targets = [*lint_targets(), DEPENDABOT.relative_to(ROOT).as_posix()]
    # --strict-collection: a file zizmor cannot parse fails instead of being skipped quietly.
    result = subprocess.run(
        [zizmor, "--offline", f"--persona={persona}", "--strict-collection", "--no-progress",
         "--color=never", *targets],
        cwd=ROOT, capture_output=True, text=True, timeout=TOOL_TIMEOUT, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert "No findings to report" in result.stdout


def test_actionlint_finds_nothing() -> None:
    actionlint = venv_tool("actionlint")
    # Run from the root so `uses: ./` resolves to this action.yml; shellcheck is used when on
    # PATH (it is on GitHub's runners).
    result = subprocess.run(
        [actionlint, "-oneline", "-no-color", *lint_targets()[1:]],
        cwd=ROOT, capture_output=True, text=True, timeout=TOOL_TIMEOUT, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout == ""


def test_shell_scripts_of_the_action_pass_shellcheck(tmp_path: Path) -> None:
    shellcheck = shutil.which("shellcheck")
    if shellcheck is None:
        pytest.skip("shellcheck is not on PATH (it is preinstalled on GitHub's Ubuntu runners)")
    scripts = [SETUP_SCRIPT]
    for index, step in enumerate(composite_steps(load_yaml(ACTION))):
        if "run" in step:
            script = tmp_path / f"step-{index}.sh"
            script.write_text(f"#!/usr/bin/env bash\n{step['run']}\n", encoding="utf-8")
            scripts.append(script)
    result = subprocess.run(
        [shellcheck, "--shell=bash", *map(str, scripts)],
        capture_output=True, text=True, timeout=TOOL_TIMEOUT, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr


def test_action_yml_defaults_are_the_programs_own(action: dict[str, Any]) -> None:
    """The program holds each default once; action.yml shows them to users and must agree.

    Settings loaded with no inputs equal settings loaded with every input at action.yml's
    default (``github-token``'s expression aside), so neither can drift without this failing.
    """
    from approvalflow_sync.action.inputs import load_settings  # noqa: PLC0415

    runner_env = {
        "GITHUB_REPOSITORY": "o/r",
        "GITHUB_WORKSPACE": "/work",
        "INPUT_BASE-URL": "https://api.atlassian.com/svc/confluence/c/apps/a_e",
    }
    given = {
        input_variable(name): str(spec["default"])
        for name, spec in action["inputs"].items()
        if spec.get("default") not in (None, "") and name != "github-token"
    }
    assert given, "action.yml names some defaults"
    assert load_settings({**runner_env, **given}) == load_settings(runner_env)
