"""``approvalflow-sync sandbox``: serve a sandbox in the foreground until Ctrl-C."""

from __future__ import annotations

import argparse
import signal
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import TextIO

from approvalflow_sync.cli.auth import AuthURLs
from approvalflow_sync.cli.settings import SANDBOX_VARIABLE
from approvalflow_sync.errors import ConfigError
from approvalflow_sync.sandbox.app import MAX_DELAY_SECONDS
from approvalflow_sync.sandbox.oauth import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET
from approvalflow_sync.sandbox.seed import load_seed
from approvalflow_sync.sandbox.server import SandboxServer
from approvalflow_sync.sandbox.state import DEFAULT_TOKEN


def run(args: argparse.Namespace, env: Mapping[str, str], out: TextIO) -> int:
    """Print where the sandbox listens, serve until Ctrl-C (or SIGTERM), and return 0."""
    if not 0 <= args.latency <= MAX_DELAY_SECONDS:
        raise ConfigError(
            f"--latency: must be 0 to {MAX_DELAY_SECONDS:g} seconds, got {args.latency}"
        )
    if not 0 <= args.port <= 65535:
        raise ConfigError(f"--port: must be from 0 to 65535, got {args.port}")
    try:
        with _terminate_as_interrupt():
            server = SandboxServer(
                args.host,
                args.port,
                seed=load_seed(Path(args.seed)) if args.seed else None,
                state_file=Path(args.state) if args.state else None,
                latency=args.latency,
                answers=args.answers,
            )
            print(banner(server), file=out, flush=True)
            server.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


def banner(server: SandboxServer) -> str:
    """What the sandbox serves, and commands that use it as they are (one per line)."""
    base, urls = server.base_url, AuthURLs.of_sandbox(server.base_url)
    token = f"APPROVALFLOW_TOKEN={DEFAULT_TOKEN}"
    return f"""\
ApprovalFlow sandbox on {base}
  API base URL          {base}   (token: {DEFAULT_TOKEN})
  authorize URL         {urls.authorize}
  token URL             {urls.token}
  accessible resources  {urls.resources}
  admin                 {server.admin_url}/state   (also /calls, /approve, /reset ...)
  OAuth client          {DEFAULT_CLIENT_ID}   (client secret: {DEFAULT_CLIENT_SECRET})

Try it from another terminal:
  APPROVALFLOW_BASE_URL={base} {token} approvalflow-sync change-sets list --space 12345
  {token} approvalflow-sync auth check --sandbox {base}
  ATLASSIAN_CLIENT_SECRET={DEFAULT_CLIENT_SECRET} approvalflow-sync auth init --sandbox \
{base} --client-id {DEFAULT_CLIENT_ID}
  approvalflow-sync plan --sandbox {base}
After `export {SANDBOX_VARIABLE}={base}`, auth and plan need no --sandbox URL.
Stop it with Ctrl-C."""


@contextmanager
def _terminate_as_interrupt() -> Iterator[None]:
    """Let SIGTERM stop the sandbox as cleanly as Ctrl-C (only the main thread can do this)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, signal.default_int_handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
