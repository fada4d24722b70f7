"""Least privilege: each command's help names its scopes, and ``auth check`` says per command
which ones work with the token at hand."""

from __future__ import annotations

import io

import pytest
from auth_helpers import DOCS, admin, resources_url

from approvalflow_sync.approvalflow.scopes import COMMAND_SCOPES, CONSENT_SCOPES, OFFLINE_ACCESS
from approvalflow_sync.cli import auth as auth_commands
from approvalflow_sync.cli.main import build_parser, main
from approvalflow_sync.sandbox import SandboxServer


@pytest.mark.parametrize("command", list(COMMAND_SCOPES))
def test_each_command_help_names_the_scopes_it_needs(
    command: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        main([*command.split(), "--help"])
    assert exited.value.code == 0
    text = "".join(capsys.readouterr().out.split())  # argparse wraps lines at hyphens
    assert f"NeedstheOAuthscopes{','.join(COMMAND_SCOPES[command])}." in text


def test_the_action_scopes_alone_pass_auth_check_and_name_what_pages_lack(
    sandbox: SandboxServer,
) -> None:
    action_scopes = [scope for scope in CONSENT_SCOPES if scope != OFFLINE_ACCESS]
    admin(sandbox, "tokens", {"token": "action-token", "scopes": action_scopes})
    argv = ["auth", "check", "--resources-url", resources_url(sandbox), "--access-token-env", "T"]
    args = build_parser().parse_args([*argv, "--base-url", sandbox.base_url, "--space", DOCS])
    out = io.StringIO()
    status = auth_commands.run_check(args, {"T": "action-token"}, out)
    printed = "\n".join(" ".join(line.split()) for line in out.getvalue().splitlines())
    assert status == 0, printed
    assert "✓ run\n" in printed
    assert "✓ change-sets submit\n" in printed
    assert "✗ pages preflight lacks read:approval:custom" in printed
    assert "✗ pages submit lacks write:approval:custom" in printed
    assert "✗ record lacks read:approval:custom" in printed
