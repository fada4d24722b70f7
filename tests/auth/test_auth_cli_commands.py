"""``auth init`` and ``auth check`` as a user runs them, against the sandbox and the fake GitHub.

The test plays the browser: it reads the printed consent URL, opens it on the sandbox (whose
admin consents at once) and follows the redirect to the command's loopback callback.
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import NoReturn
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from auth_helpers import (
    CLIENT_ID,
    CLIENT_SECRET,
    DOCS,
    admin,
    first_grant,
    resources_url,
    token_calls,
    token_url,
)

from approvalflow_sync.approvalflow.oauth import exchange_code, exchange_refresh_token
from approvalflow_sync.approvalflow.scopes import API_SCOPES, CONSENT_SCOPES, PAGE_SCOPES
from approvalflow_sync.cli import auth as auth_commands
from approvalflow_sync.cli.main import build_parser
from approvalflow_sync.errors import (
    ConfigError,
    OAuthError,
    SecretWriteError,
)
from approvalflow_sync.sandbox import SandboxServer
from approvalflow_sync.sandbox.oauth import CLOUD_ID
from conftest import RunCli, browser, clean_env
from fakes.github import ACTIONS_TOKEN, APP_TOKEN, FakeGitHub

REPO = "Codertocat/Hello-World"
SECRET_NAME = "APPROVALFLOW_REFRESH_TOKEN"


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    with httpx.Client(trust_env=False, timeout=10) as client:
        yield client


@pytest.fixture
def github() -> Iterator[FakeGitHub]:
    with FakeGitHub() as fake:
        fake.add_repository(full_name=REPO)
        yield fake


def init_args(server: SandboxServer, *extra: str) -> list[str]:
    return [
        "auth",
        "init",
        "--client-id",
        CLIENT_ID,
        "--port",
        "0",
        "--auth-url",
        f"{server.base_url}/authorize",
        "--token-url",
        token_url(server),
        "--no-browser",
        "--timeout",
        "20",
        *extra,
    ]


def start_init(server: SandboxServer, *extra: str, **env: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "approvalflow_sync", *init_args(server, *extra)],
        env=clean_env(ATLASSIAN_CLIENT_SECRET=CLIENT_SECRET, **env),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def printed_url(process: subprocess.Popen[str]) -> tuple[str, list[str]]:
    """The consent URL the command printed, and every line up to it."""
    assert process.stdout is not None
    seen: list[str] = []
    for line in process.stdout:
        seen.append(line)
        if line.startswith("  http"):
            return line.strip(), seen
    process.kill()
    raise AssertionError(f"no URL printed: {seen!r}, {process.stderr and process.stderr.read()}")


def finish(process: subprocess.Popen[str], before: list[str]) -> tuple[int, str, str]:
    """Exit status, all of stdout (``before`` was already read) and stderr."""
    assert process.stdout is not None
    assert process.stderr is not None
    out = "".join(before) + process.stdout.read()  # read through the buffer the URL came from
    err = process.stderr.read()
    process.stdout.close()
    process.stderr.close()
    return process.wait(timeout=20), out, err


def squeeze(text: str) -> str:
    """Runs of spaces as one, so assertions do not depend on column widths."""
    return "\n".join(" ".join(line.split()) for line in text.splitlines())


def printed_refresh_token(out: str) -> str:
    tokens = [line for line in out.splitlines() if line.startswith("sbx-rt-")]
    assert len(tokens) == 1, out
    return tokens[0]


def test_auth_init_prints_a_refresh_token_that_works(
    sandbox: SandboxServer, http: httpx.Client
) -> None:
    process = start_init(sandbox)
    url, before = printed_url(process)
    query = parse_qs(urlsplit(url).query)
    assert query["audience"] == ["api.atlassian.com"]
    assert query["client_id"] == [CLIENT_ID]
    assert query["scope"] == [" ".join(CONSENT_SCOPES)]  # least privilege: no page scopes
    assert "approval" not in query["scope"][0]
    assert query["response_type"] == ["code"]
    assert query["prompt"] == ["consent"]
    redirect_uri = query["redirect_uri"][0]
    assert redirect_uri.startswith("http://127.0.0.1:")
    assert redirect_uri.endswith("/callback")
    assert "%20" in url  # scopes joined by encoded spaces, as Atlassian's examples write them
    page = http.get(url, follow_redirects=True)  # the browser: consent, then back to the CLI
    assert page.status_code == 200
    assert "go back to the terminal" in page.text
    status, out, err = finish(process, before)
    assert status == 0, err
    refresh_token = printed_refresh_token(out)
    assert out.count(refresh_token) == 1
    assert "shown once" in out
    assert "stops working 10 minutes later" in out
    assert "Waiting up to 20 s" in "".join(before) + out
    grant = exchange_refresh_token(
        http, token_url(sandbox), CLIENT_ID, CLIENT_SECRET, refresh_token
    )
    assert grant.refresh_token != refresh_token
    assert CLIENT_SECRET not in out + err


def test_auth_init_refuses_strangers_and_keeps_waiting_for_its_own_state(
    sandbox: SandboxServer, http: httpx.Client
) -> None:
    process = start_init(sandbox)
    url, before = printed_url(process)
    consent = http.get(url)  # the consent page answers the redirect; strangers come first
    redirect = consent.headers["Location"]
    location = urlsplit(redirect)
    callback = f"{location.scheme}://{location.netloc}{location.path}"
    code = parse_qs(location.query)["code"][0]
    strangers: list[dict[str, str]] = [{"code": code, "state": "forged-state"}, {}, {"error": "x"}]
    for query in strangers:  # a forged redirect, a bare `curl`, an <img> with an error
        refused = http.get(callback, params=query)
        assert refused.status_code == 400
        assert "state does not match" in refused.text
    assert token_calls(sandbox) == []
    assert process.poll() is None  # still waiting
    assert http.get(redirect).status_code == 200  # the browser's own redirect, at last
    status, out, err = finish(process, before)
    assert status == 0, err
    printed_refresh_token(out)
    assert len(token_calls(sandbox)) == 1


def test_auth_init_waits_through_strangers_until_the_timeout(sandbox: SandboxServer) -> None:
    args = build_parser().parse_args(init_args(sandbox, "--timeout", "1.5"))

    def stranger(start_url: str) -> None:
        port = urlsplit(start_url).port
        httpx.get(f"http://127.0.0.1:{port}/callback?state=nope&code=x", trust_env=False)

    args.no_browser = False
    with pytest.raises(OAuthError, match=r"no redirect came back .* within 1.5 s"):
        auth_commands.run_init(
            args, {"ATLASSIAN_CLIENT_SECRET": CLIENT_SECRET}, io.StringIO(), open_browser=stranger
        )
    assert token_calls(sandbox) == []


FAKE_BROWSER = """#!{python}
import json, os, sys
import httpx
with open(os.environ["FAKE_BROWSER_LOG"], "w") as log:
    json.dump({{"argv": sys.argv, "env": dict(os.environ)}}, log)
httpx.get(sys.argv[-1], follow_redirects=True, trust_env=False, timeout=10)
"""


def test_auth_init_starts_the_browser_without_secrets_or_the_state_on_its_command_line(
    sandbox: SandboxServer, http: httpx.Client, tmp_path: Path
) -> None:
    browser = tmp_path / "fake-browser"
    browser.write_text(FAKE_BROWSER.format(python=sys.executable))
    browser.chmod(0o755)
    log = tmp_path / "browser.json"
    argv = init_args(sandbox)
    argv.remove("--no-browser")
    secrets_in_env = {
        "ATLASSIAN_CLIENT_SECRET": CLIENT_SECRET,
        "GH_TOKEN": "gh-token-value",
        "GITHUB_TOKEN": "github-token-value",
        "NPM_TOKEN": "npm-token-value",
        "AWS_SECRET_ACCESS_KEY": "aws-secret-value",
    }
    result = subprocess.run(
        [sys.executable, "-m", "approvalflow_sync", *argv],
        env=clean_env(BROWSER=str(browser), FAKE_BROWSER_LOG=str(log), **secrets_in_env),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    seen = json.loads(log.read_text())
    assert not set(secrets_in_env) & set(seen["env"])
    assert not any(value in json.dumps(seen) for value in secrets_in_env.values())
    assert seen["env"]["FAKE_BROWSER_LOG"] == str(log)  # the rest of the environment is kept
    consent_url = next(line.strip() for line in result.stdout.splitlines() if "state=" in line)
    state = parse_qs(urlsplit(consent_url).query)["state"][0]
    assert state not in " ".join(seen["argv"])
    assert seen["argv"][-1].startswith("http://127.0.0.1:")  # the one-shot local start page
    printed_refresh_token(result.stdout)


def test_auth_init_uses_pkce_and_the_sandbox_holds_it_to_its_verifier(
    sandbox: SandboxServer, http: httpx.Client
) -> None:
    process = start_init(sandbox)
    url, before = printed_url(process)
    query = parse_qs(urlsplit(url).query)
    assert query["code_challenge_method"] == ["S256"]
    assert len(query["code_challenge"][0]) == 43  # base64url of a SHA-256 digest, unpadded
    http.get(url, follow_redirects=True)
    status, _, err = finish(process, before)
    assert status == 0, err  # the exchange sent the matching code_verifier
    # A code asked for with that challenge cannot be traded without the verifier.
    stolen = parse_qs(urlsplit(http.get(url).headers["Location"]).query)["code"][0]
    with pytest.raises(OAuthError, match="authorization code was already used"):
        exchange_code(
            http,
            token_url(sandbox),
            CLIENT_ID,
            CLIENT_SECRET,
            stolen,
            redirect_uri=query["redirect_uri"][0],
        )


def test_auth_init_stops_when_the_browser_link_is_opened_twice(sandbox: SandboxServer) -> None:
    argv = init_args(sandbox)
    argv.remove("--no-browser")
    args = build_parser().parse_args(argv)

    def raced(start_url: str) -> None:  # another local user read the link and got there first
        for _ in range(2):
            httpx.get(start_url, trust_env=False)

    with pytest.raises(OAuthError, match="opened twice"):
        auth_commands.run_init(
            args, {"ATLASSIAN_CLIENT_SECRET": CLIENT_SECRET}, io.StringIO(), open_browser=raced
        )
    assert token_calls(sandbox) == []


def test_auth_init_stores_the_refresh_token_in_a_repository_secret(
    sandbox: SandboxServer, http: httpx.Client, github: FakeGitHub
) -> None:
    process = start_init(
        sandbox,
        "--github-repo",
        REPO,
        GITHUB_API_URL=github.api_url,
        GITHUB_TOKEN=APP_TOKEN,
    )
    url, before = printed_url(process)
    http.get(url, follow_redirects=True)
    status, out, err = finish(process, before)
    assert status == 0, err
    stored = github.secret_value(REPO, SECRET_NAME)
    assert stored.startswith("sbx-rt-")
    assert stored not in out + err
    assert f"Stored the refresh token in the repository secret {SECRET_NAME} of {REPO}" in out
    exchange_refresh_token(http, token_url(sandbox), CLIENT_ID, CLIENT_SECRET, stored)


def test_auth_init_checks_its_settings_before_the_consent(sandbox: SandboxServer) -> None:
    args = build_parser().parse_args(init_args(sandbox, "--github-repo", REPO))
    with pytest.raises(ConfigError, match="ATLASSIAN_CLIENT_SECRET is not set"):
        auth_commands.run_init(args, {}, io.StringIO())
    with pytest.raises(ConfigError, match="GITHUB_TOKEN or GH_TOKEN"):
        auth_commands.run_init(args, {"ATLASSIAN_CLIENT_SECRET": CLIENT_SECRET}, io.StringIO())
    bad = build_parser().parse_args(init_args(sandbox, "--secret-name", "X"))
    with pytest.raises(ConfigError, match="--github-repo"):
        auth_commands.run_init(bad, {"ATLASSIAN_CLIENT_SECRET": CLIENT_SECRET}, io.StringIO())


@pytest.mark.parametrize(
    ("flags", "granted"),
    [((), CONSENT_SCOPES), (("--with-page-scopes",), (*CONSENT_SCOPES, *PAGE_SCOPES))],
)
def test_auth_init_asks_for_the_page_scopes_only_when_told(
    sandbox: SandboxServer, flags: tuple[str, ...], granted: tuple[str, ...]
) -> None:
    argv = init_args(sandbox, *flags)
    argv.remove("--no-browser")
    args = build_parser().parse_args(argv)
    out = io.StringIO()
    with browser() as visit:
        auth_commands.run_init(
            args, {"ATLASSIAN_CLIENT_SECRET": CLIENT_SECRET}, out, open_browser=visit
        )
    printed = out.getvalue()
    assert f"It asks for the scopes: {' '.join(granted)}\n" in printed
    listed = printed.split("Granted scopes: ")[1].splitlines()[0]
    assert set(listed.split()) == set(granted)
    assert "Warning" not in printed


def test_auth_init_says_when_the_app_lacks_offline_access(sandbox: SandboxServer) -> None:
    admin(
        sandbox,
        "oauth/clients",
        {"clientId": "online-only", "clientSecret": "s3cret-online", "scopes": list(API_SCOPES)},
    )
    argv = init_args(sandbox)
    argv[argv.index(CLIENT_ID)] = "online-only"
    argv.remove("--no-browser")
    args = build_parser().parse_args(argv)
    env = {"ATLASSIAN_CLIENT_SECRET": "s3cret-online"}
    with browser() as visit, pytest.raises(OAuthError, match="offline_access was not granted"):
        auth_commands.run_init(args, env, io.StringIO(), open_browser=visit)


def test_auth_init_reports_a_declined_consent(sandbox: SandboxServer) -> None:
    admin(sandbox, "oauth/consent", {"approve": False})
    argv = init_args(sandbox)
    argv.remove("--no-browser")
    args = build_parser().parse_args(argv)
    env = {"ATLASSIAN_CLIENT_SECRET": CLIENT_SECRET}
    with (
        browser() as visit,
        pytest.raises(OAuthError, match=r"consent was not given \(access_denied"),
    ):
        auth_commands.run_init(args, env, io.StringIO(), open_browser=visit)
    assert token_calls(sandbox) == []


def test_auth_init_gives_up_after_the_timeout(sandbox: SandboxServer) -> None:
    argv = init_args(sandbox)
    argv[argv.index("20")] = "0.2"
    args = build_parser().parse_args(argv)
    with pytest.raises(OAuthError, match=r"no redirect came back .* within 0.2 s"):
        auth_commands.run_init(args, {"ATLASSIAN_CLIENT_SECRET": CLIENT_SECRET}, io.StringIO())


# -- auth check --------------------------------------------------------------------------------


def check_args(server: SandboxServer, *extra: str) -> list[str]:
    return [
        "auth",
        "check",
        "--token-url",
        token_url(server),
        "--resources-url",
        resources_url(server),
        "--base-url",
        server.base_url,
        "--space",
        DOCS,
        *extra,
    ]


def run_check(
    server: SandboxServer, env: dict[str, str], *extra: str, confirm: bool | None = None
) -> tuple[int, str]:
    args = build_parser().parse_args(check_args(server, *extra))
    out = io.StringIO()
    answer = None if confirm is None else (lambda _question: confirm)
    status = auth_commands.run_check(args, env, out, confirm=answer)
    return status, out.getvalue()


def test_auth_check_refreshes_lists_the_site_and_checks_every_scope(
    sandbox: SandboxServer, http: httpx.Client, run_cli: RunCli
) -> None:
    stored = first_grant(sandbox, http).refresh_token
    assert stored is not None
    result = run_cli(
        *check_args(sandbox, "--client-id", CLIENT_ID, "--yes"),
        ATLASSIAN_CLIENT_SECRET=CLIENT_SECRET,
        APPROVALFLOW_REFRESH_TOKEN=stored,
    )
    assert result.returncode == 0, result.stderr
    out = squeeze(result.stdout)
    assert out.index("Refreshing rotates the refresh token") < out.index("New refresh token")
    new = printed_refresh_token(out)
    assert new != stored
    assert stored not in out
    assert CLIENT_SECRET not in out + result.stderr
    assert "sandbox https://sandbox.atlassian.net 5a1e2b3c-4d5e-4f60-8a7b-9c0d1e2f3a4b" in out
    assert "✓ read:forge-app:confluence" in out
    assert f"✓ read:change-set:custom GET /changeSets?spaceId={DOCS}: 0 change sets" in out
    assert "✓ read:approval:custom" in out
    assert "✓ write:change-set:custom granted (the token's scope lists it; not tried" in out
    assert "✓ write:approval:custom" in out
    assert "✓ run\n✓ change-sets list" in out
    assert "✓ pages submit" in out
    assert "✗" not in out
    exchange_refresh_token(http, token_url(sandbox), CLIENT_ID, CLIENT_SECRET, new)


def test_auth_check_does_not_refresh_without_consent(
    sandbox: SandboxServer, http: httpx.Client
) -> None:
    stored = first_grant(sandbox, http).refresh_token
    assert stored is not None
    admin(sandbox, "calls", method="DELETE")
    env = {"ATLASSIAN_CLIENT_SECRET": CLIENT_SECRET, "APPROVALFLOW_REFRESH_TOKEN": stored}
    with pytest.raises(ConfigError, match="--yes"):
        run_check(sandbox, env, "--client-id", CLIENT_ID)
    with pytest.raises(ConfigError, match="untouched"):
        run_check(sandbox, env, "--client-id", CLIENT_ID, confirm=False)
    assert token_calls(sandbox) == []
    status, out = run_check(sandbox, env, "--client-id", CLIENT_ID, confirm=True)
    assert status == 0
    assert "New refresh token" in out


def test_auth_check_reports_the_scopes_an_access_token_lacks(sandbox: SandboxServer) -> None:
    admin(
        sandbox,
        "tokens",
        {
            "token": "narrow-token",
            "scopes": ["read:forge-app:confluence", "read:change-set:custom"],
        },
    )
    status, printed = run_check(sandbox, {"NARROW": "narrow-token"}, "--access-token-env", "NARROW")
    out = squeeze(printed)
    assert status == 1
    assert "Refreshing" not in out
    assert "narrow-token" not in out
    assert "✓ read:forge-app:confluence" in out
    assert "✓ read:change-set:custom" in out
    assert (
        "✗ read:approval:custom POST /pages/preflight (page 0): "
        "Token is missing required scope: read:approval:custom"
    ) in out
    assert "✗ write:change-set:custom not granted" in out
    assert "✗ write:approval:custom not granted" in out
    assert "✗ run lacks write:change-set:custom" in out
    assert "✓ change-sets list" in out
    assert "✗ pages preflight lacks read:approval:custom" in out


def test_auth_check_without_a_base_url_only_reads_the_scope_list(sandbox: SandboxServer) -> None:
    args = build_parser().parse_args(
        ["auth", "check", "--resources-url", resources_url(sandbox), "--access-token-env", "T"]
    )
    out = io.StringIO()
    status = auth_commands.run_check(args, {"T": "sandbox-token"}, out)
    assert status == 0
    printed = squeeze(out.getvalue())
    assert "- read:change-set:custom not tried: give --base-url" in printed
    assert "- change-sets list not tried: read:change-set:custom" in printed
    assert "✓ change-sets create" in printed


def test_auth_check_can_store_the_new_refresh_token_in_a_secret(
    sandbox: SandboxServer, http: httpx.Client, github: FakeGitHub
) -> None:
    stored = first_grant(sandbox, http).refresh_token
    assert stored is not None
    env = {
        "ATLASSIAN_CLIENT_SECRET": CLIENT_SECRET,
        "APPROVALFLOW_REFRESH_TOKEN": stored,
        "GH_TOKEN": APP_TOKEN,
    }
    status, out = run_check(
        sandbox,
        env,
        "--client-id",
        CLIENT_ID,
        "--yes",
        "--github-repo",
        REPO,
        "--github-api-url",
        github.api_url,
    )
    assert status == 0
    new = github.secret_value(REPO, SECRET_NAME)
    assert new not in out
    assert f"The new one goes into the repository secret {SECRET_NAME} of {REPO}." in out


def test_auth_check_with_a_spent_refresh_token_fails_with_the_recovery_text(
    sandbox: SandboxServer, run_cli: RunCli
) -> None:
    result = run_cli(
        *check_args(sandbox, "--client-id", CLIENT_ID, "--yes"),
        ATLASSIAN_CLIENT_SECRET=CLIENT_SECRET,
        APPROVALFLOW_REFRESH_TOKEN="sbx-rt-long-gone",
    )
    assert result.returncode == 1
    assert "invalid_grant" in result.stderr
    assert f"approvalflow-sync auth init --client-id {CLIENT_ID}" in result.stderr
    assert "sbx-rt-long-gone" not in result.stdout + result.stderr


def test_auth_init_prints_the_token_when_the_secret_cannot_be_written(
    sandbox: SandboxServer, http: httpx.Client, github: FakeGitHub
) -> None:
    argv = init_args(sandbox, "--github-repo", REPO, "--github-api-url", github.api_url)
    argv.remove("--no-browser")
    args = build_parser().parse_args(argv)
    env = {"ATLASSIAN_CLIENT_SECRET": CLIENT_SECRET, "GITHUB_TOKEN": ACTIONS_TOKEN}
    out = io.StringIO()
    with browser() as visit, pytest.raises(SecretWriteError, match="GITHUB_TOKEN never can"):
        auth_commands.run_init(args, env, out, open_browser=visit)
    assert "Here it is instead, shown once" in out.getvalue()
    refresh_token = printed_refresh_token(out.getvalue())
    exchange_refresh_token(http, token_url(sandbox), CLIENT_ID, CLIENT_SECRET, refresh_token)


def test_auth_check_prints_the_base_url_it_verified_and_its_ids(sandbox: SandboxServer) -> None:
    status, printed = run_check(sandbox, {"T": "sandbox-token"}, "--access-token-env", "T")
    out = squeeze(printed)
    assert status == 0
    assert (
        f"ApprovalFlow base URL (verified: the read calls below got through):\n{sandbox.base_url}"
    ) in out
    for name in ("cloud id", "app id", "environment id"):
        assert f"{name}: not in the URL" in out  # the sandbox's URL is a bare host


@pytest.mark.parametrize(("cloud", "note"), [(CLOUD_ID, False), ("0000-other-cloud", True)])
def test_auth_check_reads_the_ids_out_of_the_documented_form(
    sandbox: SandboxServer, cloud: str, note: bool
) -> None:
    url = f"{sandbox.base_url}/svc/confluence/{cloud}/apps/app-7_env-9"
    status, printed = run_check(
        sandbox, {"T": "sandbox-token"}, "--access-token-env", "T", "--base-url", url
    )
    out = squeeze(printed)
    assert status == 1  # that path is no API of the sandbox's: the read calls fail
    assert f"ApprovalFlow base URL (NOT verified: the read calls below failed):\n{url}" in out
    assert f"cloud id: {cloud}" in out
    assert "app id: app-7\nenvironment id: env-9" in out
    assert ("not among the sites this token reaches" in out) is note


# -- a rotated refresh token is never lost -----------------------------------------------------


class ClosedAfterFirstLine(io.StringIO):
    """A stdout whose reader went away after one line, as with ``| head -1``."""

    def write(self, text: str) -> int:
        if "\n" in self.getvalue():
            raise BrokenPipeError(32, "Broken pipe")
        return super().write(text)


def test_auth_check_hands_the_new_token_to_stderr_when_stdout_is_closed(
    sandbox: SandboxServer, http: httpx.Client, capsys: pytest.CaptureFixture[str]
) -> None:
    stored = first_grant(sandbox, http).refresh_token
    assert stored is not None
    env = {"ATLASSIAN_CLIENT_SECRET": CLIENT_SECRET, "APPROVALFLOW_REFRESH_TOKEN": stored}
    args = build_parser().parse_args(check_args(sandbox, "--client-id", CLIENT_ID, "--yes"))
    out = ClosedAfterFirstLine()
    assert auth_commands.run_check(args, env, out) == 0
    assert out.getvalue().startswith("Refreshing rotates the refresh token")
    err = capsys.readouterr().err
    assert "store this one now" in err
    exchange_refresh_token(
        http, token_url(sandbox), CLIENT_ID, CLIENT_SECRET, printed_refresh_token(err)
    )


@pytest.mark.parametrize("command", ["init", "check"])
def test_whatever_fails_while_storing_the_new_token_it_is_printed_with_the_steps(
    sandbox: SandboxServer, http: httpx.Client, monkeypatch: pytest.MonkeyPatch, command: str
) -> None:
    def broken(*args: object, **kwargs: object) -> NoReturn:
        raise RuntimeError("an answer nobody expected")

    monkeypatch.setattr(auth_commands, "write_secret", broken)
    env = {"ATLASSIAN_CLIENT_SECRET": CLIENT_SECRET, "GH_TOKEN": APP_TOKEN}
    out = io.StringIO()
    target = ("--github-repo", REPO, "--github-api-url", "http://127.0.0.1:9")

    def run() -> None:
        if command == "init":
            argv = init_args(sandbox, *target)
            argv.remove("--no-browser")
            with browser() as visit:
                args = build_parser().parse_args(argv)
                auth_commands.run_init(args, env, out, open_browser=visit)
        else:
            env["APPROVALFLOW_REFRESH_TOKEN"] = first_grant(sandbox, http).refresh_token or ""
            argv = check_args(sandbox, "--client-id", CLIENT_ID, "--yes", *target)
            auth_commands.run_check(build_parser().parse_args(argv), env, out)

    with pytest.raises(SecretWriteError, match="unexpected RuntimeError"):
        run()
    assert "Here it is instead, shown once: store it yourself now" in out.getvalue()
    assert "stops working 10 minutes later" in out.getvalue()
    new = printed_refresh_token(out.getvalue())
    exchange_refresh_token(http, token_url(sandbox), CLIENT_ID, CLIENT_SECRET, new)


def test_a_secret_target_with_a_newline_is_refused_before_anything_is_spent(
    sandbox: SandboxServer, http: httpx.Client
) -> None:
    stored = first_grant(sandbox, http).refresh_token or ""
    admin(sandbox, "calls", method="DELETE")
    env = {
        "ATLASSIAN_CLIENT_SECRET": CLIENT_SECRET,
        "APPROVALFLOW_REFRESH_TOKEN": stored,
        "GH_TOKEN": APP_TOKEN,
    }
    for name in ("org:octo-org\n/NAME", "env:../NAME"):
        with pytest.raises(ConfigError):
            run_check(
                sandbox,
                env,
                "--client-id",
                CLIENT_ID,
                "--yes",
                "--github-repo",
                REPO,
                "--secret-name",
                name,
            )
    assert token_calls(sandbox) == []
