"""Our tokens never leave the API hosts, and no call outlives its deadline, against real servers.

Every server here is a real HTTP server on 127.0.0.1. A second server on another port stands for
another host: it records whatever reaches it, and must receive nothing, whatever a hostile
server's ``Link`` header or redirect says. A trickling server sends one byte a second: httpx's
timeouts bound each read, so only a deadline on the whole call ends it.
"""

from __future__ import annotations

import http.server
import json
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest

from approvalflow_sync.approvalflow.client import ApprovalFlowClient
from approvalflow_sync.approvalflow.oauth import accessible_resources, exchange_refresh_token
from approvalflow_sync.errors import (
    APIResponseError,
    APITimeoutError,
    GitHubError,
    OAuthConnectionError,
    OAuthError,
    SecretWriteError,
)
from approvalflow_sync.github.event import PullRequest
from approvalflow_sync.github.gateway import GitHubGateway
from approvalflow_sync.github.secrets import write_secret
from approvalflow_sync.retry import RetryPolicy

TOKEN = "tok-SECRET-0123456789abcdef"
FILES = "/api/v3/repos/o/r/pulls/1/files"
PR = PullRequest(
    repo="o/r",
    number=1,
    title="t",
    body="",
    html_url="",
    head_sha="a" * 40,
    head_ref="h",
    head_repo="o/r",
    base_ref="main",
    base_sha="b" * 40,
    merged=False,
    changed_files=None,
)

Answer = Callable[[http.server.BaseHTTPRequestHandler], None]


class Loopback:
    """A real HTTP server on 127.0.0.1 that records each request and answers with ``answer``."""

    def __init__(self, answer: Answer) -> None:
        self.received: list[tuple[str, str, dict[str, str]]] = []
        self.hung_up = threading.Event()
        """Set once the client closed a connection while an answer was still being written."""
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def handle_one_request(self) -> None:
                try:
                    super().handle_one_request()
                except (BrokenPipeError, ConnectionResetError):  # the client gave up
                    self.close_connection = True
                    outer.hung_up.set()

            def _any(self) -> None:
                outer.received.append((self.command, self.path, dict(self.headers)))
                answer(self)

            do_GET = do_POST = do_PUT = do_PATCH = _any  # noqa: N815 - http.server's names

            def log_message(self, format: str, *args: object) -> None:
                pass

        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@contextmanager
def serving(answer: Answer) -> Iterator[Loopback]:
    server = Loopback(answer)
    try:
        yield server
    finally:
        server.close()


@pytest.fixture
def elsewhere() -> Iterator[Loopback]:
    """Another host: answers 200 to anything, and must never be asked anything."""
    with serving(lambda h: send(h, 200, {"got": "your token"})) as server:
        yield server


def send(
    handler: http.server.BaseHTTPRequestHandler,
    status: int,
    body: Any = None,
    headers: dict[str, str] | None = None,
) -> None:
    data = b"" if body is None else json.dumps(body).encode()
    handler.send_response(status)
    handler.send_header("Content-Type", "application/json")
    handler.send_header("Content-Length", str(len(data)))
    for name, value in (headers or {}).items():
        handler.send_header(name, value)
    handler.end_headers()
    handler.wfile.write(data)


def redirect(status: int, to: str) -> Answer:
    return lambda h: send(h, status, None, {"Location": f"{to}{h.path}"})


def trickle(handler: http.server.BaseHTTPRequestHandler) -> None:
    """A 40-byte JSON answer, one byte a second: each read is quick, the whole takes 40 s."""
    data = json.dumps({"success": True, "changeSets": [], "pad": "x" * 8}).encode()
    handler.send_response(200)
    handler.send_header("Content-Type", "application/json")
    handler.send_header("Content-Length", str(len(data)))
    handler.end_headers()
    for byte in data:
        handler.wfile.write(bytes([byte]))
        handler.wfile.flush()
        time.sleep(1.0)


def trickle_headers(handler: http.server.BaseHTTPRequestHandler) -> None:
    """The status line and headers themselves, one byte a second, written straight to the socket."""
    data = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}"
    for byte in data:
        handler.wfile.write(bytes([byte]))
        handler.wfile.flush()
        time.sleep(1.0)


SLOW_ANSWERS = pytest.mark.parametrize("slow", [trickle, trickle_headers], ids=["body", "headers"])


def approvalflow(url: str, retry: RetryPolicy) -> ApprovalFlowClient:
    return ApprovalFlowClient(url, TOKEN, http=httpx.Client(timeout=2.0), retry=retry)


# -- deadlines -------------------------------------------------------------------------------------


@SLOW_ANSWERS
def test_an_approvalflow_call_ends_at_its_deadline_however_slowly_the_answer_comes(
    slow: Answer,
) -> None:
    with serving(slow) as server:
        started = time.monotonic()
        with pytest.raises(APITimeoutError) as caught:
            approvalflow(server.url, RetryPolicy(total_seconds=3.0)).list_change_sets("1")
        took = time.monotonic() - started
        assert server.hung_up.wait(5.0), "the connection is closed when the call ends"

    assert 2.5 <= took < 3.0 + 1.5, took
    assert "GET /changeSets" in str(caught.value)
    assert "deadline passed" in str(caught.value)
    assert len(server.received) == 1, "no retry starts after the deadline"


def test_the_run_deadline_ends_a_call_before_its_own() -> None:
    with serving(trickle) as server:
        started = time.monotonic()
        policy = RetryPolicy(total_seconds=60.0, run_ends=time.monotonic() + 1.5)
        with pytest.raises(APITimeoutError, match="deadline passed"):
            approvalflow(server.url, policy).get_change_set("cs-1")
        took = time.monotonic() - started

    assert took < 1.5 + 1.5, took


def test_a_call_after_the_run_deadline_is_not_sent() -> None:
    with serving(trickle) as server:
        policy = RetryPolicy(run_ends=time.monotonic() - 1.0)
        with pytest.raises(APITimeoutError, match="before the request was sent"):
            approvalflow(server.url, policy).create_change_set("1", "T", ["2"])

    assert server.received == []


@SLOW_ANSWERS
def test_a_token_request_ends_at_its_deadline(slow: Answer) -> None:
    with serving(slow) as server, httpx.Client(timeout=2.0) as http:
        started = time.monotonic()
        with pytest.raises(OAuthConnectionError) as caught:
            exchange_refresh_token(
                http,
                f"{server.url}/oauth/token",
                "client",
                "client-secret",
                "refresh-token",
                retry=RetryPolicy(total_seconds=3.0),
            )
        took = time.monotonic() - started

    assert took < 3.0 + 1.5, took
    assert f"POST {server.url}/oauth/token" in str(caught.value)
    assert "deadline passed" in str(caught.value)


@SLOW_ANSWERS
def test_a_github_call_ends_at_its_deadline_however_slowly_the_answer_comes(slow: Answer) -> None:
    with serving(slow) as server:
        gateway = GitHubGateway(f"{server.url}/api/v3", TOKEN, retry=RetryPolicy(total_seconds=3.0))
        started = time.monotonic()
        with pytest.raises(GitHubError) as caught:
            gateway.list_files(PR)
        took = time.monotonic() - started

    assert 2.5 <= took < 3.0 + 1.5, took
    assert "no answer (TimeoutError)" in str(caught.value)
    assert len(server.received) == 1, "no retry starts after the deadline"


def test_a_github_write_after_the_run_deadline_is_not_sent() -> None:
    with serving(trickle) as server:
        gateway = GitHubGateway(f"{server.url}/api/v3", TOKEN, run_ends=time.monotonic() - 1.0)
        with pytest.raises(GitHubError, match="no answer"):
            gateway.create_comment(PR, "hello")

    assert server.received == []


# -- ApprovalFlow and the token endpoint: no redirect is followed ----------------------------------


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_approvalflow_redirects_to_another_host_are_refused(
    elsewhere: Loopback, status: int
) -> None:
    with serving(redirect(status, elsewhere.url)) as server:
        client = approvalflow(server.url, RetryPolicy.no_backoff())
        with pytest.raises(APIResponseError) as caught:
            client.create_change_set("1", "T", ["2"])

    assert "redirect" in str(caught.value)
    assert "not followed" in str(caught.value)
    assert "POST /changeSets" in str(caught.value)
    assert TOKEN not in str(caught.value)
    assert elsewhere.received == []


@pytest.mark.parametrize("status", [302, 307])
def test_token_endpoint_redirects_are_refused(elsewhere: Loopback, status: int) -> None:
    with serving(redirect(status, elsewhere.url)) as server, httpx.Client() as http:
        with pytest.raises(OAuthError, match="a redirect, not followed"):
            exchange_refresh_token(
                http,
                f"{server.url}/oauth/token",
                "client",
                "client-secret",
                "refresh-token",
                retry=RetryPolicy.no_backoff(),
            )
        with pytest.raises(OAuthError, match=f"answered {status}"):
            accessible_resources(http, f"{server.url}/oauth/token/accessible-resources", TOKEN)

    assert elsewhere.received == []


# -- GitHub: no Link, URL field or redirect takes the token elsewhere ------------------------------


def hostile_link(to: str) -> Answer:
    """A page of files whose ``Link: next`` points to another host."""
    link = f'<{to}{FILES}?page=2>; rel="next", <{to}{FILES}?page=9>; rel="last"'
    return lambda h: send(h, 200, [{"filename": "a.md", "status": "added"}], {"Link": link})


def test_a_github_link_to_another_host_is_not_followed(elsewhere: Loopback) -> None:
    with serving(hostile_link(elsewhere.url)) as server:
        gateway = GitHubGateway(f"{server.url}/api/v3", TOKEN, retry=RetryPolicy.no_backoff())
        with pytest.raises(GitHubError) as caught:
            gateway.list_files(PR)

    assert "not followed" in str(caught.value)
    assert f"127.0.0.1:{elsewhere.url.rsplit(':', 1)[1]}" in str(caught.value)
    assert [path for _method, path, _headers in server.received] == [f"{FILES}?per_page=100"]
    assert elsewhere.received == []


def test_a_github_link_to_another_host_is_not_followed_under_python_o(
    elsewhere: Loopback,
) -> None:
    """PyGithub's own check is an ``assert``: gone under ``-O``. Ours is not."""
    script = (
        "import sys\n"
        "from approvalflow_sync.retry import RetryPolicy\n"
        "from approvalflow_sync.errors import GitHubError\n"
        "from approvalflow_sync.github.gateway import GitHubGateway\n"
        "from approvalflow_sync.github.event import PullRequest\n"
        "assert False, 'asserts must be off'\n"
        "pr = PullRequest('o/r', 1, 't', '', '', 'a' * 40, 'h', 'o/r', 'main', 'b' * 40,\n"
        "                 False, None)\n"
        "gateway = GitHubGateway(sys.argv[1], 'tok-SECRET', retry=RetryPolicy.no_backoff())\n"
        "try:\n"
        "    gateway.list_files(pr)\n"
        "except GitHubError as error:\n"
        "    print(f'refused: {error}')\n"
        "else:\n"
        "    print('followed')\n"
    )
    with serving(hostile_link(elsewhere.url)) as server:
        run = subprocess.run(
            [sys.executable, "-O", "-c", script, f"{server.url}/api/v3"],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

    assert run.returncode == 0, run.stderr
    assert run.stdout.startswith("refused: "), run.stdout
    assert "not followed" in run.stdout
    assert "Traceback" not in run.stderr
    assert elsewhere.received == []


@pytest.mark.parametrize("status", [301, 302, 307, 308])
def test_a_github_redirect_to_another_host_is_not_followed(
    elsewhere: Loopback, status: int
) -> None:
    with serving(redirect(status, elsewhere.url)) as server:
        gateway = GitHubGateway(f"{server.url}/api/v3", TOKEN, retry=RetryPolicy.no_backoff())
        with pytest.raises(GitHubError, match="not followed"):
            gateway.create_comment(PR, "hello")

    assert len(server.received) == 1
    assert elsewhere.received == []


def test_a_secret_write_redirected_to_another_host_is_not_followed(elsewhere: Loopback) -> None:
    with (
        serving(redirect(307, elsewhere.url)) as server,
        pytest.raises(SecretWriteError, match="not followed"),
    ):
        write_secret(f"{server.url}/api/v3", TOKEN, "NAME", "value", repo="o/r")

    assert elsewhere.received == []
