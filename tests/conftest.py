"""Fixtures shared by every test layer: a sandbox on loopback and a way to run the CLI."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import httpx
import pytest

from approvalflow_sync.sandbox import DEFAULT_TOKEN, Answers, SandboxServer
from fakes.github import FakeGitHub

RunCli = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture(autouse=True, scope="session")
def _loopback_only() -> None:
    """Keep a proxy set on the machine from catching calls to the loopback servers."""
    os.environ["NO_PROXY"] = "127.0.0.1,localhost"
    os.environ["no_proxy"] = "127.0.0.1,localhost"


BOTH_ANSWER_MODES = ("e2e", "reliability")
"""Test folders whose ``sandbox`` runs in both answer modes: the reference's and the rich one."""


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Run the end-to-end and reliability tests against both of the sandbox's answer modes."""
    in_both = metafunc.definition.path.parent.name in BOTH_ANSWER_MODES
    if in_both and "sandbox" in metafunc.fixturenames:
        metafunc.parametrize("answers", ["reference", "rich"])


@pytest.fixture
def answers() -> Answers:
    """How the sandbox answers: as the vendor's reference shows (the default), or richer."""
    return "reference"


@pytest.fixture
def sandbox(answers: Answers) -> Iterator[SandboxServer]:
    """A fresh ApprovalFlow sandbox with the built-in seed, on a free loopback port."""
    with SandboxServer(host="127.0.0.1", port=0, answers=answers) as server:
        yield server


def interruptible() -> None:
    """Give the child Ctrl-C back (``preexec_fn``): a run started in the background inherits
    SIGINT ignored, and Python then never turns SIGINT into KeyboardInterrupt."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def clean_env(**extra: str) -> dict[str, str]:
    """The test process's environment without any ApprovalFlow, GitHub or runner settings."""
    prefixes = ("APPROVALFLOW_", "GITHUB_", "INPUT_", "RUNNER_", "ACTIONS_")
    env = {k: v for k, v in os.environ.items() if not k.startswith(prefixes)}
    env.update(extra)
    return env


@pytest.fixture
def run_cli(sandbox: SandboxServer) -> RunCli:
    """Run ``approvalflow-sync`` as a subprocess, connected to the sandbox unless overridden."""

    def run(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
        settings = {"APPROVALFLOW_BASE_URL": sandbox.base_url, "APPROVALFLOW_TOKEN": DEFAULT_TOKEN}
        settings.update(env)
        return subprocess.run(
            [sys.executable, "-m", "approvalflow_sync", *args],
            env=clean_env(**settings),
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

    return run


@contextmanager
def browser() -> Iterator[Callable[[str], bool]]:
    """An ``open_browser`` that visits the URL from another thread, following redirects."""
    threads: list[threading.Thread] = []

    def visit(url: str) -> bool:
        def run() -> None:
            with httpx.Client(trust_env=False, timeout=10) as client:
                client.get(url, follow_redirects=True)

        threads.append(threading.Thread(target=run))
        threads[-1].start()
        return True

    try:
        yield visit
    finally:
        for thread in threads:
            thread.join(timeout=10)


@pytest.fixture
def fake_github() -> Iterator[FakeGitHub]:
    """The fake GitHub on loopback (the runs under act)."""
    with FakeGitHub(host="127.0.0.1") as fake:
        yield fake
