"""The sandbox on a socket: a threading HTTP server in front of :class:`SandboxApp`, and the
state file. It binds when built, so ``base_url`` is known at once and a busy port fails early."""

from __future__ import annotations

import contextlib
import json
import logging
import socket
import socketserver
import sys
import threading
from collections.abc import Mapping
from functools import partial
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from pydantic import ValidationError

from approvalflow_sync.atomic_file import write_atomically
from approvalflow_sync.errors import ConfigError
from approvalflow_sync.sandbox.app import (
    ADMIN_PREFIX,
    Answers,
    Request,
    Response,
    SandboxApp,
    api_error,
)
from approvalflow_sync.sandbox.seed import DEFAULT_SEED, Seed, first_problem, validate_seed
from approvalflow_sync.sandbox.state import STATE_FORMAT, SandboxState

log = logging.getLogger("approvalflow_sync.sandbox")

JOIN_SECONDS = 5.0
"""How long ``stop`` waits for requests still being answered."""
POLL_SECONDS = 0.05
"""How often the accept loop looks whether ``stop`` was called."""
MAX_CONNECTIONS = 64
"""Connections served at once, a thread each; one more is answered 503 and closed."""
IDLE_SECONDS = 15.0
"""A connection silent this long is closed (longer than httpx's 5 s keep-alive)."""
MAX_BODY_BYTES = 16 * 1024 * 1024
"""A larger request body is refused (400) before any of it is read."""
_BUSY = (
    b"HTTP/1.1 503 Service Unavailable\r\nRetry-After: 1\r\nContent-Length: 0\r\n"
    b"Connection: close\r\n\r\n"
)


class SandboxServer:
    """A local ApprovalFlow on loopback; ``with SandboxServer() as s:`` starts and stops it."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        seed: Mapping[str, Any] | Seed | None = None,
        state_file: Path | None = None,
        latency: float = 0.0,
        *,
        answers: Answers = "reference",
    ) -> None:
        valid_seed = validate_seed(DEFAULT_SEED if seed is None else seed, "seed")
        state = read_state(state_file) if state_file is not None else None
        save = partial(write_state, state_file) if state_file is not None else None
        self.app = SandboxApp(valid_seed, state, latency=latency, save=save, answers=answers)
        if save is not None and state is None:
            save(self.app.state.to_dict())
        try:
            self._httpd = _HTTPServer((host, port), self.app)
        except OSError as exc:
            raise ConfigError(
                f"cannot listen on {host}:{port}: {exc.strerror or exc}; "
                "choose another --port (0 picks a free one) or --host"
            ) from None
        self.host = host
        self.port: int = self._httpd.server_address[1]
        self._thread: threading.Thread | None = None
        self._stopped = threading.Event()
        self._lifecycle = threading.Lock()

    def __repr__(self) -> str:
        return f"SandboxServer({self.base_url!r})"

    @property
    def base_url(self) -> str:
        """The API's base URL: the endpoint paths go directly under it."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def url_for(self, base_url: str) -> str:
        """``base_url`` (built from its parts, on Atlassian's hosts) moved onto this sandbox."""
        return self.base_url + urlsplit(base_url).path

    @property
    def admin_url(self) -> str:
        """The admin surface's base URL."""
        return self.base_url + ADMIN_PREFIX

    def start(self) -> None:
        """Serve in a background thread (once, however often called); returns at once."""
        with self._lifecycle:
            if self._stopped.is_set():
                raise RuntimeError("this sandbox is stopped")
            if self._thread is None:
                serve = partial(self._httpd.serve_forever, POLL_SECONDS)
                name = f"approvalflow-sandbox-{self.port}"
                self._thread = threading.Thread(target=serve, name=name, daemon=True)
                self._thread.start()

    def serve_forever(self) -> None:
        """Serve until Ctrl-C or :meth:`stop`, then close cleanly."""
        self.start()
        try:
            self._stopped.wait()
        except KeyboardInterrupt:
            log.debug("sandbox: interrupted")
        finally:
            self.stop()

    def stop(self) -> None:
        """Stop serving, close every connection and wait for answers in flight; idempotent."""
        with self._lifecycle:
            if self._stopped.is_set():
                return
            self._stopped.set()
        if self._thread is not None:
            self._httpd.shutdown()  # returns once the accept loop has ended
        self._httpd.server_close()
        self._httpd.close_connections(JOIN_SECONDS)

    def __enter__(self) -> SandboxServer:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


# -- the state file ----------------------------------------------------------------------------


def read_state(path: Path) -> SandboxState | None:
    """The state saved in ``path``, or None when there is no such file yet."""
    source = f"state file {path}"
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{source}: cannot read it ({exc})") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigError(
            f"{source}: not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno} "
            "(delete it to start from the seed)"
        ) from None
    refusal = f"{source}: not a sandbox state file (format {STATE_FORMAT})"
    if not isinstance(data, dict) or data.get("format") != STATE_FORMAT:  # an older one, say
        raise ConfigError(f"{refusal}; delete it to start from the seed")
    try:
        return SandboxState.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(f"{refusal}: {first_problem(exc)}") from None


def write_state(path: Path, data: Mapping[str, Any]) -> None:
    """Write the state atomically (a temporary file, then a rename); ConfigError if it cannot."""
    text = json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    try:
        write_atomically(path, text)
    except OSError as exc:
        raise ConfigError(f"state file {path}: cannot write it ({exc})") from None


# -- HTTP --------------------------------------------------------------------------------------


class _HTTPServer(socketserver.ThreadingTCPServer):
    """A thread per connection, at most ``MAX_CONNECTIONS``; remembers them for stop."""

    allow_reuse_address = True
    daemon_threads = True
    request_queue_size = 128
    """socketserver's default backlog of 5 resets connections when many clients connect at once."""

    def __init__(self, address: tuple[str, int], app: SandboxApp) -> None:
        self.app = app
        self.open: dict[socket.socket, threading.Thread] = {}
        """Each connection and the thread serving it (single dict operations need no lock)."""
        self._slots = threading.BoundedSemaphore(MAX_CONNECTIONS)
        self.address_family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET
        super().__init__(address, _Handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        """Serve the connection in a thread of its own, or answer 503 when all are taken."""
        if not self._slots.acquire(blocking=False):
            with contextlib.suppress(OSError):
                request.sendall(_BUSY)
            self.shutdown_request(request)
            return
        super().process_request(request, client_address)

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        # Headers and body are two writes: without this, Nagle's algorithm meets the client's
        # delayed ACK and every answer waits about 40 ms.
        with contextlib.suppress(OSError):
            request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.open[request] = threading.current_thread()
        try:
            super().process_request_thread(request, client_address)
        finally:
            self.open.pop(request, None)
            self._slots.release()

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that hung up is normal (timeouts, dropped connections); log the rest."""
        if isinstance(sys.exc_info()[1], ConnectionError):
            log.debug("sandbox: client %s went away", client_address)
            return
        log.exception("sandbox: error while serving %s", client_address)

    def close_connections(self, timeout: float) -> None:
        """End reading on every open connection (waking threads that wait for a request, letting
        one still answering finish) and wait for their threads."""
        open_now = list(self.open.items())
        for connection, _thread in open_now:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RD)
        for _connection, thread in open_now:
            if thread is not threading.current_thread():
                thread.join(timeout)


class _Handler(BaseHTTPRequestHandler):
    """Reads one request, asks the app, writes its answer or drops the connection."""

    server: _HTTPServer
    protocol_version = "HTTP/1.1"
    server_version = "ApprovalFlowSandbox/1.0"
    sys_version = ""
    timeout = IDLE_SECONDS

    def _serve(self) -> None:
        try:
            body = self._read_body()
        except ValueError as exc:
            self.close_connection = True
            self._write(api_error(400, str(exc)))
            return
        url = urlsplit(self.path)
        request = Request(
            method=self.command,
            path=url.path or "/",
            query=dict(parse_qsl(url.query, keep_blank_values=True)),
            body=body,
            token=_bearer(self.headers.get("Authorization", "")),
            content_type=self.headers.get("Content-Type", ""),
        )
        try:
            response = self.server.app.handle(request)
        except Exception as exc:
            log.exception("sandbox: %s %s failed", request.method, request.path)
            response = api_error(500, f"Internal error in the sandbox: {exc}")
        if response is None:
            self.close_connection = True
            return
        self._write(response)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve  # noqa: N815 - http.server's names

    def _read_body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            raise ValueError("Chunked request bodies are not accepted; send Content-Length")
        length = self.headers.get("Content-Length")
        if length is None:
            return b""
        if not length.strip().isdigit():
            raise ValueError("Content-Length is not a number")
        if int(length) > MAX_BODY_BYTES:
            raise ValueError(f"The request body is larger than {MAX_BODY_BYTES} bytes")
        return self.rfile.read(int(length))

    def _write(self, response: Response) -> None:
        self.send_response(response.status)
        self.send_header("Content-Type", response.content_type)
        self.send_header("Content-Length", str(len(response.body)))
        for name, value in response.headers:
            self.send_header(name, value)
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(response.body)

    def log_message(self, format: str, *args: Any) -> None:
        """Requests go to the debug log, not to stderr."""
        log.debug("sandbox: %s %s", self.address_string(), format % args)


def _bearer(header: str) -> str | None:
    scheme, _, token = header.strip().partition(" ")
    return (token.strip() or None) if scheme.lower() == "bearer" else None
