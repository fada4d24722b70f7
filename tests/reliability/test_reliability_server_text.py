"""A server's error text and a hostile setting, with and without debug logging (issue 12).

The runner obeys workflow commands on stdout *and* stderr, so the traceback printed when
debugging, every library's log records and the job summary all get the same treatment as the
annotations: no line the runner takes for a command but the program's own, no secret unredacted
(the harness checks every stream for every secret after each run), and the summary renders the
server's text literally (no image, no link, no way out of a code span).
"""

from __future__ import annotations

import json
import logging
import re
import sys
from pathlib import Path

import pytest
from reliability_support import ActionRun, Harness, runner_commands

from approvalflow_sync.sandbox import DEFAULT_TOKEN, SandboxServer
from fakes.github import ACTIONS_TOKEN, FakeGitHub

RULE = 'space: "12345"\npages:\n  - path: docs/**\n    page: "67890"\n'
COMMANDS = "refused\n::add-mask::Pull\n::set-output name=pwn::1\n::stop-commands::zz"
MARKUP = '<img src="https://evil.example/x.png"> [click](https://evil.example) a`b``c'
OURS = {"add-mask", "error", "warning", "notice"}
DEBUG = {"off": {}, "on": {"RUNNER_DEBUG": "1"}}


def _check_streams(run: ActionRun) -> None:
    """Only the program's own commands, only on stdout; only our secrets masked."""
    assert runner_commands(run.stderr) == [], run.describe()
    for command in runner_commands(run.stdout):
        assert command.form == "v2", command
        assert command.name in OURS, command
    masked = {c.message for c in run.commands if c.name == "add-mask"}
    assert masked <= {DEFAULT_TOKEN, ACTIONS_TOKEN}, masked
    assert ACTIONS_TOKEN not in run.stdout.replace(f"::add-mask::{ACTIONS_TOKEN}", "")
    assert ACTIONS_TOKEN not in run.stderr


def _outside_code(line: str) -> str:
    """``line`` without its code spans (where markup is shown, not rendered)."""
    return re.sub(r"(`+)(?!`).*?(?<!`)\1(?!`)", "", line)


def _check_summary(summary: str) -> None:
    for line in summary.splitlines():
        rendered = _outside_code(line)
        assert "<img" not in rendered, line
        assert "](https://evil" not in rendered, line
        assert not line.startswith("::"), line


def _run(root: Path, debug: str, **options: object) -> ActionRun:
    with SandboxServer(host="127.0.0.1", port=0) as sandbox, FakeGitHub() as fake:
        h = Harness(root, fake, sandbox)
        try:
            h.write_mapping(RULE)
            # The server echoes a secret of ours (the GitHub token) in both texts.
            text = f"{COMMANDS} {MARKUP} {ACTIONS_TOKEN}"
            busy = json.dumps({"success": False, "error": f"busy {text}"})
            refused = json.dumps({"success": False, "error": text})
            for method, path, status, body in (
                ("GET", "/changeSets", 503, busy),  # retried: quoted in a log record
                ("POST", "/changeSets", 400, refused),  # the error the run ends with
            ):
                fault = {"method": method, "path": path, "status": status, "body": body}
                h.admin("POST", "/faults", {**fault, "contentType": "application/json"})
            event = h.opened(["docs/a.md"])
            return h.run(event, env=DEBUG[debug], **options)
        finally:
            h.close()


@pytest.mark.parametrize("debug", list(DEBUG))
def test_a_servers_error_text_commands_nothing_leaks_nothing_renders_literally(
    tmp_path: Path, debug: str
) -> None:
    run = _run(tmp_path, debug)
    assert run.returncode == 1, run.describe()
    _check_streams(run)
    assert "Pull" not in {c.message for c in run.commands if c.name == "add-mask"}
    assert "retrying" in run.stderr, "the log record quoting the server was written"
    assert ("Traceback" in run.stderr) is (debug == "on"), run.describe()
    (error,) = run.annotations("error")
    assert "::add-mask::Pull" in error.message, "the text is shown, as data"
    _check_summary(run.summary)
    assert "refused" in run.summary


@pytest.mark.parametrize("debug", list(DEBUG))
def test_a_mapping_path_with_line_breaks_commands_nothing(tmp_path: Path, debug: str) -> None:
    name = f"docs/x\n{COMMANDS}\n{MARKUP}.yml"
    run = _run(tmp_path, debug, inputs={"mapping-file": name})
    assert run.returncode == 2, run.describe()
    _check_streams(run)
    assert ("Traceback" in run.stderr) is (debug == "on"), run.describe()
    _check_summary(run.summary)
    assert "does not exist" in run.summary


def test_an_unexpected_error_is_one_annotation_and_a_defused_redacted_traceback(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from approvalflow_sync.action import run as action  # noqa: PLC0415 - the program in process

    def broken(env: object, runner: object) -> int:
        logging.getLogger("some.library").warning("quoting %s", f"{COMMANDS} {ACTIONS_TOKEN}")
        raise RuntimeError(f"{COMMANDS} {ACTIONS_TOKEN}")

    monkeypatch.setattr(action, "_main", broken)
    env = {"GITHUB_ACTIONS": "true", "INPUT_GITHUB-TOKEN": ACTIONS_TOKEN}
    assert action.main(env, sys.stdout) == 1
    out, err = capsys.readouterr()
    assert runner_commands(err) == []
    assert [c.name for c in runner_commands(out)] == ["add-mask", "error"]
    assert "Traceback" in err
    assert "quoting" in err
    assert ACTIONS_TOKEN not in err
    assert ACTIONS_TOKEN not in out.replace(f"::add-mask::{ACTIONS_TOKEN}", "")
