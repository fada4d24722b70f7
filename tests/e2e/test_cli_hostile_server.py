"""The CLI prints a hostile server's error text harmlessly, in a terminal and in a workflow step.

Found by review: line breaks in an error survived the scrubber, so inside a workflow step a
server could start a line with ``::set-output``; and ``--debug`` re-raised, putting the raw text
(escape sequences included) on the terminal.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from conftest import clean_env

HOSTILE = "refused\x1b]0;PWNED\x07\x1b[2J\n::set-output name=x::1\n::add-mask::Pull\n##[error]x"


class _Refuses(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = json.dumps({"success": False, "error": HOSTILE}).encode()
        self.send_response(400)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def hostile_url() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Refuses)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize("debug", [[], ["--debug"]])
@pytest.mark.parametrize("in_actions", [True, False])
def test_server_text_never_drives_the_terminal_or_the_runner(
    hostile_url: str, debug: list[str], in_actions: bool
) -> None:
    env = clean_env(APPROVALFLOW_TOKEN="tok-1234567890")
    if in_actions:
        env["GITHUB_ACTIONS"] = "true"
    args = ["change-sets", "list", "--space", "1", "--base-url", hostile_url, *debug]
    done = subprocess.run(
        [sys.executable, "-m", "approvalflow_sync", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 1, done.stderr
    assert "refused" in done.stderr
    assert "\x1b" not in done.stderr + done.stdout
    assert "\x07" not in done.stderr + done.stdout
    if in_actions:
        lines = (done.stderr + done.stdout).splitlines()
        assert not [line for line in lines if line.lstrip().startswith(("::", "##["))]
    if debug:
        assert "Traceback" in done.stderr
