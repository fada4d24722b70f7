"""Shared pieces of the reliability suite (no tests here).

* :class:`Harness`: the end-to-end :class:`ActionHarness` (reused, not copied) with what the
  reliability tests need besides: extra environment (``RUNNER_DEBUG``, which the runner sets and
  the harness strips), another program line (to shorten the client's timeout), runs started in
  the background so that two can race, and a step directory per run that is safe across threads.
* :func:`runner_commands`: the lines of a log that the Actions runner would obey as workflow
  commands, found the way the runner finds them.
* :class:`CuttingProxy`: a reverse proxy on loopback that forwards to the sandbox and cuts one
  chosen answer off in the middle of its body (the sandbox can only drop a connection before the
  status line).
* The mapping and pull request the fault tests share.
"""

from __future__ import annotations

import http.server
import re
import socket
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import httpx

from action_harness import (
    STICKY_MARKER,
    ActionHarness,
    ActionRun,
    load_payload,
    table_lines,
)

__all__ = [
    "DOCS_SPACE",
    "HANDBOOK_SPACE",
    "MAPPING",
    "NUMBER",
    "OWN_COMMANDS",
    "REPO",
    "SHORT_TIMEOUT_SHIM",
    "STICKY_MARKER",
    "ActionRun",
    "CuttingProxy",
    "Harness",
    "LogCommand",
    "load_payload",
    "no_traceback",
    "runner_commands",
    "table_lines",
]

REPO = "Codertocat/Hello-World"
NUMBER = 2
DOCS_SPACE = "12345"
HANDBOOK_SPACE = "54321"

MAPPING = """\
space: "12345"
pages:
  - path: docs/auth/**
    page: "67890"
  - path: docs/errors.md
    page: "67896"
  - path: handbook/onboarding.md
    page: "76540"
    space: "54321"
  - path: drafts/**
    page: "88800"
    space: "99999"
"""
"""Two spaces for most tests (docs and handbook); ``drafts/**`` maps to a page with no workflow."""

OWN_COMMANDS = frozenset({"add-mask", "error", "warning", "notice", "group", "endgroup"})
"""The workflow commands the program itself prints."""

SHORT_TIMEOUT_SHIM = (
    "import sys\n"
    "from approvalflow_sync.approvalflow import client\n"
    "client.ApprovalFlowClient.__init__.__kwdefaults__['timeout'] = float(sys.argv[1])\n"
    "from approvalflow_sync.cli.main import main\n"
    "sys.exit(main(['run']))\n"
)
"""The program with the ApprovalFlow client's timeout (30 s, not configurable) set to argv[1]."""

_LINE_BREAK = re.compile(r"\r\n|\r|\n")


@dataclass(frozen=True)
class LogCommand:
    """A line of a step's log that the runner takes as a workflow command."""

    form: str
    """``"v2"`` for ``::name …::data``, ``"legacy"`` for ``##[name …]data``."""
    name: str
    line: str


def runner_commands(log: str) -> list[LogCommand]:
    """Every line of ``log`` (stdout or stderr: the runner reads both) it would take as a command.

    As the runner's ``ActionCommandManager`` does: the log is split at line breaks; a line whose
    trimmed text starts with ``::`` and has a second ``::`` is the ``::name …::data`` form; any
    other line containing ``##[`` is the legacy form, wherever it occurs. (Inside a line that is
    already a ``::`` command, ``##[`` is data: the runner parses each line once, ``::`` first.)
    Every name is kept, registered with the runner or not: a test that wants none gets none.
    """
    found = []
    for line in _LINE_BREAK.split(log):
        trimmed = line.lstrip()
        if trimmed.startswith("::") and "::" in trimmed[2:]:
            head = trimmed[2:].split("::", 1)[0]
            found.append(LogCommand("v2", head.split(" ", 1)[0], line))
        elif "##[" in line:
            head = line.split("##[", 1)[1]
            found.append(LogCommand("legacy", re.split(r"[ \]]", head, maxsplit=1)[0], line))
    return found


class Harness(ActionHarness):
    """:class:`ActionHarness` with the real ``opened`` event at hand."""

    def opened(self, files: Sequence[Mapping[str, Any] | str], **fields: Any) -> dict[str, Any]:
        """The real ``opened`` payload's pull request (#2 of Codertocat/Hello-World)."""
        return self.add_pull_request(load_payload("opened"), files, **fields)


def no_traceback(run: ActionRun) -> None:
    """Neither stream shows a Python traceback."""
    assert "Traceback" not in run.stderr, run.describe()
    assert "Traceback" not in run.stdout, run.describe()


# -- a proxy that cuts an answer off -----------------------------------------------------------


class CuttingProxy:
    """Forwards every request to ``target``; the next ``count`` answers to ``method path`` are
    sent with their full ``Content-Length`` but only half of the body, then the connection is
    closed: a connection dropped in the middle of the answer, after the server acted."""

    def __init__(self, target: str, method: str, path: str, count: int = 1) -> None:
        self.target = target.rstrip("/")
        self.method = method
        self.path = path
        self.remaining = count
        self.cut: list[bytes] = []
        """The request bodies whose answers were cut off."""
        self._lock = threading.Lock()
        self._http = httpx.Client(trust_env=False, timeout=30)
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                proxy.forward(self)

            def do_POST(self) -> None:
                proxy.forward(self)

            def log_message(self, format: str, *args: Any) -> None:
                """Quiet."""

        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        """The proxy's base URL (the target's path kept)."""
        port = self._server.server_address[1]
        return f"http://127.0.0.1:{port}{httpx.URL(self.target).path.rstrip('/')}"

    def forward(self, handler: http.server.BaseHTTPRequestHandler) -> None:
        """Pass one request on and its answer back, whole or cut."""
        length = int(handler.headers.get("Content-Length") or 0)
        body = handler.rfile.read(length) if length else b""
        prefix = httpx.URL(self.target).path.rstrip("/")
        path = handler.path.split("?", 1)[0].removeprefix(prefix)
        headers = {
            k: v
            for k, v in handler.headers.items()
            if k.lower() in ("authorization", "content-type")
        }
        answer = self._http.request(
            handler.command,
            httpx.URL(self.target).join(handler.path),
            content=body,
            headers=headers,
        )
        with self._lock:
            cut = self.remaining > 0 and (handler.command, path) == (self.method, self.path)
            if cut:
                self.remaining -= 1
                self.cut.append(body)
        handler.send_response(answer.status_code)
        handler.send_header("Content-Type", answer.headers.get("Content-Type", "text/plain"))
        handler.send_header("Content-Length", str(len(answer.content)))
        handler.end_headers()
        if cut:
            handler.wfile.write(answer.content[: len(answer.content) // 2])
            handler.wfile.flush()
            handler.close_connection = True
            handler.connection.shutdown(socket.SHUT_RDWR)
            return
        handler.wfile.write(answer.content)

    @contextmanager
    def running(self) -> Iterator[CuttingProxy]:
        """Serve until the block ends."""
        self._thread.start()
        try:
            yield self
        finally:
            self._server.shutdown()
            self._server.server_close()
            self._http.close()
