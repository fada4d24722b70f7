"""``approvalflow-sync sandbox``: serve a sandbox in the foreground until Ctrl-C."""

from __future__ import annotations

import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import TextIO

from approvalflow_sync.errors import ConfigError
from approvalflow_sync.sandbox.app import Answers
from approvalflow_sync.sandbox.oauth import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET
from approvalflow_sync.sandbox.seed import load_seed
from approvalflow_sync.sandbox.server import SandboxServer
from approvalflow_sync.sandbox.state import DEFAULT_TOKEN


def main_sandbox(
    host: str,
    port: int,
    state: Path | None,
    seed: Path | None,
    latency: float,
    *,
    answers: Answers = "reference",
    out: TextIO | None = None,
) -> int:
    """Print where the sandbox listens, serve until Ctrl-C (or SIGTERM), and return 0.

    A bad seed or state file, a negative latency or a busy port raise ConfigError.
    """
    if latency < 0:
        raise ConfigError(f"--latency: must be 0 or more seconds, got {latency}")
    if not 0 <= port <= 65535:
        raise ConfigError(f"--port: must be from 0 to 65535, got {port}")
    out = out or sys.stdout
    try:
        with _terminate_as_interrupt():
            seed_data = load_seed(seed) if seed is not None else None
            server = SandboxServer(
                host, port, seed=seed_data, state_file=state, latency=latency, answers=answers
            )
            print(f"ApprovalFlow sandbox on {server.base_url}  token: {DEFAULT_TOKEN}", file=out)
            print(
                f"OAuth: {server.base_url}/authorize, {server.base_url}/oauth/token  "
                f"client: {DEFAULT_CLIENT_ID} / {DEFAULT_CLIENT_SECRET}",
                file=out,
            )
            out.flush()
            server.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


@contextmanager
def _terminate_as_interrupt() -> Iterator[None]:
    """Let SIGTERM stop the sandbox as cleanly as Ctrl-C (only the main thread can do this)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(_signum: int, _frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
