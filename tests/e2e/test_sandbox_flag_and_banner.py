"""The sandbox in one flag: ``--sandbox URL`` (or ``APPROVALFLOW_SANDBOX``) for ``auth``, and a
banner that prints every URL the sandbox serves with commands that work as printed."""

from __future__ import annotations

import io
import re
import shlex
import signal
import subprocess
import sys
from collections.abc import Iterator

import httpx
import pytest

from approvalflow_sync.approvalflow.oauth import exchange_refresh_token
from approvalflow_sync.cli import auth as auth_commands
from approvalflow_sync.cli.auth import ATLASSIAN, AuthURLs, auth_urls
from approvalflow_sync.cli.main import build_parser
from approvalflow_sync.errors import ConfigError
from approvalflow_sync.sandbox import DEFAULT_TOKEN, SandboxServer
from approvalflow_sync.sandbox.oauth import DEFAULT_CLIENT_ID as CLIENT_ID
from approvalflow_sync.sandbox.oauth import DEFAULT_CLIENT_SECRET as CLIENT_SECRET
from conftest import RunCli, browser, clean_env, interruptible

HERE = "http://127.0.0.1:9"
IN_HERE = AuthURLs(
    f"{HERE}/authorize", f"{HERE}/oauth/token", f"{HERE}/oauth/token/accessible-resources", HERE
)


def urls(*argv: str, **env: str) -> AuthURLs:
    return auth_urls(build_parser().parse_args(["auth", *argv]), env)


def test_the_flag_or_the_variable_points_all_three_urls_at_the_sandbox() -> None:
    assert urls("check", "--sandbox", HERE + "/") == IN_HERE
    assert urls("check", APPROVALFLOW_SANDBOX=HERE) == IN_HERE
    assert urls("init", "--client-id", "c", APPROVALFLOW_SANDBOX=HERE) == IN_HERE
    assert urls("check", "--sandbox", HERE, APPROVALFLOW_SANDBOX="http://127.0.0.1:1") == IN_HERE


def test_a_url_flag_given_wins_and_without_a_sandbox_the_urls_are_atlassians() -> None:
    given = urls("check", "--sandbox", HERE, "--token-url", "http://127.0.0.1:2/t")
    assert (given.authorize, given.token) == (IN_HERE.authorize, "http://127.0.0.1:2/t")
    assert urls("check") == ATLASSIAN
    assert ATLASSIAN.token == "https://auth.atlassian.com/oauth/token"
    assert ATLASSIAN.consent_command == "approvalflow-sync auth init"
    assert IN_HERE.consent_command == f"approvalflow-sync auth init --sandbox {HERE}"


def test_a_bad_sandbox_url_names_where_it_came_from() -> None:
    with pytest.raises(ConfigError, match=r"^APPROVALFLOW_SANDBOX: 'sandbox' is not an absolute"):
        urls("check", APPROVALFLOW_SANDBOX="sandbox")
    with pytest.raises(ConfigError, match=r"^--sandbox: .* uses plain http"):
        urls("check", "--sandbox", "http://example.com")


def test_auth_init_needs_only_the_sandbox_flag(sandbox: SandboxServer) -> None:
    args = build_parser().parse_args(
        ["auth", "init", "--client-id", CLIENT_ID, "--port", "0", "--sandbox", sandbox.base_url]
    )
    out = io.StringIO()
    with browser() as visit:
        status = auth_commands.run_init(
            args, {"ATLASSIAN_CLIENT_SECRET": CLIENT_SECRET}, out, open_browser=visit
        )
    assert status == 0
    assert f"{sandbox.base_url}/authorize?" in out.getvalue()
    (token,) = [line for line in out.getvalue().splitlines() if line.startswith("sbx-rt-")]
    with httpx.Client(trust_env=False) as http:  # the refresh token works at the sandbox
        exchange_refresh_token(
            http, f"{sandbox.base_url}/oauth/token", CLIENT_ID, CLIENT_SECRET, token
        )


def test_auth_check_with_the_sandbox_variable_reads_the_sandbox(
    sandbox: SandboxServer, run_cli: RunCli
) -> None:
    result = run_cli(
        "auth", "check", APPROVALFLOW_SANDBOX=sandbox.base_url, APPROVALFLOW_BASE_URL=""
    )
    assert result.returncode == 0, result.stderr
    assert f"(read calls against {sandbox.base_url})" in result.stdout
    assert "✗" not in result.stdout


def test_the_invalid_grant_advice_keeps_the_sandbox(
    sandbox: SandboxServer, run_cli: RunCli
) -> None:
    result = run_cli(
        *("auth", "check", "--sandbox", sandbox.base_url, "--client-id", CLIENT_ID, "--yes"),
        ATLASSIAN_CLIENT_SECRET=CLIENT_SECRET,
        APPROVALFLOW_REFRESH_TOKEN="sbx-rt-long-gone",
    )
    assert result.returncode == 1
    assert "invalid_grant" in result.stderr
    advice = f"`approvalflow-sync auth init --sandbox {sandbox.base_url} --client-id {CLIENT_ID}`"
    assert advice in result.stderr


@pytest.fixture
def banner() -> Iterator[list[str]]:
    """The lines ``approvalflow-sync sandbox`` prints, while it keeps serving."""
    command = [sys.executable, "-m", "approvalflow_sync", "sandbox", "--port", "0"]
    with subprocess.Popen(
        command,
        env=clean_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=interruptible,  # noqa: PLW1509 - one signal() call before exec
    ) as process:
        assert process.stdout is not None
        lines: list[str] = []
        try:
            while not lines or not lines[-1].startswith("Stop it with Ctrl-C"):
                lines.append(process.stdout.readline().rstrip("\n"))
                assert lines[-1] or process.poll() is None, lines
            yield lines
        finally:
            process.send_signal(signal.SIGINT)
            process.communicate(timeout=10)
    assert process.returncode == 0


def test_the_banner_prints_every_url_and_each_is_served(banner: list[str]) -> None:
    text = "\n".join(banner)
    base = banner[0].split()[-1]
    labelled = dict(
        re.findall(r"^  (API base URL|authorize URL|token URL|accessible resources|admin) +(\S+)",
                   text, re.MULTILINE)
    )  # fmt: skip
    assert labelled == {
        "API base URL": base,
        "authorize URL": f"{base}/authorize",
        "token URL": f"{base}/oauth/token",
        "accessible resources": f"{base}/oauth/token/accessible-resources",
        "admin": f"{base}/_sandbox/state",
    }
    bearer = {"Authorization": f"Bearer {DEFAULT_TOKEN}"}
    with httpx.Client(trust_env=False, timeout=5) as http:
        listed = http.get(f"{labelled['API base URL']}/changeSets?spaceId=12345", headers=bearer)
        assert listed.json()["success"] is True
        assert "text/html" in http.get(labelled["authorize URL"]).headers["content-type"]
        refused = http.post(labelled["token URL"], json={"grant_type": "refresh_token"})
        assert "error" in refused.json()
        sites = http.get(labelled["accessible resources"], headers=bearer).json()
        assert sites[0]["id"]
        assert http.get(labelled["admin"]).json()["spaces"]
    assert f"client secret: {CLIENT_SECRET}" in text
    assert f"export APPROVALFLOW_SANDBOX={base}" in text


def test_the_banner_s_commands_work_as_printed(banner: list[str]) -> None:
    commands = [line.strip() for line in banner if "approvalflow-sync " in line]
    assert len(commands) >= 4
    for command in commands:
        words = shlex.split(command)
        words = words[words.index("approvalflow-sync") + 1 :]  # after any VAR=value
        build_parser(words).parse_args(words)  # every one parses
    for wanted in ("change-sets list", "auth check"):
        (command,) = [c for c in commands if f"approvalflow-sync {wanted}" in c]
        env_words = shlex.split(command)
        cut = env_words.index("approvalflow-sync")
        env = dict(word.split("=", 1) for word in env_words[:cut])
        result = subprocess.run(
            [sys.executable, "-m", "approvalflow_sync", *env_words[cut + 1 :]],
            env=clean_env(**env),
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert result.returncode == 0, (command, result.stderr)
