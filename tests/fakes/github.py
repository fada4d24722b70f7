"""A fake GitHub REST API served over real HTTP on 127.0.0.1, shaped like GitHub's OpenAPI.

The server plays GitHub Enterprise Server: the API lives under ``/api/v3`` (``api_url``),
web pages under the root (``web_url``, never served). Every ``url``/``html_url`` field it
hands out points at its own base, so clients that follow URL fields (PyGithub does) stay on
the fake. Responses follow the schemas in ``tests/data/github/openapi/schemas.json``
(extracted from @octokit/openapi 23.0.2); the GitHub behaviours copied on purpose are in
``/work/shared/github/FACTS.md``: the Actions token has no user (``GET /user`` answers 403),
permission-less writes answer ``403 Resource not accessible by integration``, pagination
with ``per_page`` <= 100 and absolute ``Link`` URLs (``/repositories/{id}/...`` like
GitHub), a 3,000 entry cap on PR files, comments in ascending id order, 404 for a deleted
comment, 140-character status descriptions, sealed-box secrets, weak ``ETag``s (a hash of the
body) on GET answers and 304 to a matching ``If-None-Match`` (not counted against the rate
limit).

Usage::

    with FakeGitHub() as fake:
        pr = fake.add_pull_request(json.loads(payload_path.read_text()))
        fake.set_pull_request_files("Codertocat/Hello-World", 2, FakeGitHub.make_files(250))
        gh = github.Github(auth=github.Auth.Token(ACTIONS_TOKEN), base_url=fake.api_url)
        ...

Thread safety: all state is guarded by one lock; seed and inspect it from the test thread
while the server thread answers requests.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import copy
import hashlib
import http.server
import itertools
import json
import math
import re
import secrets as _random
import socket
import threading
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit

from nacl.exceptions import CryptoError
from nacl.public import PrivateKey, PublicKey, SealedBox

__all__ = [
    "ACTIONS_READONLY_TOKEN",
    "ACTIONS_TOKEN",
    "APP_BOT",
    "APP_TOKEN",
    "CODERTOCAT",
    "FINE_GRAINED_TOKEN",
    "GITHUB_ACTIONS_BOT",
    "NOT_ACCESSIBLE_BY_INTEGRATION",
    "NOT_ACCESSIBLE_BY_PAT",
    "OCTOCAT",
    "PAT_TOKEN",
    "SECONDARY_RATE_LIMIT_DOCS",
    "Call",
    "FakeGitHub",
    "Identity",
    "Token",
    "default_tokens",
    "iter_link_header",
]

API_PREFIX = "/api/v3"
DEFAULT_API_VERSION = "2022-11-28"
DEFAULT_PER_PAGE = 30
MAX_PER_PAGE = 100
MAX_PR_FILES = 3000
MAX_COMMENT_BODY = 65536
MAX_STATUS_DESCRIPTION = 140
MAX_STATUSES_PER_CONTEXT = 1000
MAX_INLINE_CONTENT = 1024 * 1024
STATUS_STATES = ("error", "failure", "pending", "success")
ORG_SECRET_VISIBILITIES = ("all", "private", "selected")
FILE_STATUSES = ("added", "removed", "modified", "renamed", "copied", "changed", "unchanged")
SECRET_PATTERN = r"^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=|[A-Za-z0-9+/]{4})$"

NOT_ACCESSIBLE_BY_INTEGRATION = "Resource not accessible by integration"
NOT_ACCESSIBLE_BY_PAT = "Resource not accessible by personal access token"
DOCS_ROOT = "https://docs.github.com/rest"
RATE_LIMIT_DOCS = "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api"
SECONDARY_RATE_LIMIT_DOCS = (
    "https://docs.github.com/free-pro-team@latest/rest/overview/"
    "rate-limits-for-the-rest-api#about-secondary-rate-limits"
)
IMPROPERLY_ENCRYPTED = "Bad request - validation failed due to an improperly encrypted secret"

_LEVELS = {"none": 0, "read": 1, "write": 2, "admin": 3}
_SHA_RE = re.compile(r"^[0-9a-f]{40}$")


# --------------------------------------------------------------------------- identities


@dataclass(frozen=True)
class Identity:
    """A GitHub account as it appears in ``user``/``creator`` fields."""

    login: str
    id: int
    type: str = "User"  # "User" | "Bot" | "Organization"
    node_id: str = ""
    avatar_url: str = ""
    html_path: str = ""  # path of html_url under the web base; default: the login
    name: str | None = None
    email: str | None = None
    site_admin: bool = False

    def resolved_node_id(self) -> str:
        if self.node_id:
            return self.node_id
        kind = {"User": "04:User", "Bot": "03:Bot", "Organization": "012:Organization"}
        raw = f"{kind.get(self.type, '04:User')}{self.id}".encode()
        return base64.b64encode(raw).decode()

    def resolved_avatar_url(self) -> str:
        return self.avatar_url or f"https://avatars.githubusercontent.com/u/{self.id}?v=4"


GITHUB_ACTIONS_BOT = Identity(
    login="github-actions[bot]",
    id=41898282,
    type="Bot",
    node_id="MDM6Qm90NDE4OTgyODI=",
    avatar_url="https://avatars.githubusercontent.com/in/15368?v=4",
    html_path="apps/github-actions",
)
APP_BOT = Identity(
    login="approvalflow-sync[bot]",
    id=190000001,
    type="Bot",
    avatar_url="https://avatars.githubusercontent.com/in/900001?v=4",
    html_path="apps/approvalflow-sync",
)
CODERTOCAT = Identity(
    login="Codertocat",
    id=21031067,
    node_id="MDQ6VXNlcjIxMDMxMDY3",
    avatar_url="https://avatars1.githubusercontent.com/u/21031067?v=4",
    name="Codertocat",
)
OCTOCAT = Identity(
    login="octocat",
    id=583231,
    node_id="MDQ6VXNlcjU4MzIzMQ==",
    avatar_url="https://avatars.githubusercontent.com/u/583231?v=4",
    name="The Octocat",
)


@dataclass(frozen=True)
class Token:
    """A credential the fake accepts.

    ``kind``: ``"installation"`` (GITHUB_TOKEN / App installation token: denied writes say
    "Resource not accessible by integration", ``GET /user`` is 403), ``"fine-grained"``
    (fine-grained PAT: "... by personal access token") or ``"classic"`` (classic PAT with the
    ``repo``/``admin:org`` scopes: every permission). ``permissions`` maps a permission name
    as spelled in a workflow ``permissions:`` block (``pull-requests``, ``issues``,
    ``statuses``, ``contents``, ``metadata``, ``secrets``, ``environments``,
    ``organization-secrets``) to ``read``/``write``/``admin``.
    """

    value: str
    identity: Identity
    kind: str = "installation"
    permissions: Mapping[str, str] = field(default_factory=dict)
    rate_limit: int = 5000
    installation_id: int | None = None

    def level(self, permission: str) -> int:
        if self.kind == "classic":
            return _LEVELS["admin"]
        return _LEVELS.get(self.permissions.get(permission, "none"), 0)


ACTIONS_TOKEN = "ghs_actions"
ACTIONS_READONLY_TOKEN = "ghs_actions_readonly"
APP_TOKEN = "ghs_app"
PAT_TOKEN = "ghp_codertocat"
FINE_GRAINED_TOKEN = "github_pat_octocat"

_ACTIONS_WRITE = {
    "metadata": "read",
    "contents": "read",
    "pull-requests": "write",
    "issues": "write",
    "statuses": "write",
}
_ACTIONS_READONLY = {
    "metadata": "read",
    "contents": "read",
    "pull-requests": "read",
    "issues": "read",
    "statuses": "read",
}


def default_tokens() -> list[Token]:
    """The tokens every :class:`FakeGitHub` starts with (see the module's report/README)."""
    return [
        Token(ACTIONS_TOKEN, GITHUB_ACTIONS_BOT, "installation", _ACTIONS_WRITE, 1000, 1),
        Token(
            ACTIONS_READONLY_TOKEN, GITHUB_ACTIONS_BOT, "installation", _ACTIONS_READONLY, 1000, 1
        ),
        Token(
            APP_TOKEN,
            APP_BOT,
            "installation",
            {
                **_ACTIONS_WRITE,
                "secrets": "write",
                "environments": "write",
                "organization-secrets": "write",
            },
            5000,
            900001,
        ),
        Token(PAT_TOKEN, CODERTOCAT, "classic", {}, 5000),
        Token(
            FINE_GRAINED_TOKEN,
            OCTOCAT,
            "fine-grained",
            {"metadata": "read", "contents": "read", "pull-requests": "write", "issues": "write"},
            5000,
        ),
    ]


# --------------------------------------------------------------------------- call log


@dataclass(frozen=True)
class Call:
    """One request the fake answered (or dropped: ``status == 0``).

    ``path`` is as requested (``/api/v3/...``, no query); ``route`` is relative to the API
    root after ``/repositories/{id}/`` was mapped back to ``/repos/{owner}/{repo}/``.
    ``started``/``ended`` are ``time.monotonic()`` readings (``ended``: just before the answer
    is written, so a call is logged before its client sees the answer). No Authorization
    header is kept;
    ``login`` is the identity its token resolved to (None: anonymous or bad token).
    ``response`` is the decoded JSON answer (None: no body).
    """

    method: str
    path: str
    route: str
    query: dict[str, list[str]]
    json: Any
    status: int
    started: float
    ended: float
    operation: str | None
    login: str | None
    request_id: str
    injected: bool
    request_headers: dict[str, str]
    response_headers: dict[str, str]
    response: Any = None


@dataclass
class _Fault:
    method: str
    pattern: re.Pattern[str]
    status: int
    body: Any
    headers: dict[str, str]
    remaining: int
    drop: bool


# --------------------------------------------------------------------------- internal state


@dataclass
class _SecretStore:
    key: PrivateKey
    key_id: str
    secrets: dict[str, dict[str, Any]] = field(default_factory=dict)


@dataclass
class _Repo:
    data: dict[str, Any]
    owner: str
    name: str
    id: int
    private: bool
    store: _SecretStore
    branches: dict[str, str] = field(default_factory=dict)
    commits: set[str] = field(default_factory=set)
    pulls: dict[int, dict[str, Any]] = field(default_factory=dict)
    pull_files: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    issues: set[int] = field(default_factory=set)
    statuses: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    contents: dict[str, dict[str, bytes]] = field(default_factory=dict)
    environments: dict[str, _SecretStore] = field(default_factory=dict)

    @property
    def full_name(self) -> str:
        return f"{self.owner}/{self.name}"


@dataclass
class _Org:
    login: str
    id: int
    store: _SecretStore


@dataclass
class _Comment:
    repo_key: str
    issue_number: int
    data: dict[str, Any]


@dataclass
class _Request:
    method: str
    path: str
    route: str
    query: list[tuple[str, str]]
    headers: dict[str, str]
    body: Any
    token: Token | None


class _Reply(Exception):  # noqa: N818 - control flow, not an error
    """Raised by endpoint code to answer immediately."""

    def __init__(
        self,
        status: int,
        body: Any = None,
        headers: Mapping[str, str] | None = None,
        *,
        operation: str | None = None,
    ) -> None:
        super().__init__(status)
        self.status = status
        self.body = body
        self.headers = dict(headers or {})
        self.operation = operation


@dataclass(frozen=True)
class _Route:
    method: str
    pattern: re.Pattern[str]
    operation: str
    docs: str
    handler: str


_NOT_SIMPLE_PULL = frozenset(
    [
        "additions",
        "changed_files",
        "comments",
        "commits",
        "deletions",
        "maintainer_can_modify",
        "mergeable",
        "mergeable_state",
        "merged",
        "merged_by",
        "rebaseable",
        "review_comments",
    ]
)
"""Fields of a full pull request that a listed one (``pull-request-simple``) does not have."""
_NOT_MINIMAL = ("network_count", "subscribers_count", "custom_properties")
"""Fields of a full repository that a minimal repository does not have."""


def _route(method: str, pattern: str, operation: str, docs: str, handler: str) -> _Route:
    return _Route(method, re.compile(f"^{pattern}$"), operation, f"{DOCS_ROOT}/{docs}", handler)


_REPO = r"/repos/(?P<owner>[^/]+)/(?P<repo>[^/]+)"
_ROUTES = [
    _route(
        "GET", "/user", "users/get-authenticated", "users/users#get-the-authenticated-user", "user"
    ),
    _route("GET", _REPO, "repos/get", "repos/repos#get-a-repository", "repo_get"),
    _route("GET", _REPO + r"/pulls", "pulls/list", "pulls/pulls#list-pull-requests", "pulls_list"),
    _route(
        "GET",
        _REPO + r"/pulls/(?P<number>\d+)",
        "pulls/get",
        "pulls/pulls#get-a-pull-request",
        "pull_get",
    ),
    _route(
        "GET",
        _REPO + r"/pulls/(?P<number>\d+)/files",
        "pulls/list-files",
        "pulls/pulls#list-pull-requests-files",
        "pull_files",
    ),
    _route(
        "GET",
        _REPO + r"/issues/(?P<number>\d+)/comments",
        "issues/list-comments",
        "issues/comments#list-issue-comments",
        "comments_list",
    ),
    _route(
        "POST",
        _REPO + r"/issues/(?P<number>\d+)/comments",
        "issues/create-comment",
        "issues/comments#create-an-issue-comment",
        "comment_create",
    ),
    _route(
        "GET",
        _REPO + r"/issues/comments/(?P<comment_id>\d+)",
        "issues/get-comment",
        "issues/comments#get-an-issue-comment",
        "comment_get",
    ),
    _route(
        "PATCH",
        _REPO + r"/issues/comments/(?P<comment_id>\d+)",
        "issues/update-comment",
        "issues/comments#update-an-issue-comment",
        "comment_update",
    ),
    _route(
        "DELETE",
        _REPO + r"/issues/comments/(?P<comment_id>\d+)",
        "issues/delete-comment",
        "issues/comments#delete-an-issue-comment",
        "comment_delete",
    ),
    _route(
        "POST",
        _REPO + r"/statuses/(?P<sha>[^/]+)",
        "repos/create-commit-status",
        "commits/statuses#create-a-commit-status",
        "status_create",
    ),
    _route(
        "GET",
        _REPO + r"/commits/(?P<ref>.+)/status",
        "repos/get-combined-status-for-ref",
        "commits/statuses#get-the-combined-status-for-a-specific-reference",
        "status_combined",
    ),
    _route(
        "GET",
        _REPO + r"/commits/(?P<ref>.+)/statuses",
        "repos/list-commit-statuses-for-ref",
        "commits/statuses#list-commit-statuses-for-a-reference",
        "status_list",
    ),
    _route(
        "GET",
        _REPO + r"/statuses/(?P<ref>.+)",
        "repos/list-commit-statuses-for-ref",
        "commits/statuses#list-commit-statuses-for-a-reference",
        "status_list",
    ),
    _route(
        "GET",
        _REPO + r"/commits/(?P<ref>.+)",
        "repos/get-commit",
        "commits/commits#get-a-commit",
        "commit_get",
    ),
    _route(
        "GET",
        _REPO + r"/actions/secrets/public-key",
        "actions/get-repo-public-key",
        "actions/secrets#get-a-repository-public-key",
        "repo_public_key",
    ),
    _route(
        "PUT",
        _REPO + r"/actions/secrets/(?P<name>[^/]+)",
        "actions/create-or-update-repo-secret",
        "actions/secrets#create-or-update-a-repository-secret",
        "repo_secret_put",
    ),
    _route(
        "GET",
        _REPO + r"/environments/(?P<env>[^/]+)/secrets/public-key",
        "actions/get-environment-public-key",
        "actions/secrets#get-an-environment-public-key",
        "env_public_key",
    ),
    _route(
        "PUT",
        _REPO + r"/environments/(?P<env>[^/]+)/secrets/(?P<name>[^/]+)",
        "actions/create-or-update-environment-secret",
        "actions/secrets#create-or-update-an-environment-secret",
        "env_secret_put",
    ),
    _route(
        "GET",
        r"/orgs/(?P<org>[^/]+)/actions/secrets/public-key",
        "actions/get-org-public-key",
        "actions/secrets#get-an-organization-public-key",
        "org_public_key",
    ),
    _route(
        "GET",
        r"/orgs/(?P<org>[^/]+)/actions/secrets/(?P<name>[^/]+)",
        "actions/get-org-secret",
        "actions/secrets#get-an-organization-secret",
        "org_secret_get",
    ),
    _route(
        "GET",
        r"/orgs/(?P<org>[^/]+)/actions/secrets/(?P<name>[^/]+)/repositories",
        "actions/list-selected-repos-for-org-secret",
        "actions/secrets#list-selected-repositories-for-an-organization-secret",
        "org_secret_repos",
    ),
    _route(
        "PUT",
        r"/orgs/(?P<org>[^/]+)/actions/secrets/(?P<name>[^/]+)",
        "actions/create-or-update-org-secret",
        "actions/secrets#create-or-update-an-organization-secret",
        "org_secret_put",
    ),
    _route(
        "GET",
        _REPO + r"/contents(?:/(?P<path>.*))?",
        "repos/get-content",
        "repos/contents#get-repository-content",
        "contents_get",
    ),
]


def _now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _node_id(prefix: str, number: int) -> str:
    raw = base64.urlsafe_b64encode(number.to_bytes(8, "big")).decode().rstrip("=")
    return f"{prefix}_kwDO{raw}"


def _blob_sha(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(data) + data, usedforsecurity=False).hexdigest()


def _fake_sha(*parts: object) -> str:
    text = "\0".join(str(part) for part in parts).encode()
    return hashlib.sha1(text, usedforsecurity=False).hexdigest()


def _base64_lines(data: bytes) -> str:
    """Base64 the way GitHub's contents API does: a newline after every 60 characters."""
    encoded = base64.b64encode(data).decode()
    return "".join(encoded[i : i + 60] + "\n" for i in range(0, len(encoded), 60))


def _encoded(body: Any) -> bytes:
    """An answer's bytes: a ``str``/``bytes`` body as is (HTML), anything else as JSON."""
    if body is None:
        return b""
    if isinstance(body, bytes | str):
        return body.encode() if isinstance(body, str) else body
    return json.dumps(body).encode()


def _etag_matches(header: str | None, etag: str) -> bool:
    """``If-None-Match`` compared weakly (RFC 9110): any listed tag, or ``*``."""
    if not header:
        return False
    tags = {tag.strip().removeprefix("W/") for tag in header.split(",")}
    return "*" in tags or etag.removeprefix("W/") in tags


def _error(message: str, docs: str, status: int) -> dict[str, Any]:
    return {"message": message, "documentation_url": docs, "status": str(status)}


def _not_found(docs: str) -> _Reply:
    return _Reply(404, _error("Not Found", docs, 404))


def _invalid_request(docs: str, detail: str) -> _Reply:
    return _Reply(422, _error(f"Invalid request.\n\n{detail}", docs, 422))


def _not_supplied(docs: str, name: str) -> _Reply:
    return _invalid_request(docs, f'"{name}" wasn\'t supplied.')


def _validation_failed(docs: str, resource: str, field_name: str, message: str) -> _Reply:
    return _Reply(
        422,
        {
            "message": "Validation Failed",
            "errors": [
                {"resource": resource, "code": "custom", "field": field_name, "message": message}
            ],
            "documentation_url": docs,
            "status": "422",
        },
    )


def _new_store() -> _SecretStore:
    key_id = str(_random.randbelow(9 * 10**17) + 10**17)
    return _SecretStore(key=PrivateKey.generate(), key_id=key_id)


# --------------------------------------------------------------------------- HTTP plumbing


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], fake: FakeGitHub) -> None:
        super().__init__(address, _Handler)
        self.fake = fake


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "github.com"
    disable_nagle_algorithm = True  # headers and body go out in separate writes
    timeout = 30
    server: _Server

    def do_GET(self) -> None:
        self.server.fake._serve(self)

    def do_POST(self) -> None:
        self.server.fake._serve(self)

    def do_PATCH(self) -> None:
        self.server.fake._serve(self)

    def do_PUT(self) -> None:
        self.server.fake._serve(self)

    def do_DELETE(self) -> None:
        self.server.fake._serve(self)

    def log_message(self, format: str, *args: Any) -> None:
        return

    def version_string(self) -> str:
        return self.server_version

    def read_body(self) -> bytes:
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            chunks: list[bytes] = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    self.rfile.readline()
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""


# --------------------------------------------------------------------------- the fake


class FakeGitHub:
    """A GitHub (Enterprise Server style, ``/api/v3``) REST API on 127.0.0.1.

    The socket is bound on construction (port 0), so ``api_url`` is known before
    :meth:`start`; seeding before or after start is fine.
    """

    def __init__(self, *, host: str = "127.0.0.1", tokens: Iterable[Token] | None = None) -> None:
        self._lock = threading.RLock()
        self._server = _Server((host, 0), self)
        port = self._server.server_address[1]
        self.host = host
        self.port = port
        self.web_url = f"http://{host}:{port}"
        self.api_url = f"{self.web_url}{API_PREFIX}"
        self.latency = 0.0
        self.errors: list[str] = []
        self._thread: threading.Thread | None = None
        self._tokens: dict[str, Token] = {}
        self._repos: dict[str, _Repo] = {}
        self._orgs: dict[str, _Org] = {}
        self._identities: dict[str, Identity] = {}
        self._comments: dict[int, _Comment] = {}
        self._faults: list[_Fault] = []
        self._calls: list[Call] = []
        self._rate_used: dict[str, int] = {}
        self._rate_reset = int(time.time()) + 3600
        self._rate_limit_status = 403
        self._comment_ids = itertools.count(1_900_000_001)
        self._status_ids = itertools.count(30_000_000_001)
        self._repo_ids = itertools.count(700_000_001)
        for token in default_tokens() if tokens is None else tokens:
            self.add_token(token)
        for identity in (GITHUB_ACTIONS_BOT, APP_BOT, CODERTOCAT, OCTOCAT):
            self._identities.setdefault(identity.login.lower(), identity)

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> FakeGitHub:
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._server.serve_forever,
                kwargs={"poll_interval": 0.05},
                name=f"FakeGitHub:{self.port}",
                daemon=True,
            )
            self._thread.start()
        return self

    def stop(self) -> None:
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join(timeout=5)
            self._thread = None
        self._server.server_close()

    def __enter__(self) -> FakeGitHub:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ------------------------------------------------------------------ tokens

    def add_token(
        self,
        token: Token | str,
        identity: Identity | None = None,
        *,
        kind: str = "installation",
        permissions: Mapping[str, str] | None = None,
        rate_limit: int | None = None,
        installation_id: int | None = None,
    ) -> Token:
        """Register a token: ``add_token(Token(...))`` or ``add_token("ghs_x", identity, ...)``."""
        if isinstance(token, str):
            if identity is None:
                raise ValueError("add_token(value, identity, ...) needs an identity")
            default_limit = (
                1000 if kind == "installation" and identity == GITHUB_ACTIONS_BOT else 5000
            )
            token = Token(
                token,
                identity,
                kind,
                dict(permissions or {}),
                rate_limit if rate_limit is not None else default_limit,
                installation_id,
            )
        if token.kind not in ("installation", "fine-grained", "classic"):
            raise ValueError(f"unknown token kind {token.kind!r}")
        with self._lock:
            self._tokens[token.value] = token
            self._identities.setdefault(token.identity.login.lower(), token.identity)
        return token

    @property
    def tokens(self) -> dict[str, Token]:
        with self._lock:
            return dict(self._tokens)

    def rate_limit_used(self, token: str) -> int:
        with self._lock:
            return self._rate_used.get(token, 0)

    def reset_rate_limits(self) -> None:
        with self._lock:
            self._rate_used.clear()
            self._rate_reset = int(time.time()) + 3600

    def exhaust_rate_limit(self, token: str, *, resets_in: int = 3600, status: int = 403) -> None:
        """Use up ``token``'s primary rate limit until ``resets_in`` seconds from now; then
        (or on :meth:`reset_rate_limits`) it is full again. GitHub answers 403 or 429."""
        with self._lock:
            self._rate_used[token] = self._tokens[token].rate_limit
            self._rate_reset = int(time.time()) + resets_in
            self._rate_limit_status = status

    # ------------------------------------------------------------------ repositories

    def add_repository(
        self,
        repository: Mapping[str, Any] | None = None,
        *,
        full_name: str | None = None,
        private: bool | None = None,
        default_branch: str = "main",
        owner: Identity | None = None,
    ) -> dict[str, Any]:
        """Register a repository and return its ``full-repository`` JSON.

        Either from a webhook payload's ``repository`` object (URLs rewritten to this
        fake, fields a ``GET /repos`` answer needs added) or built from ``full_name``.
        Registering an already known repository returns the stored one unchanged.
        """
        if repository is not None:
            name_key = str(repository["full_name"]).lower()
        elif full_name is not None:
            name_key = full_name.lower()
        else:
            raise ValueError("add_repository needs a repository object or full_name")
        with self._lock:
            if name_key in self._repos:
                return copy.deepcopy(self._repos[name_key].data)
            if repository is not None:
                data = self._rewrite(copy.deepcopy(dict(repository)))
                data.setdefault("has_discussions", False)
                data.setdefault("network_count", 0)
                data.setdefault("subscribers_count", 0)
                if private is not None:
                    data["private"] = private
                    data["visibility"] = "private" if private else "public"
                owner_data = data["owner"]
                self._identities.setdefault(
                    str(owner_data["login"]).lower(),
                    Identity(
                        login=owner_data["login"],
                        id=owner_data["id"],
                        type=owner_data.get("type", "User"),
                        node_id=owner_data.get("node_id", ""),
                        avatar_url=owner_data.get("avatar_url", ""),
                    ),
                )
            else:
                assert full_name is not None
                owner_login, name = full_name.split("/", 1)
                owner_identity = owner or self._identity_for(owner_login)
                data = self._make_repository(
                    owner_identity, name, next(self._repo_ids), bool(private), default_branch
                )
            repo = _Repo(
                data=data,
                owner=data["owner"]["login"],
                name=data["name"],
                id=int(data["id"]),
                private=bool(data["private"]),
                store=_new_store(),
            )
            repo.branches.setdefault(data["default_branch"], _fake_sha(data["full_name"], "root"))
            repo.commits.update(repo.branches.values())
            self._repos[name_key] = repo
            return copy.deepcopy(data)

    def repository(self, full_name: str) -> dict[str, Any]:
        with self._lock:
            return copy.deepcopy(self._repo_or_raise(full_name).data)

    def set_branch(self, full_name: str, branch: str, sha: str) -> None:
        """Point ``branch`` at ``sha`` (refs may then be given by branch name)."""
        with self._lock:
            repo = self._repo_or_raise(full_name)
            repo.branches[branch] = sha
            repo.commits.add(sha)

    def add_commit(self, full_name: str, sha: str) -> None:
        """Make ``sha`` a known commit (statuses on unknown SHAs answer 422)."""
        with self._lock:
            self._repo_or_raise(full_name).commits.add(sha)

    def add_organization(self, login: str, *, org_id: int | None = None) -> None:
        with self._lock:
            if login.lower() not in self._orgs:
                ident = org_id if org_id is not None else next(self._repo_ids)
                self._orgs[login.lower()] = _Org(login, ident, _new_store())
                self._identities.setdefault(
                    login.lower(), Identity(login=login, id=ident, type="Organization")
                )

    def add_environment(self, full_name: str, environment: str) -> None:
        with self._lock:
            repo = self._repo_or_raise(full_name)
            if environment.lower() not in {name.lower() for name in repo.environments}:
                repo.environments[environment] = _new_store()

    # ------------------------------------------------------------------ pull requests

    def add_pull_request(
        self,
        payload: Mapping[str, Any],
        *,
        files: Sequence[Mapping[str, Any] | str] | None = None,
    ) -> dict[str, Any]:
        """Seed a PR from a webhook payload (or its bare ``pull_request`` object).

        The base repository is registered from ``payload["repository"]`` (or
        ``pull_request.base.repo``); every URL field is rewritten to this fake; branches
        ``head.ref``/``base.ref`` point at their SHAs; head, base and merge SHAs become known
        commits. Returns the stored PR JSON (as ``GET /pulls/{n}`` answers it).
        """
        pr_source = payload.get("pull_request", payload)
        pr = self._rewrite(copy.deepcopy(dict(pr_source)))
        pr.setdefault("auto_merge", None)
        pr.setdefault("active_lock_reason", None)
        base_repo_source = payload.get("repository") or pr_source["base"]["repo"]
        with self._lock:
            self.add_repository(base_repo_source)
            repo = self._repo_or_raise(str(base_repo_source["full_name"]))
            number = int(pr["number"])
            repo.pulls[number] = pr
            repo.pull_files.setdefault(number, [])
            repo.branches[pr["base"]["ref"]] = pr["base"]["sha"]
            head_repo = (pr["head"].get("repo") or {}).get("full_name")
            if head_repo and head_repo.lower() == repo.full_name.lower():
                repo.branches[pr["head"]["ref"]] = pr["head"]["sha"]
            repo.commits.update({pr["head"]["sha"], pr["base"]["sha"]})
            if pr.get("merge_commit_sha"):
                repo.commits.add(pr["merge_commit_sha"])
            if files is not None:
                self.set_pull_request_files(repo.full_name, number, files)
            return copy.deepcopy(repo.pulls[number])

    def pull_request(self, full_name: str, number: int) -> dict[str, Any]:
        with self._lock:
            return copy.deepcopy(self._pull_or_raise(full_name, number))

    def update_pull_request(self, full_name: str, number: int, **fields: Any) -> dict[str, Any]:
        """Overwrite top-level PR fields (e.g. ``state="closed", merged=True``)."""
        with self._lock:
            pr = self._pull_or_raise(full_name, number)
            pr.update(self._rewrite(copy.deepcopy(fields)))
            return copy.deepcopy(pr)

    @staticmethod
    def make_files(count: int, *, prefix: str = "src/file", suffix: str = ".py") -> list[str]:
        """``count`` distinct file names (for :meth:`set_pull_request_files`)."""
        width = len(str(count))
        return [f"{prefix}{index:0{width}d}{suffix}" for index in range(1, count + 1)]

    def set_pull_request_files(
        self,
        full_name: str,
        number: int,
        files: Sequence[Mapping[str, Any] | str],
        *,
        update_counts: bool = True,
    ) -> list[dict[str, Any]]:
        """Replace the PR's changed files (any number; the API lists at most 3,000).

        An entry is a file name (a ``modified`` file) or a mapping with at least
        ``filename``; optional ``status`` (one of GitHub's seven), ``additions``,
        ``deletions``, ``patch`` (None = no patch, like a binary file), ``sha`` and
        ``previous_filename`` (required for ``renamed``). With ``update_counts`` the PR's
        ``changed_files``/``additions``/``deletions`` follow the full list, like GitHub's.
        """
        with self._lock:
            repo = self._repo_or_raise(full_name)
            pr = self._pull_or_raise(full_name, number)
            head_sha = pr["head"]["sha"]
            entries = [self._file_entry(repo, head_sha, item) for item in files]
            repo.pull_files[number] = entries
            if update_counts:
                pr["changed_files"] = len(entries)
                pr["additions"] = sum(entry["additions"] for entry in entries)
                pr["deletions"] = sum(entry["deletions"] for entry in entries)
            return copy.deepcopy(entries)

    def add_issue(self, full_name: str, number: int) -> None:
        """Let comments be made on a plain issue ``number`` (PR numbers need no call)."""
        with self._lock:
            self._repo_or_raise(full_name).issues.add(number)

    # ------------------------------------------------------------------ comments

    def add_issue_comment(
        self,
        full_name: str,
        issue_number: int,
        body: str,
        *,
        author: Identity | str = GITHUB_ACTIONS_BOT,
        created_at: str | None = None,
        updated_at: str | None = None,
        author_association: str | None = None,
    ) -> int:
        """Seed a comment; ``author`` is an :class:`Identity`, a known login or a token."""
        with self._lock:
            repo = self._repo_or_raise(full_name)
            if issue_number not in repo.pulls and issue_number not in repo.issues:
                raise KeyError(f"{full_name}#{issue_number} is neither a PR nor an added issue")
            identity = self._identity_for(author) if isinstance(author, str) else author
            comment = self._new_comment(repo, issue_number, body, identity, author_association)
            if created_at is not None:
                comment.data["created_at"] = created_at
                comment.data["updated_at"] = updated_at or created_at
            elif updated_at is not None:
                comment.data["updated_at"] = updated_at
            return int(comment.data["id"])

    def issue_comments(self, full_name: str, issue_number: int) -> list[dict[str, Any]]:
        """The live comments of an issue/PR, ascending id."""
        with self._lock:
            repo = self._repo_or_raise(full_name)
            return [copy.deepcopy(c.data) for c in self._comments_of(repo, issue_number)]

    def issue_comment(self, comment_id: int) -> dict[str, Any] | None:
        with self._lock:
            comment = self._comments.get(comment_id)
            return None if comment is None else copy.deepcopy(comment.data)

    def delete_issue_comment(self, comment_id: int) -> None:
        with self._lock:
            comment = self._comments.pop(comment_id)
            self._adjust_comment_count(comment, -1)

    # ------------------------------------------------------------------ statuses

    def add_status(
        self,
        full_name: str,
        sha: str,
        state: str,
        *,
        context: str = "default",
        description: str | None = None,
        target_url: str | None = None,
        creator: Identity = GITHUB_ACTIONS_BOT,
    ) -> dict[str, Any]:
        with self._lock:
            repo = self._repo_or_raise(full_name)
            repo.commits.add(sha)
            return copy.deepcopy(
                self._new_status(repo, sha, state, context, description, target_url, creator)
            )

    def statuses(self, full_name: str, ref: str) -> list[dict[str, Any]]:
        """Statuses of a SHA (or branch), newest first like ``GET .../statuses``."""
        with self._lock:
            repo = self._repo_or_raise(full_name)
            sha = self._resolve_ref(repo, ref) or ref
            return [copy.deepcopy(s) for s in reversed(repo.statuses.get(sha, []))]

    # ------------------------------------------------------------------ contents

    def set_file_content(
        self, full_name: str, path: str, content: str | bytes, *, ref: str | None = None
    ) -> None:
        """Put a file at ``ref`` (branch or SHA; default: the default branch)."""
        data = content.encode() if isinstance(content, str) else content
        with self._lock:
            repo = self._repo_or_raise(full_name)
            ref = ref or repo.data["default_branch"]
            if _SHA_RE.match(ref):
                repo.commits.add(ref)
            elif ref not in repo.branches:
                repo.branches[ref] = _fake_sha(repo.full_name, "branch", ref)
                repo.commits.add(repo.branches[ref])
            repo.contents.setdefault(ref, {})[path.strip("/")] = data

    # ------------------------------------------------------------------ secrets

    def public_key(self, full_name: str, *, environment: str | None = None) -> dict[str, str]:
        with self._lock:
            store = self._secret_store(full_name, environment)
            return self._public_key_json(store)

    def org_public_key(self, org: str) -> dict[str, str]:
        with self._lock:
            return self._public_key_json(self._org_or_raise(org).store)

    def set_secret(
        self, full_name: str, name: str, value: str, *, environment: str | None = None
    ) -> None:
        """Seed a repository (or environment) secret, sealed with its public key."""
        with self._lock:
            store = self._secret_store(full_name, environment)
            self._store_secret(store, name, self._seal(store, value), {})

    def set_org_secret(
        self,
        org: str,
        name: str,
        value: str,
        *,
        visibility: str = "all",
        selected_repository_ids: Sequence[int] = (),
    ) -> None:
        with self._lock:
            store = self._org_or_raise(org).store
            extra = {
                "visibility": visibility,
                "selected_repository_ids": list(selected_repository_ids),
            }
            self._store_secret(store, name, self._seal(store, value), extra)

    def secret(
        self, full_name: str, name: str, *, environment: str | None = None
    ) -> dict[str, Any] | None:
        """The stored record: ``encrypted_value``, ``key_id``, ``created_at``, ``updated_at``."""
        with self._lock:
            record = self._secret_store(full_name, environment).secrets.get(name.upper())
            return None if record is None else dict(record)

    def org_secret(self, org: str, name: str) -> dict[str, Any] | None:
        with self._lock:
            record = self._org_or_raise(org).store.secrets.get(name.upper())
            return None if record is None else dict(record)

    def secret_value(self, full_name: str, name: str, *, environment: str | None = None) -> str:
        """Decrypt a stored repository/environment secret with the fake's private key."""
        with self._lock:
            store = self._secret_store(full_name, environment)
            return self._unseal(store, store.secrets[name.upper()]["encrypted_value"])

    def org_secret_value(self, org: str, name: str) -> str:
        with self._lock:
            store = self._org_or_raise(org).store
            return self._unseal(store, store.secrets[name.upper()]["encrypted_value"])

    def decrypt(
        self,
        encrypted_value: str,
        *,
        full_name: str | None = None,
        environment: str | None = None,
        org: str | None = None,
    ) -> str:
        """Open a base64 sealed box made with one of the fake's public keys."""
        with self._lock:
            if org is not None:
                store = self._org_or_raise(org).store
            elif full_name is not None:
                store = self._secret_store(full_name, environment)
            else:
                raise ValueError("decrypt needs full_name (and environment) or org")
            return self._unseal(store, encrypted_value)

    # ------------------------------------------------------------------ faults and log

    def inject(  # noqa: PLR0917 - the signature the tests were promised
        self,
        method: str,
        path_regex: str,
        status: int = 500,
        body: Any = None,
        headers: Mapping[str, str] | None = None,
        count: int = 1,
        drop: bool = False,
    ) -> None:
        """Answer the next ``count`` matching requests with ``status``/``body``/``headers``
        (``drop=True``: close the connection without an answer).

        ``method`` is an HTTP method or ``"*"``; ``path_regex`` is searched (``re.search``)
        in the route: the path without ``/api/v3`` and query, ``/repositories/{id}`` mapped
        to ``/repos/{owner}/{repo}``. ``body`` None gives GitHub's error shape for the
        status; a ``str``/``bytes`` body is sent as is (``text/html``).
        """
        with self._lock:
            self._faults.append(
                _Fault(
                    method.upper(),
                    re.compile(path_regex),
                    status,
                    body,
                    dict(headers or {}),
                    count,
                    drop,
                )
            )

    def inject_secondary_rate_limit(
        self,
        method: str = "*",
        path_regex: str = ".*",
        *,
        retry_after: int | None = 1,
        status: int = 403,
        count: int = 1,
    ) -> None:
        """GitHub's secondary rate limit answer (403 or 429) with ``retry-after`` seconds."""
        request_id = self._request_id()
        body = {
            "message": "You have exceeded a secondary rate limit. Please wait a few minutes "
            "before you try again. If you reach out to GitHub Support for help, please "
            f"include the request ID {request_id}.",
            "documentation_url": SECONDARY_RATE_LIMIT_DOCS,
            "status": str(status),
        }
        headers = {} if retry_after is None else {"Retry-After": str(retry_after)}
        self.inject(method, path_regex, status, body, headers, count)

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    @property
    def calls(self) -> list[Call]:
        with self._lock:
            return list(self._calls)

    def calls_to(self, method: str, route_regex: str) -> list[Call]:
        pattern = re.compile(route_regex)
        return [
            call
            for call in self.calls
            if (method == "*" or call.method == method.upper()) and pattern.search(call.route)
        ]

    def clear_calls(self) -> None:
        with self._lock:
            self._calls.clear()

    # ================================================================== request handling

    def _serve(self, handler: _Handler) -> None:
        started = time.monotonic()
        method = handler.command.upper()
        split = urlsplit(handler.path)
        query = parse_qsl(split.query, keep_blank_values=True)
        raw_body = handler.read_body()
        body: Any = None
        parse_error = False
        if raw_body:
            try:
                body = json.loads(raw_body)
            except ValueError:
                parse_error = True
                body = raw_body.decode("utf-8", "replace")
        if self.latency > 0:
            time.sleep(self.latency)
        route = ""
        if split.path == API_PREFIX or split.path.startswith(API_PREFIX + "/"):
            route = self._normalise(split.path[len(API_PREFIX) :] or "/")
        token, auth_error = self._authenticate(handler.headers.get("Authorization"))
        request = _Request(
            method, split.path, route, query, dict(handler.headers.items()), body, token
        )
        request_id = self._request_id()
        fault = self._take_fault(method, route or split.path)

        def log(
            status: int, operation: str | None, headers: dict[str, str], answer: Any = None
        ) -> None:
            self._log(
                Call(
                    method=method,
                    path=split.path,
                    route=route,
                    query=self._query_dict(query),
                    json=body,
                    status=status,
                    started=started,
                    ended=time.monotonic(),
                    operation=operation,
                    login=token.identity.login if token else None,
                    request_id=request_id,
                    injected=fault is not None,
                    request_headers={
                        k: v for k, v in handler.headers.items() if k.lower() != "authorization"
                    },
                    response_headers=headers,
                    response=answer,
                )
            )

        if fault is not None and fault.drop:
            log(0, None, {})
            handler.close_connection = True
            with contextlib.suppress(OSError):
                handler.connection.shutdown(socket.SHUT_RDWR)
            return

        operation: str | None = None
        try:
            operation = self._dispatch(request, fault, auth_error, parse_error)
        except _Reply as reply:
            status, reply_body, extra_headers = reply.status, reply.body, reply.headers
            operation = operation or reply.operation
        except Exception as exc:  # a bug in the fake: answer 500 and remember it
            self.errors.append(f"{method} {handler.path}: {exc!r}")
            status, reply_body = 500, _error(f"fake github error: {exc!r}", DOCS_ROOT, 500)
            extra_headers = {}
        else:  # pragma: no cover - _dispatch always raises
            status, reply_body, extra_headers = 500, _error("no answer", DOCS_ROOT, 500), {}

        payload = _encoded(reply_body)
        fresh = method == "GET" and status == 200 and fault is None and reply_body is not None
        etag = f'W/"{hashlib.sha256(payload).hexdigest()}"' if fresh else None
        status, reply_body = self._unless_unchanged(handler, token, etag, status, reply_body)
        headers = self._standard_headers(handler, token, request_id)
        headers.update(extra_headers, **({"ETag": etag} if etag else {}))
        if reply_body is None:
            payload = b""
            headers.pop("Content-Type", None)
        elif isinstance(reply_body, bytes | str):
            headers["Content-Type"] = "text/html; charset=utf-8"
        # log before answering: a client that got its answer must find the call in the log
        # a copy of a JSON answer, decoded from what is sent: faster than deepcopy on big pages
        json_body = reply_body is not None and not isinstance(reply_body, bytes | str)
        log(status, operation, headers, json.loads(payload) if json_body else reply_body)
        self._write(handler, status, headers, payload)

    def _unless_unchanged(
        self, handler: _Handler, token: Token | None, etag: str | None, status: int, body: Any
    ) -> tuple[int, Any]:
        """The answer, or 304 and no body when ``If-None-Match`` holds ``etag``: GitHub does
        not count that request against the rate limit."""
        if etag is None or not _etag_matches(handler.headers.get("If-None-Match"), etag):
            return status, body
        self._refund_rate(token)
        return 304, None

    def _dispatch(
        self,
        request: _Request,
        fault: _Fault | None,
        auth_error: _Reply | None,
        parse_error: bool,
    ) -> str | None:
        """Answer ``request`` by raising :class:`_Reply` (tagged with the operation id)."""
        if fault is not None:
            body = fault.body
            if body is None:
                try:
                    phrase = HTTPStatus(fault.status).phrase
                except ValueError:
                    phrase = "Error"
                body = _error(phrase, DOCS_ROOT, fault.status)
            raise _Reply(fault.status, body, fault.headers)
        if auth_error is not None:
            raise auth_error
        match = self._match(request.method, request.route) if request.route else None
        if match is None:
            raise _not_found(DOCS_ROOT)
        spec, params = match
        try:
            self._run(request, spec, params, parse_error)
        except _Reply as reply:
            reply.operation = spec.operation
            raise
        raise _Reply(
            500, _error("handler returned no answer", spec.docs, 500), operation=spec.operation
        )

    def _run(
        self, request: _Request, spec: _Route, params: dict[str, str], parse_error: bool
    ) -> None:
        if parse_error or (request.body is not None and not isinstance(request.body, dict)):
            raise _Reply(400, _error("Problems parsing JSON", spec.docs, 400))
        if request.token is None and not self._anonymous_allowed(request.method, params):
            raise _Reply(401, _error("Requires authentication", spec.docs, 401))
        self._count_rate(request.token)
        with self._lock:
            getattr(self, f"_op_{spec.handler}")(request, params, spec)

    @staticmethod
    def _write(handler: _Handler, status: int, headers: Mapping[str, str], payload: bytes) -> None:
        try:
            handler.send_response(status)
            for key, value in headers.items():
                handler.send_header(key, value)
            if status not in (204, 304):
                handler.send_header("Content-Length", str(len(payload)))
            handler.end_headers()
            if status not in (204, 304) and handler.command != "HEAD":
                handler.wfile.write(payload)
            handler.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            handler.close_connection = True

    def _log(self, call: Call) -> None:
        with self._lock:
            self._calls.append(call)

    @staticmethod
    def _query_dict(query: list[tuple[str, str]]) -> dict[str, list[str]]:
        result: dict[str, list[str]] = {}
        for key, value in query:
            result.setdefault(key, []).append(value)
        return result

    @staticmethod
    def _request_id() -> str:
        parts = (4, 4, 7, 7, 8)
        return ":".join(_random.token_hex(n)[:n].upper() for n in parts)

    def _standard_headers(
        self, handler: _Handler, token: Token | None, request_id: str
    ) -> dict[str, str]:
        version = handler.headers.get("X-GitHub-Api-Version") or DEFAULT_API_VERSION
        with self._lock:
            if token is None:
                limit, used = 60, 1
            else:
                limit, used = token.rate_limit, self._rate_used.get(token.value, 0)
            reset = self._rate_reset
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "Cache-Control": "private, max-age=60, s-maxage=60",
            "Vary": "Accept, Authorization, Cookie, X-GitHub-OTP",
            "X-GitHub-Api-Version-Selected": version,
            "X-GitHub-Media-Type": "github.v3; format=json",
            "X-GitHub-Request-Id": request_id,
            "X-RateLimit-Limit": str(limit),
            "X-RateLimit-Remaining": str(max(limit - used, 0)),
            "X-RateLimit-Reset": str(reset),
            "X-RateLimit-Used": str(min(used, limit)),
            "X-RateLimit-Resource": "core",
        }
        if token is not None and token.kind == "classic":
            headers["X-OAuth-Scopes"] = "admin:org, repo, workflow"
        return headers

    def _normalise(self, route: str) -> str:
        match = re.match(r"^/repositories/(\d+)(/.*)?$", route)
        if match is None:
            return route
        with self._lock:
            for repo in self._repos.values():
                if repo.id == int(match.group(1)):
                    return f"/repos/{repo.owner}/{repo.name}{match.group(2) or ''}"
        return route

    def _match(self, method: str, route: str) -> tuple[_Route, dict[str, str]] | None:
        for spec in _ROUTES:
            if spec.method != method:
                continue
            found = spec.pattern.match(route)
            if found is not None:
                params = {k: unquote(v) for k, v in found.groupdict().items() if v is not None}
                return spec, params
        return None

    def _take_fault(self, method: str, route: str) -> _Fault | None:
        with self._lock:
            for fault in self._faults:
                if fault.method not in ("*", method):
                    continue
                if fault.pattern.search(route) is None:
                    continue
                fault.remaining -= 1
                if fault.remaining <= 0:
                    self._faults.remove(fault)
                return fault
        return None

    def _authenticate(self, header: str | None) -> tuple[Token | None, _Reply | None]:
        if not header:
            return None, None
        scheme, _, value = header.strip().partition(" ")
        if scheme.lower() not in ("token", "bearer") or not value.strip():
            return None, _Reply(401, _error("Bad credentials", DOCS_ROOT, 401))
        with self._lock:
            token = self._tokens.get(value.strip())
        if token is None:
            return None, _Reply(401, _error("Bad credentials", DOCS_ROOT, 401))
        return token, None

    def _anonymous_allowed(self, method: str, params: Mapping[str, str]) -> bool:
        if method != "GET" or "owner" not in params:
            return False
        with self._lock:
            repo = self._repos.get(f"{params['owner']}/{params['repo']}".lower())
            return repo is not None and not repo.private

    def _count_rate(self, token: Token | None) -> None:
        if token is None:
            return
        with self._lock:
            if time.time() >= self._rate_reset:  # a new hour
                self.reset_rate_limits()
            used = self._rate_used.get(token.value, 0)
            if used >= token.rate_limit:
                who = (
                    f"installation ID {token.installation_id}"
                    if token.kind == "installation"
                    else f"user ID {token.identity.id}"
                )
                status = self._rate_limit_status
                raise _Reply(
                    status, _error(f"API rate limit exceeded for {who}.", RATE_LIMIT_DOCS, status)
                )
            self._rate_used[token.value] = used + 1

    def _refund_rate(self, token: Token | None) -> None:
        if token is not None:
            with self._lock:
                self._rate_used[token.value] = max(0, self._rate_used.get(token.value, 0) - 1)

    # ------------------------------------------------------------------ permission helpers

    def _require(
        self,
        request: _Request,
        spec: _Route,
        needs: Sequence[tuple[str, str]],
        repo: _Repo | None = None,
    ) -> Token | None:
        """Check that the token has any one of ``needs`` ((permission, level) pairs).

        Reads of public repositories need no permission (GitHub serves them to anyone).
        """
        token = request.token
        read_only = all(level == "read" for _, level in needs)
        if read_only and repo is not None and not repo.private:
            return token
        if token is None:
            raise _Reply(401, _error("Requires authentication", spec.docs, 401))
        if any(token.level(name) >= _LEVELS[level] for name, level in needs):
            return token
        message = (
            NOT_ACCESSIBLE_BY_INTEGRATION if token.kind == "installation" else NOT_ACCESSIBLE_BY_PAT
        )
        raise _Reply(403, _error(message, spec.docs, 403))

    def _writer(self, request: _Request, spec: _Route, needs: Sequence[tuple[str, str]]) -> Token:
        token = self._require(request, spec, needs)
        assert token is not None
        return token

    # ------------------------------------------------------------------ lookups

    def _repo_or_raise(self, full_name: str) -> _Repo:
        repo = self._repos.get(full_name.lower())
        if repo is None:
            raise KeyError(f"unknown repository {full_name!r}; add_repository() it first")
        return repo

    def _pull_or_raise(self, full_name: str, number: int) -> dict[str, Any]:
        pr = self._repo_or_raise(full_name).pulls.get(number)
        if pr is None:
            raise KeyError(f"unknown pull request {full_name}#{number}")
        return pr

    def _org_or_raise(self, org: str) -> _Org:
        found = self._orgs.get(org.lower())
        if found is None:
            raise KeyError(f"unknown organization {org!r}; add_organization() it first")
        return found

    def _secret_store(self, full_name: str, environment: str | None) -> _SecretStore:
        repo = self._repo_or_raise(full_name)
        if environment is None:
            return repo.store
        for name, store in repo.environments.items():
            if name.lower() == environment.lower():
                return store
        raise KeyError(f"unknown environment {environment!r} in {full_name}")

    def _repo_for(self, params: Mapping[str, str], spec: _Route) -> _Repo:
        repo = self._repos.get(f"{params['owner']}/{params['repo']}".lower())
        if repo is None:
            raise _not_found(spec.docs)
        return repo

    def _identity_for(self, who: str) -> Identity:
        token = self._tokens.get(who)
        if token is not None:
            return token.identity
        known = self._identities.get(who.lower())
        if known is not None:
            return known
        number = int(_fake_sha("user", who.lower())[:7], 16)
        identity = Identity(login=who, id=number)
        self._identities[who.lower()] = identity
        return identity

    def _resolve_ref(self, repo: _Repo, ref: str) -> str | None:
        ref = ref.removeprefix("refs/heads/")
        if ref in repo.branches:
            return repo.branches[ref]
        if _SHA_RE.match(ref) and ref in repo.commits:
            return ref
        return None

    # ------------------------------------------------------------------ JSON builders

    def _rewrite(self, value: Any) -> Any:
        """Point every github.com / api.github.com URL in ``value`` at this fake."""
        prefixes = (
            ("https://api.github.com", self.api_url),
            ("https://uploads.github.com", f"{self.web_url}/api/uploads"),
            ("https://github.com", self.web_url),
            ("http://github.com", self.web_url),
            ("git://github.com/", f"git://{self.host}:{self.port}/"),
            ("git@github.com:", f"git@{self.host}:"),
        )
        if isinstance(value, dict):
            return {key: self._rewrite(item) for key, item in value.items()}
        if isinstance(value, list):
            return [self._rewrite(item) for item in value]
        if isinstance(value, str):
            for old, new in prefixes:
                if value.startswith(old):
                    return new + value[len(old) :]
        return value

    def _user_json(self, identity: Identity) -> dict[str, Any]:
        api = f"{self.api_url}/users/{quote(identity.login, safe='')}"
        html_path = identity.html_path or identity.login
        return {
            "login": identity.login,
            "id": identity.id,
            "node_id": identity.resolved_node_id(),
            "avatar_url": identity.resolved_avatar_url(),
            "gravatar_id": "",
            "url": api,
            "html_url": f"{self.web_url}/{html_path}",
            "followers_url": f"{api}/followers",
            "following_url": f"{api}/following{{/other_user}}",
            "gists_url": f"{api}/gists{{/gist_id}}",
            "starred_url": f"{api}/starred{{/owner}}{{/repo}}",
            "subscriptions_url": f"{api}/subscriptions",
            "organizations_url": f"{api}/orgs",
            "repos_url": f"{api}/repos",
            "events_url": f"{api}/events{{/privacy}}",
            "received_events_url": f"{api}/received_events",
            "type": identity.type,
            "site_admin": identity.site_admin,
        }

    def _make_repository(
        self, owner: Identity, name: str, repo_id: int, private: bool, default_branch: str
    ) -> dict[str, Any]:
        full = f"{owner.login}/{name}"
        api = f"{self.api_url}/repos/{full}"
        web = f"{self.web_url}/{full}"
        stamp = _now()
        templates = {
            "forks_url": "/forks",
            "keys_url": "/keys{/key_id}",
            "collaborators_url": "/collaborators{/collaborator}",
            "teams_url": "/teams",
            "hooks_url": "/hooks",
            "issue_events_url": "/issues/events{/number}",
            "events_url": "/events",
            "assignees_url": "/assignees{/user}",
            "branches_url": "/branches{/branch}",
            "tags_url": "/tags",
            "blobs_url": "/git/blobs{/sha}",
            "git_tags_url": "/git/tags{/sha}",
            "git_refs_url": "/git/refs{/sha}",
            "trees_url": "/git/trees{/sha}",
            "statuses_url": "/statuses/{sha}",
            "languages_url": "/languages",
            "stargazers_url": "/stargazers",
            "contributors_url": "/contributors",
            "subscribers_url": "/subscribers",
            "subscription_url": "/subscription",
            "commits_url": "/commits{/sha}",
            "git_commits_url": "/git/commits{/sha}",
            "comments_url": "/comments{/number}",
            "issue_comment_url": "/issues/comments{/number}",
            "contents_url": "/contents/{+path}",
            "compare_url": "/compare/{base}...{head}",
            "merges_url": "/merges",
            "archive_url": "/{archive_format}{/ref}",
            "downloads_url": "/downloads",
            "issues_url": "/issues{/number}",
            "pulls_url": "/pulls{/number}",
            "milestones_url": "/milestones{/number}",
            "notifications_url": "/notifications{?since,all,participating}",
            "labels_url": "/labels{/name}",
            "releases_url": "/releases{/id}",
            "deployments_url": "/deployments",
        }
        data: dict[str, Any] = {
            "id": repo_id,
            "node_id": base64.b64encode(f"010:Repository{repo_id}".encode()).decode(),
            "name": name,
            "full_name": full,
            "private": private,
            "owner": self._user_json(owner),
            "html_url": web,
            "description": None,
            "fork": False,
            "url": api,
        }
        data.update({key: api + suffix for key, suffix in templates.items()})
        data.update(
            {
                "created_at": stamp,
                "updated_at": stamp,
                "pushed_at": stamp,
                "git_url": f"git://{self.host}:{self.port}/{full}.git",
                "ssh_url": f"git@{self.host}:{full}.git",
                "clone_url": f"{web}.git",
                "svn_url": web,
                "homepage": None,
                "size": 0,
                "stargazers_count": 0,
                "watchers_count": 0,
                "language": None,
                "has_issues": True,
                "has_projects": True,
                "has_downloads": True,
                "has_wiki": True,
                "has_pages": False,
                "has_discussions": False,
                "forks_count": 0,
                "mirror_url": None,
                "archived": False,
                "disabled": False,
                "open_issues_count": 0,
                "license": None,
                "allow_forking": True,
                "is_template": False,
                "web_commit_signoff_required": False,
                "topics": [],
                "visibility": "private" if private else "public",
                "forks": 0,
                "open_issues": 0,
                "watchers": 0,
                "default_branch": default_branch,
                "network_count": 0,
                "subscribers_count": 0,
            }
        )
        return data

    def _file_entry(
        self, repo: _Repo, head_sha: str, item: Mapping[str, Any] | str
    ) -> dict[str, Any]:
        spec: Mapping[str, Any] = {"filename": item} if isinstance(item, str) else item
        filename = str(spec["filename"])
        status = str(spec.get("status", "modified"))
        if status not in FILE_STATUSES:
            raise ValueError(f"{filename}: status {status!r} is not one of {FILE_STATUSES}")
        if status == "renamed" and not spec.get("previous_filename"):
            raise ValueError(f"{filename}: a renamed file needs previous_filename")
        additions = int(spec.get("additions", 0 if status in ("removed", "renamed") else 1))
        deletions = int(spec.get("deletions", 1 if status in ("modified", "removed") else 0))
        quoted = quote(filename)
        api = f"{self.api_url}/repos/{repo.full_name}"
        entry: dict[str, Any] = {
            "sha": spec.get("sha", _fake_sha(repo.full_name, head_sha, filename)),
            "filename": filename,
            "status": status,
            "additions": additions,
            "deletions": deletions,
            "changes": additions + deletions,
            "blob_url": f"{self.web_url}/{repo.full_name}/blob/{head_sha}/{quoted}",
            "raw_url": f"{self.web_url}/{repo.full_name}/raw/{head_sha}/{quoted}",
            "contents_url": f"{api}/contents/{quoted}?ref={head_sha}",
        }
        patch = spec.get(
            "patch", "@@ -1 +1 @@\n-old line\n+new line" if additions + deletions else None
        )
        if patch is not None:
            entry["patch"] = patch
        if spec.get("previous_filename"):
            entry["previous_filename"] = spec["previous_filename"]
        return entry

    def _comments_of(self, repo: _Repo, issue_number: int) -> list[_Comment]:
        key = repo.full_name.lower()
        found = [
            c
            for c in self._comments.values()
            if c.repo_key == key and c.issue_number == issue_number
        ]
        return sorted(found, key=lambda c: int(c.data["id"]))

    def _adjust_comment_count(self, comment: _Comment, delta: int) -> None:
        repo = self._repos.get(comment.repo_key)
        pr = None if repo is None else repo.pulls.get(comment.issue_number)
        if pr is not None and isinstance(pr.get("comments"), int):
            pr["comments"] = max(pr["comments"] + delta, 0)

    def _new_comment(
        self,
        repo: _Repo,
        issue_number: int,
        body: str,
        identity: Identity,
        author_association: str | None,
    ) -> _Comment:
        comment_id = next(self._comment_ids)
        stamp = _now()
        kind = "pull" if issue_number in repo.pulls else "issues"
        api = f"{self.api_url}/repos/{repo.full_name}"
        web = f"{self.web_url}/{repo.full_name}"
        if author_association is None:
            if identity.type == "Bot":
                author_association = "NONE"
            elif identity.login.lower() == repo.owner.lower():
                author_association = "OWNER"
            else:
                author_association = "COLLABORATOR"
        url = f"{api}/issues/comments/{comment_id}"
        data: dict[str, Any] = {
            "url": url,
            "html_url": f"{web}/{kind}/{issue_number}#issuecomment-{comment_id}",
            "issue_url": f"{api}/issues/{issue_number}",
            "id": comment_id,
            "node_id": _node_id("IC", comment_id),
            "user": self._user_json(identity),
            "created_at": stamp,
            "updated_at": stamp,
            "body": body,
            "author_association": author_association,
            "reactions": {
                "url": f"{url}/reactions",
                "total_count": 0,
                "+1": 0,
                "-1": 0,
                "laugh": 0,
                "hooray": 0,
                "confused": 0,
                "heart": 0,
                "rocket": 0,
                "eyes": 0,
            },
            "performed_via_github_app": None,
        }
        comment = _Comment(repo.full_name.lower(), issue_number, data)
        self._comments[comment_id] = comment
        self._adjust_comment_count(comment, +1)
        return comment

    def _new_status(  # noqa: PLR0917
        self,
        repo: _Repo,
        sha: str,
        state: str,
        context: str,
        description: str | None,
        target_url: str | None,
        creator: Identity,
    ) -> dict[str, Any]:
        status_id = next(self._status_ids)
        stamp = _now()
        user = self._user_json(creator)
        data = {
            "url": f"{self.api_url}/repos/{repo.full_name}/statuses/{sha}",
            "avatar_url": user["avatar_url"],
            "id": status_id,
            "node_id": _node_id("SC", status_id),
            "state": state,
            "description": description,
            "target_url": target_url,
            "context": context,
            "created_at": stamp,
            "updated_at": stamp,
            "creator": user,
        }
        repo.statuses.setdefault(sha, []).append(data)
        return data

    @staticmethod
    def _public_key_json(store: _SecretStore) -> dict[str, str]:
        key = base64.b64encode(bytes(store.key.public_key)).decode()
        return {"key_id": store.key_id, "key": key}

    @staticmethod
    def _seal(store: _SecretStore, value: str) -> str:
        sealed = SealedBox(PublicKey(bytes(store.key.public_key))).encrypt(value.encode())
        return base64.b64encode(sealed).decode()

    @staticmethod
    def _unseal(store: _SecretStore, encrypted_value: str) -> str:
        return SealedBox(store.key).decrypt(base64.b64decode(encrypted_value)).decode()

    @staticmethod
    def _store_secret(
        store: _SecretStore, name: str, encrypted_value: str, extra: Mapping[str, Any]
    ) -> bool:
        """Store a secret; True when it was created (False: updated)."""
        stamp = _now()
        key = name.upper()
        existing = store.secrets.get(key)
        record = {
            "name": key,
            "encrypted_value": encrypted_value,
            "key_id": store.key_id,
            "created_at": existing["created_at"] if existing else stamp,
            "updated_at": stamp,
            **extra,
        }
        store.secrets[key] = record
        return existing is None

    # ------------------------------------------------------------------ pagination

    def _page(
        self,
        request: _Request,
        repo: _Repo | None,
        items: Sequence[Any],
        *,
        default_per_page: int = DEFAULT_PER_PAGE,
    ) -> tuple[list[Any], dict[str, str]]:
        params = self._query_dict(request.query)
        per_page = default_per_page
        raw_per_page = params.get("per_page", [""])[-1]
        if raw_per_page.isdigit() and int(raw_per_page) > 0:
            per_page = min(int(raw_per_page), MAX_PER_PAGE)
        raw_page = params.get("page", [""])[-1]
        page = int(raw_page) if raw_page.isdigit() and int(raw_page) > 0 else 1
        last = math.ceil(len(items) / per_page)
        chunk = list(items[(page - 1) * per_page : page * per_page])
        if repo is not None:
            rest = request.route[len(f"/repos/{repo.owner}/{repo.name}") :]
            base = f"{self.api_url}/repositories/{repo.id}{rest}"
        else:
            base = f"{self.api_url}{request.route}"
        kept = [(key, value) for key, value in request.query if key != "page"]

        def link(number: int, rel: str) -> str:
            return f'<{base}?{urlencode([*kept, ("page", str(number))])}>; rel="{rel}"'

        links: list[str] = []
        if page > 1:
            links.append(link(page - 1, "prev"))
        if page < last:
            links.append(link(page + 1, "next"))
            links.append(link(last, "last"))
        if page > 1:
            links.append(link(1, "first"))
        return chunk, ({"Link": ", ".join(links)} if links else {})

    # ================================================================== endpoints
    # Each ``_op_*`` runs under the lock and answers by raising ``_Reply``.

    def _op_user(self, request: _Request, params: dict[str, str], spec: _Route) -> None:
        token = request.token
        if token is None:
            raise _Reply(401, _error("Requires authentication", spec.docs, 401))
        if token.kind == "installation":
            raise _Reply(403, _error(NOT_ACCESSIBLE_BY_INTEGRATION, spec.docs, 403))
        identity = token.identity
        user = self._user_json(identity)
        user.update(
            {
                "name": identity.name,
                "company": None,
                "blog": "",
                "location": None,
                "email": identity.email,
                "hireable": None,
                "bio": None,
                "twitter_username": None,
                "public_repos": sum(
                    1 for r in self._repos.values() if r.owner.lower() == identity.login.lower()
                ),
                "public_gists": 0,
                "followers": 0,
                "following": 0,
                "created_at": "2019-05-15T15:19:25Z",
                "updated_at": "2019-05-15T15:19:25Z",
                "private_gists": 0,
                "total_private_repos": 0,
                "owned_private_repos": 0,
                "disk_usage": 0,
                "collaborators": 0,
                "two_factor_authentication": True,
            }
        )
        raise _Reply(200, user)

    def _op_repo_get(self, request: _Request, params: dict[str, str], spec: _Route) -> None:
        repo = self._repo_for(params, spec)
        self._require(request, spec, [("metadata", "read")], repo)
        raise _Reply(200, copy.deepcopy(repo.data))

    def _op_pull_get(self, request: _Request, params: dict[str, str], spec: _Route) -> None:
        repo = self._repo_for(params, spec)
        self._require(request, spec, [("pull-requests", "read")], repo)
        pr = repo.pulls.get(int(params["number"]))
        if pr is None:
            raise _not_found(spec.docs)
        raise _Reply(200, copy.deepcopy(pr))

    def _op_pulls_list(self, request: _Request, params: dict[str, str], spec: _Route) -> None:
        """``pull-request-simple`` items: no ``merged`` (``merged_at`` says it), no counts."""
        repo = self._repo_for(params, spec)
        self._require(request, spec, [("pull-requests", "read")], repo)
        query = {key: values[-1] for key, values in self._query_dict(request.query).items()}
        state = query.get("state", "open")
        if state not in ("open", "closed", "all"):
            raise _validation_failed(spec.docs, "PullRequest", "state", "invalid")
        sort = query.get("sort", "created")
        order = {"created": "created_at", "updated": "updated_at"}.get(sort, "created_at")
        newest_first = query.get("direction", "desc" if sort == "created" else "asc") == "desc"
        pulls = [pr for pr in repo.pulls.values() if state in ("all", pr["state"])]
        pulls.sort(key=lambda pr: (pr[order], pr["number"]), reverse=newest_first)
        simple = [{k: v for k, v in pr.items() if k not in _NOT_SIMPLE_PULL} for pr in pulls]
        chunk, headers = self._page(request, repo, simple)
        raise _Reply(200, chunk, headers)  # new dicts: encoded before any change

    def _op_pull_files(self, request: _Request, params: dict[str, str], spec: _Route) -> None:
        repo = self._repo_for(params, spec)
        self._require(request, spec, [("pull-requests", "read"), ("contents", "read")], repo)
        number = int(params["number"])
        if number not in repo.pulls:
            raise _not_found(spec.docs)
        files = repo.pull_files.get(number, [])[:MAX_PR_FILES]
        chunk, headers = self._page(request, repo, files)
        raise _Reply(200, copy.deepcopy(chunk), headers)

    def _issue_exists(self, repo: _Repo, number: int) -> bool:
        return number in repo.pulls or number in repo.issues

    def _op_comments_list(self, request: _Request, params: dict[str, str], spec: _Route) -> None:
        repo = self._repo_for(params, spec)
        self._require(request, spec, [("issues", "read"), ("pull-requests", "read")], repo)
        number = int(params["number"])
        if not self._issue_exists(repo, number):
            raise _not_found(spec.docs)
        comments = [c.data for c in self._comments_of(repo, number)]
        since = self._query_dict(request.query).get("since", [""])[-1]
        if since:
            try:
                cutoff = datetime.fromisoformat(since.replace("Z", "+00:00"))
            except ValueError:
                raise _invalid_request(spec.docs, f"{since!r} is not a valid date-time.") from None
            comments = [
                c
                for c in comments
                if datetime.fromisoformat(c["updated_at"].replace("Z", "+00:00")) >= cutoff
            ]
        chunk, headers = self._page(request, repo, comments)
        raise _Reply(200, copy.deepcopy(chunk), headers)

    def _comment_body(self, request: _Request, spec: _Route) -> str:
        body = request.body if isinstance(request.body, dict) else {}
        if "body" not in body or body["body"] is None:
            raise _not_supplied(spec.docs, "body")
        text = body["body"]
        if not isinstance(text, str):
            raise _invalid_request(spec.docs, f"For 'properties/body', {text!r} is not a string.")
        if len(text) > MAX_COMMENT_BODY:
            raise _validation_failed(
                spec.docs,
                "IssueComment",
                "body",
                f"body is too long (maximum is {MAX_COMMENT_BODY} characters)",
            )
        return text

    def _op_comment_create(self, request: _Request, params: dict[str, str], spec: _Route) -> None:
        repo = self._repo_for(params, spec)
        token = self._writer(request, spec, [("issues", "write"), ("pull-requests", "write")])
        number = int(params["number"])
        if not self._issue_exists(repo, number):
            raise _not_found(spec.docs)
        text = self._comment_body(request, spec)
        comment = self._new_comment(repo, number, text, token.identity, None)
        raise _Reply(201, copy.deepcopy(comment.data), {"Location": comment.data["url"]})

    def _comment_for(self, params: dict[str, str], spec: _Route, repo: _Repo) -> _Comment:
        comment = self._comments.get(int(params["comment_id"]))
        if comment is None or comment.repo_key != repo.full_name.lower():
            raise _not_found(spec.docs)
        return comment

    def _op_comment_get(self, request: _Request, params: dict[str, str], spec: _Route) -> None:
        repo = self._repo_for(params, spec)
        self._require(request, spec, [("issues", "read"), ("pull-requests", "read")], repo)
        raise _Reply(200, copy.deepcopy(self._comment_for(params, spec, repo).data))

    def _op_comment_update(self, request: _Request, params: dict[str, str], spec: _Route) -> None:
        repo = self._repo_for(params, spec)
        self._writer(request, spec, [("issues", "write"), ("pull-requests", "write")])
        comment = self._comment_for(params, spec, repo)
        comment.data["body"] = self._comment_body(request, spec)
        comment.data["updated_at"] = _now()
        raise _Reply(200, copy.deepcopy(comment.data))

    def _op_comment_delete(self, request: _Request, params: dict[str, str], spec: _Route) -> None:
        repo = self._repo_for(params, spec)
        self._writer(request, spec, [("issues", "write"), ("pull-requests", "write")])
        comment = self._comment_for(params, spec, repo)
        del self._comments[int(comment.data["id"])]
        self._adjust_comment_count(comment, -1)
        raise _Reply(204)

    def _op_status_create(self, request: _Request, params: dict[str, str], spec: _Route) -> None:
        repo = self._repo_for(params, spec)
        token = self._writer(request, spec, [("statuses", "write")])
        body = request.body if isinstance(request.body, dict) else {}
        sha = params["sha"]
        state = body.get("state")
        if state is None:
            raise _not_supplied(spec.docs, "state")
        if state not in STATUS_STATES:
            members = ", ".join(f'"{s}"' for s in STATUS_STATES)
            raise _invalid_request(
                spec.docs,
                f"For 'properties/state', {json.dumps(state)} is not a member of [{members}].",
            )
        description = body.get("description")
        if description is not None and len(str(description)) > MAX_STATUS_DESCRIPTION:
            raise _validation_failed(
                spec.docs,
                "Status",
                "description",
                f"description is too long (maximum is {MAX_STATUS_DESCRIPTION} characters)",
            )
        if sha not in repo.commits:
            raise _Reply(422, _error(f"No commit found for SHA: {sha}", spec.docs, 422))
        resolved = sha
        context = str(body.get("context") or "default")
        same = [
            s for s in repo.statuses.get(resolved, []) if s["context"].lower() == context.lower()
        ]
        if len(same) >= MAX_STATUSES_PER_CONTEXT:
            raise _Reply(
                422,
                _error(
                    "This SHA and context has reached the maximum number of statuses.",
                    spec.docs,
                    422,
                ),
            )
        status = self._new_status(
            repo,
            resolved,
            state,
            context,
            None if description is None else str(description),
            body.get("target_url"),
            token.identity,
        )
        raise _Reply(201, copy.deepcopy(status), {"Location": status["url"]})

    def _ref_or_404(self, repo: _Repo, ref: str, spec: _Route) -> str:
        sha = self._resolve_ref(repo, ref)
        if sha is None:
            raise _Reply(404, _error(f"No commit found for SHA: {ref}", spec.docs, 404))
        return sha

    def _op_status_list(self, request: _Request, params: dict[str, str], spec: _Route) -> None:
        repo = self._repo_for(params, spec)
        self._require(request, spec, [("statuses", "read")], repo)
        sha = self._ref_or_404(repo, params["ref"], spec)
        newest_first = list(reversed(repo.statuses.get(sha, [])))
        chunk, headers = self._page(request, repo, newest_first)
        raise _Reply(200, copy.deepcopy(chunk), headers)

    def _op_status_combined(self, request: _Request, params: dict[str, str], spec: _Route) -> None:
        repo = self._repo_for(params, spec)
        self._require(request, spec, [("statuses", "read")], repo)
        sha = self._ref_or_404(repo, params["ref"], spec)
        latest: dict[str, dict[str, Any]] = {}
        for status in reversed(repo.statuses.get(sha, [])):
            latest.setdefault(status["context"].lower(), status)
        states = [s["state"] for s in latest.values()]
        if any(state in ("error", "failure") for state in states):
            combined = "failure"
        elif not states or "pending" in states:
            combined = "pending"
        else:
            combined = "success"
        simple = [
            {
                key: s[key]
                for key in (
                    "url",
                    "avatar_url",
                    "id",
                    "node_id",
                    "state",
                    "description",
                    "target_url",
                    "context",
                    "created_at",
                    "updated_at",
                )
            }
            for s in latest.values()
        ]
        chunk, headers = self._page(request, repo, simple, default_per_page=MAX_PER_PAGE)
        minimal = {key: value for key, value in repo.data.items() if key not in _NOT_MINIMAL}
        body: dict[str, Any] = {
            "state": combined,
            "statuses": chunk,
            "sha": sha,
            "total_count": len(simple),
            "repository": copy.deepcopy(minimal),
            "commit_url": f"{self.api_url}/repos/{repo.full_name}/commits/{sha}",
            "url": f"{self.api_url}/repos/{repo.full_name}/commits/{sha}/status",
        }
        raise _Reply(200, body, headers)

    def _op_commit_get(self, request: _Request, params: dict[str, str], spec: _Route) -> None:
        repo = self._repo_for(params, spec)
        self._require(request, spec, [("contents", "read")], repo)
        sha = self._resolve_ref(repo, params["ref"])
        if sha is None:
            raise _Reply(422, _error(f"No commit found for SHA: {params['ref']}", spec.docs, 422))
        api = f"{self.api_url}/repos/{repo.full_name}"
        tree = _fake_sha(repo.full_name, "tree", sha)
        person = {"name": "GitHub", "email": "noreply@github.com", "date": "2019-05-15T15:20:30Z"}
        body: dict[str, Any] = {
            "sha": sha,
            "node_id": base64.b64encode(f"06:Commit{repo.id}:{sha}".encode()).decode(),
            "commit": {
                "author": dict(person),
                "committer": dict(person),
                "message": f"Commit {sha[:7]}",
                "tree": {"sha": tree, "url": f"{api}/git/trees/{tree}"},
                "url": f"{api}/git/commits/{sha}",
                "comment_count": 0,
                "verification": {
                    "verified": False,
                    "reason": "unsigned",
                    "signature": None,
                    "payload": None,
                    "verified_at": None,
                },
            },
            "url": f"{api}/commits/{sha}",
            "html_url": f"{self.web_url}/{repo.full_name}/commit/{sha}",
            "comments_url": f"{api}/commits/{sha}/comments",
            "author": None,
            "committer": None,
            "parents": [],
            "stats": {"total": 0, "additions": 0, "deletions": 0},
            "files": [],
        }
        raise _Reply(200, body)

    def _op_repo_public_key(self, request: _Request, params: dict[str, str], spec: _Route) -> None:
        repo = self._repo_for(params, spec)
        self._writer(request, spec, [("secrets", "read")])
        raise _Reply(200, self._public_key_json(repo.store))

    def _op_env_public_key(self, request: _Request, params: dict[str, str], spec: _Route) -> None:
        repo = self._repo_for(params, spec)
        self._writer(request, spec, [("environments", "read")])
        store = self._env_store(repo, params["env"], spec)
        raise _Reply(200, self._public_key_json(store))

    def _op_org_public_key(self, request: _Request, params: dict[str, str], spec: _Route) -> None:
        org = self._orgs.get(params["org"].lower())
        if org is None:
            raise _not_found(spec.docs)
        self._writer(request, spec, [("organization-secrets", "read")])
        raise _Reply(200, self._public_key_json(org.store))

    def _org_secret_record(
        self, request: _Request, params: dict[str, str], spec: _Route
    ) -> tuple[str, dict[str, Any]]:
        org = self._orgs.get(params["org"].lower())
        if org is None:
            raise _not_found(spec.docs)
        self._writer(request, spec, [("organization-secrets", "read")])
        record = org.store.secrets.get(unquote(params["name"]).upper())
        if record is None:
            raise _not_found(spec.docs)
        return org.login, record

    def _op_org_secret_get(self, request: _Request, params: dict[str, str], spec: _Route) -> None:
        org, record = self._org_secret_record(request, params, spec)
        body = {key: record[key] for key in ("name", "created_at", "updated_at", "visibility")}
        if record["visibility"] == "selected":
            body["selected_repositories_url"] = (
                f"{self.api_url}/orgs/{org}/actions/secrets/{record['name']}/repositories"
            )
        raise _Reply(200, body)

    def _op_org_secret_repos(self, request: _Request, params: dict[str, str], spec: _Route) -> None:
        _org, record = self._org_secret_record(request, params, spec)
        ids = set(record.get("selected_repository_ids") or [])
        repos = [
            {k: v for k, v in repo.data.items() if k not in _NOT_MINIMAL}
            for repo in sorted(self._repos.values(), key=lambda r: r.id)
            if repo.id in ids
        ]
        chunk, headers = self._page(request, None, repos)
        raise _Reply(200, {"total_count": len(repos), "repositories": chunk}, headers)

    def _env_store(self, repo: _Repo, env: str, spec: _Route) -> _SecretStore:
        for name, store in repo.environments.items():
            if name.lower() == env.lower():
                return store
        raise _not_found(spec.docs)

    def _check_sealed(self, request: _Request, spec: _Route, store: _SecretStore) -> str:
        body = request.body if isinstance(request.body, dict) else {}
        for name in ("encrypted_value", "key_id"):
            if body.get(name) is None:
                raise _not_supplied(spec.docs, name)
        value = body["encrypted_value"]
        if not isinstance(value, str) or re.search(SECRET_PATTERN, value) is None:
            raise _invalid_request(spec.docs, f"{value} does not match /{SECRET_PATTERN}/.")
        if str(body["key_id"]) != store.key_id:
            raise _Reply(422, _error(IMPROPERLY_ENCRYPTED, spec.docs, 422))
        try:
            self._unseal(store, value)
        except (CryptoError, binascii.Error, UnicodeDecodeError, ValueError):
            raise _Reply(422, _error(IMPROPERLY_ENCRYPTED, spec.docs, 422)) from None
        return value

    def _secret_reply(self, created: bool) -> _Reply:
        return _Reply(201, {}) if created else _Reply(204)

    def _op_repo_secret_put(self, request: _Request, params: dict[str, str], spec: _Route) -> None:
        repo = self._repo_for(params, spec)
        self._writer(request, spec, [("secrets", "write")])
        value = self._check_sealed(request, spec, repo.store)
        raise self._secret_reply(self._store_secret(repo.store, params["name"], value, {}))

    def _op_env_secret_put(self, request: _Request, params: dict[str, str], spec: _Route) -> None:
        repo = self._repo_for(params, spec)
        self._writer(request, spec, [("environments", "write")])
        store = self._env_store(repo, params["env"], spec)
        value = self._check_sealed(request, spec, store)
        raise self._secret_reply(self._store_secret(store, params["name"], value, {}))

    def _op_org_secret_put(self, request: _Request, params: dict[str, str], spec: _Route) -> None:
        org = self._orgs.get(params["org"].lower())
        if org is None:
            raise _not_found(spec.docs)
        self._writer(request, spec, [("organization-secrets", "write")])
        body = request.body if isinstance(request.body, dict) else {}
        visibility = body.get("visibility")
        if visibility is None:
            raise _not_supplied(spec.docs, "visibility")
        if visibility not in ORG_SECRET_VISIBILITIES:
            members = ", ".join(f'"{v}"' for v in ORG_SECRET_VISIBILITIES)
            shown = json.dumps(visibility)
            raise _invalid_request(
                spec.docs, f"For 'properties/visibility', {shown} is not a member of [{members}]."
            )
        value = self._check_sealed(request, spec, org.store)
        extra = {
            "visibility": visibility,
            "selected_repository_ids": list(body.get("selected_repository_ids") or []),
        }
        raise self._secret_reply(self._store_secret(org.store, params["name"], value, extra))

    def _op_contents_get(self, request: _Request, params: dict[str, str], spec: _Route) -> None:
        repo = self._repo_for(params, spec)
        self._require(request, spec, [("contents", "read")], repo)
        path = params.get("path", "").strip("/")
        ref = self._query_dict(request.query).get("ref", [""])[-1] or repo.data["default_branch"]
        tree = self._tree_at(repo, ref)
        if tree is None:
            raise _Reply(404, _error(f"No commit found for the ref {ref}", spec.docs, 404))
        if path in tree:
            raise _Reply(200, self._content_json(repo, ref, path, tree[path], with_content=True))
        prefix = f"{path}/" if path else ""
        children: dict[str, bool] = {}
        for name in tree:
            if name.startswith(prefix):
                head, _, rest = name[len(prefix) :].partition("/")
                children[head] = children.get(head, False) or bool(rest)
        if not children:
            raise _not_found(spec.docs)
        listing = [
            self._dir_entry(repo, ref, prefix + name)
            if is_dir
            else self._content_json(
                repo, ref, prefix + name, tree[prefix + name], with_content=False
            )
            for name, is_dir in sorted(children.items())
        ]
        raise _Reply(200, listing)

    def _tree_at(self, repo: _Repo, ref: str) -> dict[str, bytes] | None:
        ref = ref.removeprefix("refs/heads/")
        sha = self._resolve_ref(repo, ref)
        if sha is None and ref not in repo.contents:
            return None
        candidates = [ref]
        if sha is not None:
            candidates.append(sha)
            candidates.extend(b for b, s in repo.branches.items() if s == sha)
        for candidate in candidates:
            if candidate in repo.contents:
                return repo.contents[candidate]
        return {}

    def _content_json(
        self, repo: _Repo, ref: str, path: str, data: bytes, *, with_content: bool
    ) -> dict[str, Any]:
        sha = _blob_sha(data)
        quoted = quote(path)
        url = f"{self.api_url}/repos/{repo.full_name}/contents/{quoted}?ref={quote(ref, safe='')}"
        git_url = f"{self.api_url}/repos/{repo.full_name}/git/blobs/{sha}"
        html_url = f"{self.web_url}/{repo.full_name}/blob/{ref}/{quoted}"
        body: dict[str, Any] = {
            "name": path.rsplit("/", 1)[-1],
            "path": path,
            "sha": sha,
            "size": len(data),
            "url": url,
            "html_url": html_url,
            "git_url": git_url,
            "download_url": f"{self.web_url}/{repo.full_name}/raw/{ref}/{quoted}",
            "type": "file",
        }
        if with_content:
            too_big = len(data) > MAX_INLINE_CONTENT
            body["content"] = "" if too_big else _base64_lines(data)
            body["encoding"] = "none" if too_big else "base64"
        body["_links"] = {"self": url, "git": git_url, "html": html_url}
        return body

    def _dir_entry(self, repo: _Repo, ref: str, path: str) -> dict[str, Any]:
        sha = _fake_sha(repo.full_name, "tree", ref, path)
        quoted = quote(path)
        url = f"{self.api_url}/repos/{repo.full_name}/contents/{quoted}?ref={quote(ref, safe='')}"
        git_url = f"{self.api_url}/repos/{repo.full_name}/git/trees/{sha}"
        html_url = f"{self.web_url}/{repo.full_name}/tree/{ref}/{quoted}"
        return {
            "name": path.rsplit("/", 1)[-1],
            "path": path,
            "sha": sha,
            "size": 0,
            "url": url,
            "html_url": html_url,
            "git_url": git_url,
            "download_url": None,
            "type": "dir",
            "_links": {"self": url, "git": git_url, "html": html_url},
        }


def iter_link_header(value: str) -> Iterator[tuple[str, str]]:
    """Parse a ``Link`` header into ``(rel, url)`` pairs (a helper for tests)."""
    for part in value.split(","):
        match = re.match(r'\s*<([^>]*)>;\s*rel="([^"]+)"\s*$', part)
        if match is None:
            raise ValueError(f"malformed Link header part: {part!r}")
        yield match.group(2), match.group(1)
