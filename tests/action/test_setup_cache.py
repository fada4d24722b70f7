"""``scripts/setup-action.sh`` trusts nothing in its cache that it has not checked (issue 12).

Earlier jobs can write to the install cache (self-hosted runners, restored caches). Each test
runs the real script in bash against an action directory whose ``requirements/action.txt`` pins
nothing (so the venv builds offline, ``UV_OFFLINE=1``) and whose ``uv.txt`` is the real one; the
pinned uv wheel comes from a download kept across runs. Then it tampers with the cache or the
venv and shows what the next setup does: rebuild, or reuse without running uv at all.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import pytest

from conftest import clean_env

ROOT = Path(__file__).resolve().parents[2]
TIMEOUT = 180
EVIL = '#!/bin/sh\ntouch "$(dirname "$0")/../../../pwned"\nexit 1\n'
"""A tampered uv: leaves a file beside the cache if it ever runs."""


def verified_uv() -> ModuleType:
    spec = importlib.util.spec_from_file_location("verified_uv", ROOT / "scripts/verified_uv.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def uv_wheel() -> Path:
    """The pinned uv wheel for this machine, downloaded once and kept across runs."""
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    keep = base / "approvalflow-sync-tests" / "uv-wheel"
    keep.mkdir(parents=True, exist_ok=True)
    pins = set(verified_uv()._PINNED.findall((ROOT / "requirements/uv.txt").read_text()))
    if verified_uv().pinned_wheel(keep, pins) is None:
        try:
            verified_uv().fetch(ROOT / "requirements/uv.txt", keep)
        except subprocess.CalledProcessError:
            pytest.skip("the pinned uv wheel cannot be downloaded here (no package index)")
    wheel: Path | None = verified_uv().pinned_wheel(keep, pins)
    assert wheel is not None
    return wheel


@dataclass
class Setup:
    """An action directory, a runner's temp dir and an install cache under ``root``."""

    root: Path

    @property
    def action(self) -> Path:
        return self.root / "action"

    @property
    def cache(self) -> Path:
        return self.root / "cache"

    @property
    def venv(self) -> Path:
        return self.root / "temp" / "approvalflow-sync"

    @property
    def uv(self) -> Path:
        return self.cache / "uv" / "bin" / "uv"

    @property
    def pwned(self) -> Path:
        return self.cache / "pwned"

    def run(self) -> subprocess.CompletedProcess[str]:
        env = clean_env(
            ACTION_PATH=str(self.action),
            RUNNER_TEMP=str(self.root / "temp"),
            APPROVALFLOW_SYNC_CACHE=str(self.cache),
            GITHUB_ENV=str(self.root / "github_env"),
            UV_OFFLINE="1",
            PATH=f"{Path(sys.executable).parent}:{os.environ['PATH']}",
        )
        env.pop("UV_CACHE_DIR", None)
        done = subprocess.run(
            ["bash", str(self.action / "scripts/setup-action.sh")],
            env=env, capture_output=True, text=True, timeout=TIMEOUT, check=False,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        assert "approvalflow-sync" in done.stdout
        return done


@pytest.fixture
def setup(tmp_path: Path, uv_wheel: Path) -> Setup:
    s = Setup(tmp_path)
    (s.action / "requirements").mkdir(parents=True)
    shutil.copytree(ROOT / "scripts", s.action / "scripts")
    (s.action / "src").symlink_to(ROOT / "src")
    shutil.copy2(ROOT / "requirements/uv.txt", s.action / "requirements/uv.txt")
    (s.action / "requirements/action.txt").write_text("# nothing pinned\n")
    (s.cache / "uv").mkdir(parents=True)
    shutil.copy2(uv_wheel, s.cache / "uv" / uv_wheel.name)
    (s.root / "temp").mkdir()
    s.run()  # the cold install
    assert s.uv.is_file()
    return s


def test_a_tampered_uv_is_never_run_but_restored_from_the_verified_wheel(setup: Setup) -> None:
    pristine = setup.uv.read_bytes()
    setup.uv.write_text(EVIL)
    (setup.venv / "approvalflow-sync.marker").unlink()  # so the venv must be built again
    setup.run()
    assert not setup.pwned.exists(), "the tampered uv ran"
    assert setup.uv.read_bytes() == pristine


def test_a_uv_wheel_without_a_pinned_hash_is_thrown_away(tmp_path: Path, uv_wheel: Path) -> None:
    module = verified_uv()
    forged = tmp_path / uv_wheel.name
    forged.write_bytes(uv_wheel.read_bytes() + b"tampered")
    pins = set(module._PINNED.findall((ROOT / "requirements/uv.txt").read_text()))
    assert module.pinned_wheel(tmp_path, pins) is None
    assert not forged.exists()


def test_a_venv_without_the_marker_of_these_pins_is_built_again(setup: Setup) -> None:
    planted = setup.venv / "planted.py"
    planted.write_text("import os\n")
    (setup.venv / "approvalflow-sync.marker").write_text("forged\n")
    setup.run()
    assert not planted.exists(), "the venv was built again from scratch"


def test_new_pins_build_the_venv_again(setup: Setup) -> None:
    planted = setup.venv / "planted.py"
    planted.write_text("import os\n")
    (setup.action / "requirements/action.txt").write_text("# other pins\n")
    setup.run()
    assert not planted.exists()


def test_a_venv_with_the_right_marker_is_reused_without_running_uv(setup: Setup) -> None:
    setup.uv.write_text(EVIL)  # were uv run at all, it would leave its mark
    planted = setup.venv / "planted.py"
    planted.write_text("import os\n")
    setup.run()
    assert planted.exists(), "reused"
    assert not setup.pwned.exists(), "a reused venv costs no uv"
