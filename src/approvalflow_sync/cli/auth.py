"""``auth init`` (the first consent, from a terminal) and ``auth check`` (what a token can do).

Secrets come from environment variables only (flags show in ``ps``); the one secret ever printed
is a new refresh token, when it is not stored in an Actions secret.
"""

from __future__ import annotations

import argparse
import html
import http.server
import io
import logging
import re
import secrets
import subprocess
import sys
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TextIO, cast
from urllib.parse import parse_qsl, urlsplit

import httpx

from approvalflow_sync.action.inputs import DEFAULT_GITHUB_API_URL
from approvalflow_sync.approvalflow.base_url import (
    DEFAULT_TOKEN_URL,
    build_base_url,
    check_url,
    url_parts,
)
from approvalflow_sync.approvalflow.client import ApprovalFlowClient
from approvalflow_sync.approvalflow.oauth import (
    CONSENT_COMMAND,
    DEFAULT_AUTHORIZE_URL,
    DEFAULT_RESOURCES_URL,
    REUSE_WINDOW_MINUTES,
    Site,
    accessible_resources,
    authorize_url,
    exchange_code,
    exchange_refresh_token,
    pkce_pair,
)
from approvalflow_sync.approvalflow.scopes import (
    COMMAND_SCOPES,
    CONSENT_SCOPES,
    OFFLINE_ACCESS,
    PAGE_SCOPES,
    PRODUCT_SCOPE,
    READ_APPROVAL,
    READ_CHANGE_SET,
    WRITE_APPROVAL,
    WRITE_CHANGE_SET,
)
from approvalflow_sync.cli import terminal
from approvalflow_sync.cli.settings import TOKEN_VARIABLE, base_url_from, sandbox_url
from approvalflow_sync.errors import (
    APIError,
    ApprovalFlowSyncError,
    BadRequestError,
    ConfigError,
    OAuthError,
    PermissionDeniedError,
    SecretWriteError,
)
from approvalflow_sync.github.secrets import SecretTarget, parse_secret_target, write_secret
from approvalflow_sync.retry import RetryPolicy

log = logging.getLogger("approvalflow_sync.auth")

CALLBACK_PATH = "/callback"
DEFAULT_SECRET_NAME = "APPROVALFLOW_REFRESH_TOKEN"  # noqa: S105 - a secret's name
GITHUB_TOKEN_VARIABLES = ("GITHUB_TOKEN", "GH_TOKEN")
OK, FAILED, SKIPPED = "✓", "✗", "-"
PLACEHOLDER_ID = "0"
"""Asked for when no ``--space`` or ``--page`` is given: a 400 still proves the scope works."""

Confirm = Callable[[str], bool]
OpenBrowser = Callable[[str], object]
MAX_TIMEOUT_SECONDS = 3600


# -- auth init ---------------------------------------------------------------------------------


def run_init(
    args: argparse.Namespace,
    env: Mapping[str, str],
    out: TextIO,
    *,
    open_browser: OpenBrowser | None = None,
) -> int:
    """The consent in a browser, the code for tokens, the refresh token handed on."""
    out = cast(TextIO, _OutOrStderr(out))
    client_secret = _from_env(env, args.client_secret_env, "the OAuth app's client secret")
    urls = auth_urls(args, env)
    sink = _secret_sink(args, env)
    if not 0 < args.timeout <= MAX_TIMEOUT_SECONDS:  # also refuses nan
        raise ConfigError(
            f"--timeout: must be more than 0 and at most {MAX_TIMEOUT_SECONDS} seconds, "
            f"got {args.timeout}"
        )
    state = secrets.token_urlsafe(24)
    verifier, challenge = pkce_pair()
    scopes = (*CONSENT_SCOPES, *PAGE_SCOPES) if args.with_page_scopes else CONSENT_SCOPES
    with LoopbackCallback(args.port, state) as callback:
        url = authorize_url(
            urls.authorize,
            args.client_id,
            callback.redirect_uri,
            state,
            scopes,
            code_challenge=challenge,
        )
        print(
            "Open this URL in a browser, sign in as the Atlassian account the CI job should act "
            f"as, and accept:\n\n  {url}\n\n"
            f"It asks for the scopes: {' '.join(scopes)}\n"
            f"The app's callback URL must be {callback.redirect_uri} "
            "(developer console > your app > Authorization).\n"
            f"Waiting up to {args.timeout:g} s for the browser to come back ...",
            file=out,
            flush=True,
        )
        if not args.no_browser:
            (open_browser or (lambda link: launch_browser(link, env)))(callback.start_url(url))
        code = callback.wait(args.timeout)
    with httpx.Client(timeout=30.0) as http:
        grant = exchange_code(
            http,
            urls.token,
            args.client_id,
            client_secret,
            code,
            redirect_uri=callback.redirect_uri,
            code_verifier=verifier,
            consent_command=urls.consent_command,
        )
    print(
        f"\nConsent received. Granted scopes: {terminal.clean(grant.scope or '(none listed)')}",
        file=out,
    )
    missing = [s for s in scopes if s not in grant.scopes and s != OFFLINE_ACCESS]
    if missing:
        print(
            f"Warning: not granted: {' '.join(missing)}. Add them to the app (developer console "
            "> your app > Permissions) and run auth init again, or the calls that need them "
            "will fail.",
            file=out,
        )
    return _hand_on(grant.refresh_token or "", sink, out)


_SECRET_NAME = re.compile(r"TOKEN|SECRET|PASSWORD|PASSWD|CREDENTIAL|API_?KEY|PRIVATE_?KEY", re.I)
"""Environment variables the browser does not get: whatever looks like a secret."""


def launch_browser(url: str, env: Mapping[str, str]) -> None:
    """Open ``url`` in a browser started from a child Python without our secret variables."""
    clean = {k: v for k, v in env.items() if not _SECRET_NAME.search(k)}
    subprocess.Popen(  # noqa: S603 - our own interpreter and module, the URL as one argument
        [sys.executable, "-m", "webbrowser", "-t", url],
        env=clean,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


@dataclass(frozen=True)
class AuthURLs:
    """Atlassian's authorization server as auth init and check reach it (or the sandbox's)."""

    authorize: str
    token: str
    resources: str
    sandbox: str | None = None
    """The base URL of the sandbox in use (--sandbox or APPROVALFLOW_SANDBOX), or None."""

    @classmethod
    def of_sandbox(cls, base: str) -> AuthURLs:
        """Where a sandbox listening at ``base`` serves them (its API is ``base`` itself)."""
        resources = f"{base}/oauth/token/accessible-resources"
        return cls(f"{base}/authorize", f"{base}/oauth/token", resources, base)

    @property
    def consent_command(self) -> str:
        """``auth init`` as the advice for a dead refresh token names it: sandbox kept."""
        return CONSENT_COMMAND + (f" --sandbox {self.sandbox}" if self.sandbox else "")


ATLASSIAN = AuthURLs(DEFAULT_AUTHORIZE_URL, DEFAULT_TOKEN_URL, DEFAULT_RESOURCES_URL)


def auth_urls(args: argparse.Namespace, env: Mapping[str, str]) -> AuthURLs:
    """Each URL from its own flag, else from the sandbox, else Atlassian's."""
    sandbox = sandbox_url(args.sandbox, env)
    fallback = AuthURLs.of_sandbox(sandbox) if sandbox else ATLASSIAN

    def pick(flag: str | None, name: str, default: str) -> str:
        return check_url(flag, name) if flag else default

    return AuthURLs(
        authorize=pick(getattr(args, "auth_url", None), "--auth-url", fallback.authorize),
        token=pick(args.token_url, "--token-url", fallback.token),
        resources=pick(getattr(args, "resources_url", None), "--resources-url", fallback.resources),
        sandbox=sandbox,
    )


@dataclass(frozen=True)
class SecretSink:
    """An Actions secret to store the refresh token in, and how to reach GitHub."""

    target: SecretTarget
    api_url: str
    token: str = field(repr=False)


_FIRST_HEADING = (
    "Refresh token (shown once: store it now as a secret, e.g. "
    "`gh secret set APPROVALFLOW_REFRESH_TOKEN`, and keep no other copy):"
)


def _secret_sink(args: argparse.Namespace, env: Mapping[str, str]) -> SecretSink | None:
    """Where to store the refresh token (checked before anything is spent); None: print it."""
    if not args.github_repo:
        if args.secret_name:
            raise ConfigError("--secret-name: give --github-repo OWNER/REPO too")
        return None
    target = parse_secret_target(args.secret_name or DEFAULT_SECRET_NAME, args.github_repo)
    api_url = check_url(
        args.github_api_url or env.get("GITHUB_API_URL") or DEFAULT_GITHUB_API_URL,
        "--github-api-url",
    )
    for name in GITHUB_TOKEN_VARIABLES:
        token = env.get(name, "").strip()
        if token:
            return SecretSink(target, api_url, token)
    raise ConfigError(
        "--github-repo: writing the secret needs a GitHub token in GITHUB_TOKEN or GH_TOKEN (a "
        f"fine-grained token with {target.permission}, e.g. `GH_TOKEN=$(gh auth token)`)"
    )


def _hand_on(
    refresh_token: str, sink: SecretSink | None, out: TextIO, heading: str = _FIRST_HEADING
) -> int:
    """Store the new refresh token in a secret, or print it once under ``heading``; 0.

    Whatever fails while storing it, it is printed first, then the failure is raised.
    """
    if sink is None:
        print(f"{heading}\n\n{refresh_token}\n\n{_ROTATION_NOTE}", file=out)
        return 0
    where = sink.target.describe()
    try:
        write_secret(sink.api_url, sink.token, sink.target, refresh_token)
    except Exception as exc:  # whatever it is, the token must reach the user
        print(
            f"Could not store the refresh token in the {where} (why follows). Here it is "
            f"instead, shown once: store it yourself now.\n\n{refresh_token}\n\n{_ROTATION_NOTE}",
            file=out,
        )
        if isinstance(exc, ApprovalFlowSyncError):
            raise
        raise SecretWriteError(
            f"write the {where}", f"unexpected {type(exc).__name__}", target=sink.target.spec
        ) from exc
    print(f"Stored the refresh token in the {where}.\n{_ROTATION_NOTE}", file=out)
    return 0


class _OutOrStderr(io.TextIOBase):
    """``out`` until writing to it fails (``| head -1``), then stderr: a new token gets through."""

    def __init__(self, out: TextIO) -> None:
        self._out = out

    def write(self, text: str) -> int:
        try:
            written = self._out.write(text)
            self._out.flush()
        except (OSError, ValueError):  # a broken pipe; a closed file
            if self._out is sys.stderr:
                raise
            self._out = sys.stderr
            written = self._out.write(text)
        return written


_ROTATION_NOTE = (
    "It rotates: every refresh answers a new one and the one used stops working "
    f"{REUSE_WINDOW_MINUTES} minutes later, so the workflow must write the new one back "
    "(refresh-token-secret and secrets-token), and no job may still hold it "
    f"{REUSE_WINDOW_MINUTES} minutes after another job refreshed it."
)


_FINAL_PAGES = {
    True: (200, "Consent received", "You can close this tab and go back to the terminal."),
    False: (400, "Consent not completed", "The terminal says what went wrong and what to do."),
}


class LoopbackCallback(http.server.ThreadingHTTPServer):
    """An HTTP listener on ``127.0.0.1:PORT`` for the consent redirect.

    Only ``/callback`` with our ``state`` ends the wait. The browser is given a one-shot start
    page that redirects to the consent page, so ``state`` never sits on its command line.
    """

    daemon_threads = True  # a browser's idle pre-connection blocks nothing

    def __init__(self, port: int, state: str) -> None:
        if not 0 <= port <= 65535:
            raise ConfigError(f"--port: must be from 0 to 65535, got {port}")
        self.state = state
        self.start_path = f"/start/{secrets.token_urlsafe(16)}"
        self.consent_url: str | None = None
        """Where the start page sends the browser; None once it was opened."""
        self.query: dict[str, str] = {}
        self.problem: str | None = None
        self.ready = threading.Event()
        self.lock = threading.Lock()
        try:
            super().__init__(("127.0.0.1", port), _CallbackHandler)
        except OSError as exc:
            raise ConfigError(
                f"--port: cannot listen on 127.0.0.1:{port} ({exc.strerror or exc}); choose "
                "another port, and register http://127.0.0.1:PORT/callback as the app's "
                "callback URL"
            ) from None
        self.redirect_uri = f"http://127.0.0.1:{self.server_port}{CALLBACK_PATH}"
        self._thread = threading.Thread(
            target=self.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True
        )
        self._thread.start()

    def handle_error(self, request: object, client_address: object) -> None:
        """A failed connection is no news for the terminal."""
        log.debug("loopback callback: a connection failed", exc_info=True)

    def start_url(self, consent_url: str) -> str:
        """A local link that redirects once to ``consent_url``: what the browser is given."""
        self.consent_url = consent_url
        return f"http://127.0.0.1:{self.server_port}{self.start_path}"

    def open_start(self) -> str | None:
        """The consent URL, the first time; later, None, and the flow stops (the link leaked)."""
        with self.lock:
            url, self.consent_url = self.consent_url, None
            if url is None and not self.ready.is_set():
                self.problem = (
                    "the browser link to the consent page was opened twice: another program "
                    "may have read it from the browser's command line. Nothing was exchanged; "
                    "run `approvalflow-sync auth init` again"
                )
                self.ready.set()
            return url

    def take(self, query: dict[str, str]) -> bool:
        """Keep the first callback that carries our ``state``; False for any other."""
        ours = secrets.compare_digest(query.get("state", "").encode(), self.state.encode())
        with self.lock:
            if not ours or self.ready.is_set() or self.query:
                return False
            self.query = query
            return True

    def wait(self, timeout: float) -> str:
        """The code the redirect brought; an OAuthError when none came within ``timeout``."""
        if not self.ready.wait(timeout):
            raise OAuthError(
                f"no redirect came back to {self.redirect_uri} within {timeout:g} s; run "
                "`approvalflow-sync auth init` again (--timeout gives more time)"
            )
        if self.problem is not None:
            raise OAuthError(self.problem)
        query = self.query
        if "error" in query:
            said = terminal.clean(query["error"])
            description = query.get("error_description")
            if description:
                said += f": {terminal.clean(description)}"
            raise OAuthError(
                f"the consent was not given ({said}); run `approvalflow-sync auth init` again "
                "and accept, or check the app's scopes in the developer console"
            )
        if not query.get("code"):
            raise OAuthError(
                "the redirect carries no code; run `approvalflow-sync auth init` again"
            )
        return query["code"]

    def __exit__(self, *exc_info: object) -> None:
        """Stop listening."""
        self.shutdown()
        self.server_close()
        self._thread.join(timeout=5)


class _CallbackHandler(http.server.BaseHTTPRequestHandler):
    """The start page, the callback, and a 404 for anything else."""

    server: LoopbackCallback
    timeout = 30

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        query = dict(parse_qsl(url.query, keep_blank_values=True))
        if url.path == self.server.start_path:
            self._start()
        elif url.path != CALLBACK_PATH:
            self._page(404, "Not the callback", "Nothing to see here.")
        elif not self.server.take(query):
            self._page(
                400,
                "Not the consent started in the terminal",
                "The state does not match: nothing was exchanged.",
            )
        else:
            try:
                self._page(*_FINAL_PAGES["code" in query and "error" not in query])
            finally:
                self.server.ready.set()  # after the page, so the browser gets it first

    def _start(self) -> None:
        target = self.server.open_start()
        if target is None:
            self._page(410, "Link already used", "Run auth init again.")
            return
        self.send_response(303)
        self.send_header("Location", target)
        self.send_header("Cache-Control", "no-store")
        self.send_header("Referrer-Policy", "no-referrer")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def _page(self, status: int, title: str, text: str) -> None:
        body = (
            f"<!doctype html><meta charset=utf-8><title>{html.escape(title)}</title>"
            f"<h1>{html.escape(title)}</h1><p>{html.escape(text)}</p>"
        ).encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        """The query holds the code: nothing of the request is logged."""


# -- auth check --------------------------------------------------------------------------------


@dataclass(frozen=True)
class ScopeCheck:
    """One line of the report: a scope, whether it works, and what was seen."""

    scope: str
    mark: str
    detail: str


def run_check(
    args: argparse.Namespace,
    env: Mapping[str, str],
    out: TextIO,
    *,
    confirm: Confirm | None = None,
) -> int:
    """List the sites a token reaches and check each scope; 1 when a scope fails.

    Without ``confirm``, a terminal is asked before the refresh token is spent.
    """
    out = cast(TextIO, _OutOrStderr(out))
    if confirm is None and sys.stdin.isatty():
        confirm = _ask
    urls = auth_urls(args, env)
    base_url = _base_url(args, env, urls.sandbox)
    with httpx.Client(timeout=30.0) as http:
        access_token, granted = _access_token(args, env, out, http, confirm, urls=urls)
        sites = accessible_resources(http, urls.resources, access_token)
        _print_sites(sites, out)
        if granted is None:
            granted = frozenset(scope for site in sites for scope in site.scopes)
        checks = _check_scopes(http, base_url, access_token, granted, args)
    if base_url is not None:
        print(_base_url_report(base_url, checks, sites), file=out)
    print(f"\nScopes{f' (read calls against {base_url})' if base_url else ''}:", file=out)
    width = max(len(check.scope) for check in checks)
    for check in checks:
        print(
            f"  {check.mark} {check.scope.ljust(width)}  {terminal.clean(check.detail)}", file=out
        )
    marks = {check.scope: check.mark for check in checks}
    print(f"\nCommands:\n{_commands_report(marks)}", file=out)
    return 1 if any(marks[scope] == FAILED for scope in COMMAND_SCOPES["run"]) else 0


def _ask(question: str) -> bool:
    return input(question).strip().lower() in ("y", "yes")


def _commands_report(marks: Mapping[str, str]) -> str:
    """One line per command: whether its scopes work, else the ones it lacks."""
    width = max(map(len, COMMAND_SCOPES))
    lines = []
    for command, scopes in COMMAND_SCOPES.items():
        failed = [scope for scope in scopes if marks[scope] == FAILED]
        unknown = [scope for scope in scopes if marks[scope] == SKIPPED]
        if failed:
            line = f"{FAILED} {command.ljust(width)}  lacks {', '.join(failed)}"
        elif unknown:
            line = f"{SKIPPED} {command.ljust(width)}  not tried: {', '.join(unknown)}"
        else:
            line = f"{OK} {command}"
        lines.append(f"  {line}".rstrip())
    return "\n".join(lines)


def _access_token(
    args: argparse.Namespace,
    env: Mapping[str, str],
    out: TextIO,
    http: httpx.Client,
    confirm: Confirm | None,
    *,
    urls: AuthURLs,
) -> tuple[str, frozenset[str] | None]:
    """The access token to check, and its granted scopes when the token endpoint said them."""
    if (args.github_repo or args.secret_name) and not args.client_id:
        raise ConfigError(
            "--github-repo: only with --client-id (checking an access token rotates nothing)"
        )
    if args.access_token_env:
        return _from_env(env, args.access_token_env, "the access token"), None
    if not args.client_id:
        token = env.get(TOKEN_VARIABLE, "").strip()
        if token:
            return token, None
        raise ConfigError(
            "auth check: nothing to check; give --client-id (with the refresh token in "
            f"{args.refresh_token_env} and the client secret in {args.client_secret_env}), "
            "or --access-token-env VAR"
        )
    client_secret = _from_env(env, args.client_secret_env, "the OAuth app's client secret")
    refresh_token = _from_env(env, args.refresh_token_env, "the refresh token")
    sink = _secret_sink(args, env)
    print(
        "Refreshing rotates the refresh token: Atlassian answers a new one, and the one in "
        f"{args.refresh_token_env} stops working {REUSE_WINDOW_MINUTES} minutes later. "
        + (
            f"The new one goes into the {sink.target.describe()}."
            if sink is not None
            else "The new one is printed below: whatever holds the old one (an Actions secret) "
            "must get it."
        ),
        file=out,
        flush=True,
    )
    if not args.yes and (confirm is None or not confirm("Refresh now? [y/N] ")):
        raise ConfigError(
            "auth check: not refreshed (the stored refresh token is untouched); rerun with "
            "--yes to refresh and store the new token, or check an access token with "
            "--access-token-env VAR"
        )
    grant = exchange_refresh_token(
        http,
        urls.token,
        args.client_id,
        client_secret,
        refresh_token,
        consent_command=urls.consent_command,
    )
    if grant.refresh_token is not None and grant.refresh_token != refresh_token:
        heading = (
            f"New refresh token (shown once; the one in {args.refresh_token_env} stops working "
            f"in {REUSE_WINDOW_MINUTES} minutes: store this one now):"
        )
        _hand_on(grant.refresh_token, sink, out, heading)
    print(
        f"Access token: expires in {grant.expires_in} s; scope: {terminal.clean(grant.scope)}",
        file=out,
    )
    return grant.access_token, grant.scopes


def _print_sites(sites: list[Site], out: TextIO) -> None:
    if not sites:
        print(
            "\nThe token reaches no site: the consenting account has no access to a site with "
            "the app installed.",
            file=out,
        )
        return
    rows = [(site.name, site.url, site.id) for site in sites]
    print("\nSites this token reaches:", file=out)
    print(terminal.table(("NAME", "URL", "CLOUD ID"), rows), file=out)


def _check_scopes(
    http: httpx.Client,
    base_url: str | None,
    access_token: str,
    granted: frozenset[str],
    args: argparse.Namespace,
) -> list[ScopeCheck]:
    """One read call per read scope; the write scopes from the token's scope list only."""
    reads: list[ScopeCheck] = []
    if base_url is None:
        skipped = "not tried: give --base-url (or APPROVALFLOW_BASE_URL) for the read calls"
        reads = [ScopeCheck(scope, SKIPPED, skipped) for scope in (READ_CHANGE_SET, READ_APPROVAL)]
    else:
        space = args.space or PLACEHOLDER_ID
        page = args.page or PLACEHOLDER_ID
        client = ApprovalFlowClient(
            base_url, access_token, http=http, retry=RetryPolicy(attempts=2, max_backoff=1.0)
        )
        reads = [
            _read_check(
                READ_CHANGE_SET,
                f"GET /changeSets?spaceId={space}",
                lambda: f"{len(client.list_change_sets(space))} change sets",
            ),
            _read_check(
                READ_APPROVAL,
                f"POST /pages/preflight (page {page})",
                lambda: _preflight_text(client, page),
            ),
        ]
    return [_product_check(reads, granted), *reads, *_write_checks(granted)]


def _preflight_text(client: ApprovalFlowClient, page: str) -> str:
    answer = client.preflight_page(page)
    if answer.canSubmit is None:
        return "answered (without saying whether the page can be submitted)"
    if answer.canSubmit:
        return "answered: the page can be submitted"
    return f"answered: {terminal.clean(answer.reason or 'cannot be submitted')}"


def _read_check(scope: str, call: str, run: Callable[[], str]) -> ScopeCheck:
    try:
        return ScopeCheck(scope, OK, f"{call}: {run()}")
    except BadRequestError as error:
        return ScopeCheck(
            scope, OK, f"{call}: authorized (the call itself answered 400: {error.error})"
        )
    except PermissionDeniedError as error:
        return ScopeCheck(scope, FAILED, f"{call}: {error.detail}")
    except APIError as error:
        return ScopeCheck(scope, FAILED, f"{call}: {error}")


def _product_check(reads: list[ScopeCheck], granted: frozenset[str]) -> ScopeCheck:
    if any(check.mark == OK for check in reads):
        return ScopeCheck(PRODUCT_SCOPE, OK, "every call needs it; the read calls got through")
    listed = PRODUCT_SCOPE in granted
    if all(check.mark == SKIPPED for check in reads):
        return ScopeCheck(
            PRODUCT_SCOPE,
            OK if listed else FAILED,
            "granted (the token's scope lists it)"
            if listed
            else "not granted: every call fails without it",
        )
    return ScopeCheck(
        PRODUCT_SCOPE,
        FAILED,
        "the read calls failed (see below)"
        + ("" if listed else "; the token's scope does not list it"),
    )


def _write_checks(granted: frozenset[str]) -> list[ScopeCheck]:
    return [
        ScopeCheck(scope, OK, "granted (the token's scope lists it; not tried: no writes)")
        if scope in granted
        else ScopeCheck(scope, FAILED, "not granted (the token's scope does not list it)")
        for scope in (WRITE_CHANGE_SET, WRITE_APPROVAL)
    ]


def _base_url_report(base_url: str, checks: list[ScopeCheck], sites: list[Site]) -> str:
    """The base URL, whether the read calls got through it, and the ids it holds."""
    reads = [check for check in checks if check.scope in (READ_CHANGE_SET, READ_APPROVAL)]
    verdict = (
        "verified: the read calls below got through"
        if any(check.mark == OK for check in reads)
        else "NOT verified: the read calls below failed"
    )
    parts = url_parts(base_url)
    absent = "not in the URL"
    cloud = parts.cloud_id or (
        f"{absent} (the site {parts.site} stands for it)" if parts.site else absent
    )
    if parts.cloud_id and sites and parts.cloud_id not in {site.id for site in sites}:
        cloud += "  (not among the sites this token reaches, listed above)"
    rows = [
        ("cloud id", cloud),
        ("app id", parts.app_id or absent),
        ("environment id", parts.environment_id or absent),
    ]
    return f"\nApprovalFlow base URL ({verdict}):\n  {terminal.clean(base_url)}\n" + "\n".join(
        f"  {name + ':':<16}{terminal.clean(value)}" for name, value in rows
    )


def _base_url(args: argparse.Namespace, env: Mapping[str, str], sandbox: str | None) -> str | None:
    """The API base URL: --base-url, the sandbox's, or the APPROVALFLOW_* variables; or None."""
    if args.base_url:
        return build_base_url(base_url=args.base_url, name_prefix="--")
    return sandbox or base_url_from(None, env)


def _from_env(env: Mapping[str, str], name: str, what: str) -> str:
    value = env.get(name, "").strip()
    if not value:
        raise ConfigError(
            f"the environment variable {name} is not set: put {what} in it (secrets are read "
            "from the environment only, never from flags)"
        )
    return value
