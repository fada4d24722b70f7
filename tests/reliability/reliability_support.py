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
import json
import re
import socket
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

_E2E = str(Path(__file__).resolve().parents[1] / "e2e")
if _E2E not in sys.path:  # the e2e directory is on sys.path only once its tests are collected
    sys.path.insert(0, _E2E)

from action_harness import (  # noqa: E402
    ACTION_DEFAULTS,
    STICKY_MARKER,
    ActionHarness,
    ActionRun,
    load_payload,
    parse_commands,
    parse_output_file,
    table_lines,
)

from approvalflow_sync.sandbox import DEFAULT_TOKEN, SandboxServer  # noqa: E402
from conftest import clean_env  # noqa: E402
from fakes.github import ACTIONS_TOKEN, FakeGitHub  # noqa: E402

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
    "Started",
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
    "from approvalflow_sync.cli import main\n"
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
    """:class:`ActionHarness` plus extra environment, another program line, background runs."""

    def __init__(self, root: Path, github: FakeGitHub, sandbox: SandboxServer) -> None:
        super().__init__(root, github, sandbox)
        self._lock = threading.Lock()

    def opened(self, files: Sequence[Mapping[str, Any] | str], **fields: Any) -> dict[str, Any]:
        """The real ``opened`` payload's pull request (#2 of Codertocat/Hello-World)."""
        return self.add_pull_request(load_payload("opened"), files, **fields)

    def start(
        self,
        event: Mapping[str, Any],
        *,
        event_name: str = "pull_request",
        token: str = ACTIONS_TOKEN,
        inputs: Mapping[str, str] | None = None,
        env: Mapping[str, str] | None = None,
        argv: Sequence[str] | None = None,
        event_text: str | None = None,
        event_path: str | None = None,
    ) -> Started:
        """Start ``approvalflow-sync run`` as a workflow step would; :meth:`Started.wait` ends it.

        ``env`` is added last (``RUNNER_DEBUG``, or an empty string to unset a variable);
        ``argv`` replaces ``-m approvalflow_sync run`` after the interpreter; ``event_text``
        is written as the event file instead of ``event``; ``event_path`` points elsewhere.
        """
        with self._lock:
            self.runs += 1
        step = Path(tempfile.mkdtemp(prefix=f"step-{self.runs}-", dir=self.root))
        path = step / "event.json"
        path.write_text(json.dumps(event) if event_text is None else event_text, "utf-8")
        output_path = step / "github_output"
        summary_path = step / "step_summary.md"
        output_path.write_text("", encoding="utf-8")
        summary_path.write_text("", encoding="utf-8")
        values = {
            **ACTION_DEFAULTS,
            "base-url": self.sandbox.base_url,
            "access-token": DEFAULT_TOKEN,
            "github-token": token,
            **(inputs or {}),
        }
        repository = event.get("repository", {}).get("full_name", "") if event else ""
        variables = clean_env(
            GITHUB_ACTIONS="true",
            CI="true",
            GITHUB_EVENT_NAME=event_name,
            GITHUB_EVENT_PATH=str(path) if event_path is None else event_path,
            GITHUB_API_URL=self.github.api_url,
            GITHUB_SERVER_URL=self.github.web_url,
            GITHUB_REPOSITORY=str(repository),
            GITHUB_OUTPUT=str(output_path),
            GITHUB_STEP_SUMMARY=str(summary_path),
            GITHUB_WORKSPACE=str(self.workspace),
            GITHUB_RUN_ID="4242",
            NO_PROXY="127.0.0.1,localhost",
            no_proxy="127.0.0.1,localhost",
            **{f"INPUT_{name.upper()}": value for name, value in values.items()},
        )
        for name, value in (env or {}).items():
            if value:
                variables[name] = value
            else:
                variables.pop(name, None)
        process = subprocess.Popen(
            [sys.executable, *(argv or ["-m", "approvalflow_sync", "run"])],
            env=variables,
            cwd=self.elsewhere,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        return Started(process, output_path, summary_path)

    def run(self, event: Mapping[str, Any], **options: Any) -> ActionRun:
        """Run the program to its end (the options of :meth:`start`)."""
        return self.start(event, **options).wait()


class Started:
    """A run in progress."""

    def __init__(self, process: subprocess.Popen[str], output: Path, summary: Path) -> None:
        self.process = process
        self._output = output
        self._summary = summary

    def wait(self, timeout: float = 90) -> ActionRun:
        """Wait for the end; what a workflow would see."""
        try:
            stdout, stderr = self.process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            stdout, stderr = self.process.communicate()
            raise AssertionError(f"the run did not end in {timeout}s\n{stdout}\n{stderr}") from None
        return ActionRun(
            returncode=self.process.returncode,
            stdout=stdout,
            stderr=stderr,
            outputs=parse_output_file(self._output.read_text(encoding="utf-8")),
            summary=self._summary.read_text(encoding="utf-8"),
            commands=parse_commands(stdout),
        )


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
