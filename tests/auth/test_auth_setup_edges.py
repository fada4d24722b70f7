"""``auth init`` and ``auth check`` against hostile or odd answers and odd settings.

A scripted Atlassian (a few lines of ``http.server`` on 127.0.0.1) answers what the sandbox
never would: escape sequences in the granted scopes or ``error_description``, a secret echoed
URL-encoded. The commands run as a user runs them, in a subprocess.
"""

from __future__ import annotations

import http.server
import json
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest

from conftest import RunCli
from fakes.github import APP_TOKEN, FakeGitHub

REPO = "Codertocat/Hello-World"
SECRET = "s3cret/with+odd=chars"
HOSTILE = "\x1b]0;owned\x07\x1b[2J"
"""Sets the terminal's title and clears the screen, if printed raw."""


@dataclass
class ScriptedAtlassian:
    """Answers ``/authorize`` at once, and ``/oauth/token`` with :attr:`token`."""

    token: tuple[int, dict[str, Any]] = (200, {"access_token": "at-1", "scope": "x"})
    requests: list[dict[str, Any]] = field(default_factory=list)
    url: str = ""

    def serve(self) -> Iterator[ScriptedAtlassian]:
        fake = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                url = urlsplit(self.path)
                if url.path == "/authorize":
                    query = {k: v[0] for k, v in parse_qs(url.query).items()}
                    back = {"code": "c-1", "state": query["state"]}
                    self.send_response(302)
                    self.send_header("Location", f"{query['redirect_uri']}?{urlencode(back)}")
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                else:
                    self._json(200, [])

            def do_POST(self) -> None:
                length = int(self.headers["Content-Length"])
                fake.requests.append(json.loads(self.rfile.read(length)))
                self._json(*fake.token)

            def _json(self, status: int, body: object) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: object) -> None:
                pass

        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        self.url = f"http://127.0.0.1:{server.server_address[1]}"
        try:
            yield self
        finally:
            server.shutdown()
            server.server_close()


@pytest.fixture
def atlassian() -> Iterator[ScriptedAtlassian]:
    yield from ScriptedAtlassian().serve()


def check(atlassian: ScriptedAtlassian, run_cli: RunCli, *extra: str, **env: str) -> Any:
    return run_cli(
        "auth",
        "check",
        "--client-id",
        "cid",
        "--yes",
        "--token-url",
        f"{atlassian.url}/oauth/token",
        "--resources-url",
        f"{atlassian.url}/resources",
        *extra,
        ATLASSIAN_CLIENT_SECRET=SECRET,
        APPROVALFLOW_REFRESH_TOKEN="rt-old-0001",
        **env,
    )


def init(atlassian: ScriptedAtlassian, run_cli: RunCli, *extra: str, **env: str) -> Any:
    return run_cli(
        "auth",
        "init",
        "--client-id",
        "cid",
        "--port",
        "0",
        "--auth-url",
        f"{atlassian.url}/authorize",
        "--token-url",
        f"{atlassian.url}/oauth/token",
        *extra,
        ATLASSIAN_CLIENT_SECRET=SECRET,
        **env,
    )


# -- item 14: server text reaches the terminal scrubbed ----------------------------------------


def test_granted_scopes_with_escape_sequences_are_printed_scrubbed(
    atlassian: ScriptedAtlassian, run_cli: RunCli
) -> None:
    atlassian.token = (200, {"access_token": "at-1", "scope": f"read:x{HOSTILE}"})
    result = check(atlassian, run_cli)
    assert "scope: read:x" in result.stdout
    assert "\x1b" not in result.stdout + result.stderr
    assert "\x07" not in result.stdout + result.stderr


def test_an_error_description_with_escape_sequences_is_printed_scrubbed(
    atlassian: ScriptedAtlassian, run_cli: RunCli
) -> None:
    atlassian.token = (400, {"error": "invalid_request", "error_description": f"no{HOSTILE}"})
    result = check(atlassian, run_cli)
    assert result.returncode == 1
    assert "invalid_request: no" in result.stderr
    assert "\x1b" not in result.stderr
    assert "Traceback" not in result.stderr


def test_githubs_error_message_with_escape_sequences_is_printed_scrubbed(
    atlassian: ScriptedAtlassian, run_cli: RunCli
) -> None:
    atlassian.token = (200, {"access_token": "at-1", "refresh_token": "rt-new-0002"})
    with FakeGitHub() as github:
        github.add_repository(full_name=REPO)
        github.inject("PUT", "/actions/secrets/", 403, {"message": f"nope{HOSTILE}"})
        result = check(
            atlassian,
            run_cli,
            "--github-repo",
            REPO,
            "--github-api-url",
            github.api_url,
            GH_TOKEN=APP_TOKEN,
        )
    assert result.returncode == 1
    assert "nope" in result.stderr
    assert "\x1b" not in result.stdout + result.stderr
    assert "rt-new-0002" in result.stdout  # still handed on


# -- item 15: small ones -----------------------------------------------------------------------


def test_a_secret_echoed_url_encoded_in_a_token_error_is_hidden(
    atlassian: ScriptedAtlassian, run_cli: RunCli
) -> None:
    echoed = f"bad client_secret={urlencode({'s': SECRET})[2:]} and refresh_token=rt-old-0001"
    atlassian.token = (400, {"error": "invalid_request", "error_description": echoed})
    result = check(atlassian, run_cli)
    assert result.returncode == 1
    assert "client_secret=<hidden>" in result.stderr
    assert "s3cret" not in result.stderr
    assert "rt-old-0001" not in result.stderr


@pytest.mark.parametrize("timeout", ["inf", "nan", "-1", "1e9"])
def test_a_timeout_that_is_not_a_sane_number_is_a_config_error(
    atlassian: ScriptedAtlassian, run_cli: RunCli, timeout: str
) -> None:
    result = init(atlassian, run_cli, "--no-browser", "--timeout", timeout)
    assert result.returncode == 2
    assert "--timeout: must be more than 0 and at most 3600 seconds" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    "url", ["https://[::1", "https://api.github.com:99999", "https://example.com:port"]
)
def test_a_malformed_url_is_a_config_error(
    atlassian: ScriptedAtlassian, run_cli: RunCli, url: str
) -> None:
    for flag in ("--token-url", "--resources-url", "--github-api-url"):
        args = [flag, url] + (["--github-repo", REPO] if flag == "--github-api-url" else [])
        result = check(atlassian, run_cli, *args, GH_TOKEN=APP_TOKEN)
        assert result.returncode == 2, result.stderr
        assert f"{flag}: {url!r} is not a valid URL" in result.stderr
        assert "Traceback" not in result.stderr
    assert atlassian.requests == []  # nothing was spent


def test_the_docs_never_put_a_secret_on_a_command_line() -> None:
    root = Path(__file__).parents[2]
    assigned = re.compile(r"\b[A-Z][A-Z0-9_]*(SECRET|TOKEN)[A-Z0-9_]*=(?!\$\()")
    for doc in (root / "README.md", *sorted((root / "docs").glob("**/*.md"))):
        for number, line in enumerate(doc.read_text().splitlines(), 1):
            assert not assigned.search(line), f"{doc.name}:{number}: {line.strip()}"
    assert "read -rs ATLASSIAN_CLIENT_SECRET" in (root / "README.md").read_text()
