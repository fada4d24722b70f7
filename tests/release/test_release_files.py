"""The release machinery (issue 13): the tag workflow, Dependabot, the requirements script.

The release workflow's shell steps run here against a fake ``gh`` that records its calls and
answers from a list of existing tags; the linters (zizmor, actionlint) run over every workflow
in tests/action/test_action_yml.py.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from conftest import clean_env

ROOT = Path(__file__).resolve().parents[2]
RELEASE = ROOT / ".github/workflows/release.yml"
PUBLISH_ACTION = "pypa/gh-action-pypi-publish@"
BUILD_ACTION = "hynek/build-and-inspect-python-package@"


def load(path: Path) -> dict[Any, Any]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


@pytest.fixture(scope="module")
def release() -> dict[Any, Any]:
    return load(RELEASE)


def uses(job: dict[str, Any]) -> list[str]:
    return [step["uses"] for step in job["steps"] if "uses" in step]


def step_script(job: dict[str, Any], name_start: str) -> str:
    [script] = [s["run"] for s in job["steps"] if s.get("name", "").startswith(name_start)]
    assert isinstance(script, str)
    return script


# ---------------------------------------------------------------- the workflow's shape


def test_a_version_tag_and_nothing_else_starts_a_release(release: dict[Any, Any]) -> None:
    trigger = release.get("on", release.get(True))
    assert trigger == {"push": {"tags": ["v*.*.*"]}}
    assert release["permissions"] == {}
    assert release["concurrency"]["cancel-in-progress"] is False


def test_the_packages_are_built_once_from_the_full_history(release: dict[Any, Any]) -> None:
    jobs = release["jobs"]
    builders = [name for name, job in jobs.items() if any(BUILD_ACTION in u for u in uses(job))]
    assert builders == ["build"]
    checkout = jobs["build"]["steps"][0]
    assert checkout["with"] == {"fetch-depth": 0, "persist-credentials": False}
    assert "$VERSION" in step_script(jobs["build"], "The built version is the tag's")
    for name in ("pypi", "github-release"):
        assert not any("checkout" in u for u in uses(jobs[name])), f"{name} builds nothing"
        assert any("download-artifact" in u for u in uses(jobs[name])), name


def test_only_the_publish_job_can_mint_an_id_token_and_only_the_release_job_can_write(
    release: dict[Any, Any],
) -> None:
    jobs = release["jobs"]
    assert jobs["build"]["permissions"] == {"contents": "read"}
    assert jobs["pypi"]["permissions"] == {"id-token": "write"}
    assert jobs["github-release"]["permissions"] == {"contents": "write"}
    assert jobs["pypi"]["environment"]["name"] == "pypi"
    assert uses(jobs["pypi"])[-1].startswith(PUBLISH_ACTION)
    assert "with" not in jobs["pypi"]["steps"][-1], "trusted publishing: no password input"
    assert jobs["pypi"]["needs"] == "build"
    assert jobs["github-release"]["needs"] == "pypi", "no release, no v1 move, if PyPI failed"


# ---------------------------------------------------------------- its shell, with a fake gh

FAKE_GH = """#!/usr/bin/env bash
printf '%s\\n' "$*" >> "$GH_LOG"
case "$*" in
  *matching-refs*) printf '%s\\n' $EXISTING_TAGS | sed 's|^|refs/tags/|' ;;
  *commits/*) echo 0123456789abcdef0123456789abcdef01234567 ;;
  "api repos/acme/sync/git/ref/tags/"*) [ "$MAJOR_EXISTS" = yes ] ;;
esac
"""


def run_step(tmp_path: Path, script: str, tag: str, existing: str = "", major: str = "yes") -> str:
    """The step's script under ``bash -eo pipefail`` (its job's shell); the gh calls made."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    (bin_dir / "gh").write_text(FAKE_GH, encoding="utf-8")
    (bin_dir / "gh").chmod(0o755)
    log = tmp_path / "gh.log"
    log.write_text("", encoding="utf-8")
    env = clean_env(TAG=tag, GH_REPO="acme/sync", GH_LOG=str(log), EXISTING_TAGS=existing,
                    MAJOR_EXISTS=major)  # fmt: skip
    env["PATH"] = f"{bin_dir}:{env['PATH']}"
    done = subprocess.run(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", script],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=30, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    return log.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def move_major(release: dict[Any, Any]) -> str:
    return step_script(release["jobs"]["github-release"], "Move the major tag")


def test_the_newest_release_moves_the_major_tag_to_its_commit(
    tmp_path: Path, move_major: str
) -> None:
    existing = "v1.2.0 v1.9.0 v1.10.0 v1.11.0rc1"  # by version, not by text; finals only
    calls = run_step(tmp_path, move_major, "v1.10.0", existing=existing)
    sha = "0123456789abcdef0123456789abcdef01234567"
    assert "api --method PATCH repos/acme/sync/git/refs/tags/v1 -f sha=" + sha in calls


def test_a_first_major_release_creates_the_major_tag(tmp_path: Path, move_major: str) -> None:
    calls = run_step(tmp_path, move_major, "v2.0.0", existing="v2.0.0", major="no")
    assert "api --method POST repos/acme/sync/git/refs -f ref=refs/tags/v2 -f sha=" in calls


@pytest.mark.parametrize(
    ("tag", "existing"),
    [("v1.2.5", "v1.2.4 v1.2.5 v1.3.0"), ("v1.4.0rc1", "v1.3.0 v1.4.0rc1")],
    ids=["fix-to-an-older-minor", "pre-release"],
)
def test_an_older_line_or_a_pre_release_leaves_the_major_tag(
    tmp_path: Path, move_major: str, tag: str, existing: str
) -> None:
    calls = run_step(tmp_path, move_major, tag, existing=existing)
    assert "--method" not in calls


@pytest.mark.parametrize(("tag", "pre"), [("v1.3.0", False), ("v1.4.0-rc.1", True)])
def test_the_github_release_carries_the_packages(
    tmp_path: Path, release: dict[Any, Any], tag: str, pre: bool
) -> None:
    (tmp_path / "dist").mkdir()
    for name in ("approvalflow_sync-1.3.0.tar.gz", "approvalflow_sync-1.3.0-py3-none-any.whl"):
        (tmp_path / "dist" / name).write_text("", encoding="utf-8")
    script = step_script(release["jobs"]["github-release"], "Create the GitHub release")
    [call] = run_step(tmp_path, script, tag).splitlines()
    assert call.startswith(f"release create {tag} dist/approvalflow_sync-1.3.0-py3-none-any.whl")
    assert "dist/approvalflow_sync-1.3.0.tar.gz" in call
    assert "--verify-tag" in call
    assert ("--prerelease" in call) is pre


def test_the_release_steps_pass_shellcheck(tmp_path: Path, release: dict[Any, Any]) -> None:
    shellcheck = shutil.which("shellcheck")
    if shellcheck is None:
        pytest.skip("shellcheck is not on PATH (actionlint uses it on GitHub's runners)")
    scripts = [ROOT / "scripts/regenerate-requirements.sh"]
    for index, step in enumerate(release["jobs"]["github-release"]["steps"]):
        if "run" in step:
            scripts.append(tmp_path / f"step-{index}.sh")
            scripts[-1].write_text(f"#!/usr/bin/env bash\n{step['run']}", encoding="utf-8")
    done = subprocess.run(
        [shellcheck, *map(str, scripts)], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stdout


# ---------------------------------------------------------------- Dependabot, requirements


def test_dependabot_updates_the_pinned_actions_and_requirements_after_a_cooldown() -> None:
    config = load(ROOT / ".github/dependabot.yml")
    updates = {u["package-ecosystem"]: u for u in config["updates"]}
    assert set(updates) == {"github-actions", "pip"}
    for update in updates.values():
        assert update["directory"] == "/"  # pip: pyproject.toml and requirements/*.txt
        assert update["cooldown"]["default-days"] >= 7
        assert "insecure-external-code-execution" not in update


def test_each_requirements_file_records_the_command_the_script_runs() -> None:
    script = (ROOT / "scripts/regenerate-requirements.sh").read_text(encoding="utf-8")
    flags = re.search(r'pip compile "\$1" (.*?) \\\n\s+-o "\$2"', script)
    assert flags, "the script's compile command"
    pairs = re.findall(r"^compile (\S+) (\S+) \"\$@\"$", script, re.MULTILINE)
    outputs = {Path(out).name for _, out in pairs}
    assert outputs == {p.name for p in (ROOT / "requirements").glob("*.txt")}
    for source, output in pairs:
        header = (ROOT / output).read_text(encoding="utf-8").splitlines()[1]
        assert header == f"#    uv pip compile {source} {flags.group(1)} -o {output}"
        assert "--hash=sha256:" in (ROOT / output).read_text(encoding="utf-8")
