"""The wheel is the product: built from a tagged copy of this checkout, it carries the tag's
version and the whole package, and installed into a fresh venv outside the checkout it runs
``approvalflow-sync demo`` (issue 13).

All offline. The wheel is built with ``pip wheel --no-build-isolation`` from the hatchling and
hatch-vcs this environment has (the ``test`` extra), and installed with ``--no-deps
--no-index``. Its dependencies are borrowed from this environment: one ``.pth`` line puts this
environment's site-packages after the fresh venv's own. Python runs no ``.pth`` file found in
a path added that way, so this checkout's editable install (``src`` on the path) does not come
along, and a package is imported from the first path entry that has it, so a module missing
from the wheel fails the demo instead of being found elsewhere; the test also asserts where
the package was imported from. What this leaves to a real ``pipx install`` is resolving the
dependencies from PyPI.
"""

from __future__ import annotations

import email.message
import email.parser
import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

from conftest import clean_env

ROOT = Path(__file__).resolve().parents[2]
TAG = "v1.2.3"
VERSION = "1.2.3"
FALLBACK_VERSION = "0.0.0+unknown"
TIMEOUT = 120


def run(argv: list[str | Path], cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [str(arg) for arg in argv],
        cwd=cwd,
        env={**{k: v for k, v in clean_env().items() if k != "PYTHONPATH"}, **env},
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )
    assert done.returncode == 0, f"{argv}: {done.stdout}{done.stderr}"
    return done


def git(cwd: Path, *args: str) -> None:
    config = ["-c", "user.name=test", "-c", "user.email=test@example.invalid"]
    config += ["-c", "commit.gpgsign=false", "-c", "tag.gpgsign=false"]
    run(["git", *config, *args], cwd, GIT_CONFIG_GLOBAL=os.devnull, GIT_CONFIG_NOSYSTEM="1")


def tagged_copy(destination: Path) -> Path:
    """This checkout's files as they are now (ignored ones left out), committed and tagged."""
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
        cwd=ROOT, capture_output=True, text=True, timeout=TIMEOUT, check=True,
    ).stdout  # fmt: skip
    for name in filter(None, listed.split("\0")):
        source = ROOT / name
        if source.is_file():  # a file deleted but not yet staged is listed too
            (destination / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, destination / name)
    git(destination, "init", "--quiet")
    git(destination, "add", "--all")
    git(destination, "commit", "--quiet", "--message", "release")
    git(destination, "tag", TAG)
    return destination


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    source = tagged_copy(tmp_path_factory.mktemp("source"))
    wheelhouse = tmp_path_factory.mktemp("wheelhouse")
    run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
         "--no-index", "--wheel-dir", wheelhouse, source],
        source,
    )  # fmt: skip
    [built] = wheelhouse.glob("*.whl")
    return built


def wheel_metadata(wheel: Path) -> email.message.Message:
    with zipfile.ZipFile(wheel) as archive:
        [name] = [n for n in archive.namelist() if n.endswith(".dist-info/METADATA")]
        return email.parser.Parser().parsestr(archive.read(name).decode())


def test_the_version_is_the_tags(wheel: Path) -> None:
    assert wheel.name == f"approvalflow_sync-{VERSION}-py3-none-any.whl"
    assert wheel_metadata(wheel)["Version"] == VERSION


def test_the_wheel_holds_every_module_and_the_typing_marker_and_nothing_else(wheel: Path) -> None:
    package = ROOT / "src"
    expected = {
        path.relative_to(package).as_posix()
        for path in package.rglob("*")
        if path.is_file() and "__pycache__" not in path.parts and path.name != "_version.py"
    }
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        version_file = archive.read("approvalflow_sync/_version.py").decode()
    dist_info = f"approvalflow_sync-{VERSION}.dist-info/"
    assert {n for n in names if not n.startswith(dist_info)} == expected | {
        "approvalflow_sync/_version.py"
    }
    assert "approvalflow_sync/py.typed" in names
    assert version_file == f'__version__ = "{VERSION}"\n'
    assert f"{dist_info}entry_points.txt" in names


def fresh_venv(where: Path, wheel: Path) -> Path:
    """A venv holding only the wheel, with this environment's packages to borrow after it."""
    venv = where / "venv"
    run([sys.executable, "-m", "venv", "--without-pip", venv], where)
    python = venv / "bin" / "python"
    run(
        [sys.executable, "-m", "pip", "--python", python, "install", "--quiet", "--no-deps",
         "--no-index", wheel],
        where,
    )  # fmt: skip
    site = run([python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"], where)
    borrowed = {sysconfig.get_path("purelib"), sysconfig.get_path("platlib")}
    lines = "".join(f"{path}\n" for path in sorted(borrowed))
    Path(site.stdout.strip(), "borrowed-dependencies.pth").write_text(lines, encoding="utf-8")
    return venv


def test_the_wheel_in_a_fresh_venv_runs_the_demo_outside_the_checkout(
    wheel: Path, tmp_path: Path
) -> None:
    venv = fresh_venv(tmp_path, wheel)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()

    where = run(
        [venv / "bin/python", "-c", "import approvalflow_sync as p; print(p.__file__)"], elsewhere
    )
    version = run([venv / "bin/approvalflow-sync", "--version"], elsewhere)
    demo = run([venv / "bin/approvalflow-sync", "demo"], elsewhere)

    assert Path(where.stdout.strip()).is_relative_to(venv), where.stdout
    assert version.stdout == f"approvalflow-sync {VERSION}\n"
    assert "ApprovalFlow sandbox on http://127.0.0.1:" in demo.stdout
    assert "commit status: success: 3 of 3 pages can be submitted" in demo.stdout
    assert "### ApprovalFlow: Submitted 4 pages for approval, 1 skipped" in demo.stdout
    assert "Traceback" not in demo.stderr


def test_a_checkout_on_the_path_without_a_build_reports_the_fallback_version(
    tmp_path: Path,
) -> None:
    """The action puts the checkout's ``src`` on the path with a .pth: nothing is built."""
    checkout = tmp_path / "src"
    shutil.copytree(
        ROOT / "src", checkout, ignore=shutil.ignore_patterns("_version.py", "__pycache__")
    )
    done = run(
        [sys.executable, "-m", "approvalflow_sync", "--version"], tmp_path, PYTHONPATH=str(checkout)
    )
    assert done.stdout == f"approvalflow-sync {FALLBACK_VERSION}\n"
