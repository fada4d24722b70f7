"""A hostile pull-request title through every surface: log, annotations, outputs, markdown."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from runner_wire import Command, commands, parse_output_file, runner_lines, table_cells

from approvalflow_sync.action.runner import Runner
from approvalflow_sync.core import markdown as md

HOSTILE = [
    "::set-output name=x::y",
    "::add-mask::",
    "::add-mask::Failed",
    "::error::",
    "::stop-commands::pwned",
    "\n::warning::x",
    "title\r::error file=a::x",
    "  \t::warning::indented",
    "\u200b::warning::zero-width",
    "say ##[add-mask]Failed here",
    "##[set-output name=x;]y",
    "%0A::warning::encoded",
    "%25 %3A %2C",
    "$(rm -rf /)",
    "`rm -rf /` ``` ~~~",
    "a | b || c",
    "<!-- approvalflow-sync:sticky -->",
    "<img src=x onerror=alert(1)>",
    "<details><summary>open",
    "[link](javascript:alert(1))",
    "@octocat and @org/team",
    "fixes #1 and owner/repo#2",
    "\x1b[8mhidden\x1b[0m",
    "next\u2028::warning::line separator",
    "-->\n<!--",
]
TITLE = "Fix: " + " ".join(HOSTILE)


def shown(s: str) -> str:
    """``s`` as the log shows it: controls other than tab, CR, LF (and line separators)
    become U+FFFD."""
    return re.sub("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u2028\u2029]", "\ufffd", s)


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {
        "GITHUB_ACTIONS": "true",
        "GITHUB_OUTPUT": str(tmp_path / "output"),
        "GITHUB_STEP_SUMMARY": str(tmp_path / "summary"),
    }


@pytest.mark.parametrize("title", [*HOSTILE, TITLE])
def test_a_hostile_title_starts_no_command_of_its_own(env: dict[str, str], title: str) -> None:
    out = io.StringIO()
    with Runner(out, env, token_factory=lambda: "0123abcd" * 4) as runner:
        runner.info(f"Syncing {title}")
        runner.info(title)
        runner.warning(title, title=title, file=title, line=1)
        runner.error(f"Blocked: {title}")
        runner.notice(title, title="Page")
        runner.info(title)
        runner.set_output("title", title)
    logged = shown(title)
    expected = [
        Command("warning", {"file": logged, "line": "1", "title": logged}, logged),
        Command("error", {}, f"Blocked: {logged}"),
        Command("notice", {"title": "Page"}, logged),
    ]
    found = commands(out.getvalue())
    # The runner trims the property list: the last value (title) loses trailing whitespace.
    assert [c.name for c in found] == [c.name for c in expected]
    for got, want in zip(found, expected, strict=True):
        assert got.data == want.data
        assert got.properties.keys() <= want.properties.keys()
        for key, value in got.properties.items():
            assert value.rstrip() == want.properties[key].rstrip()
    plain = [line for line in runner_lines(out.getvalue()) if not line.startswith("::")]
    assert len(plain) == 3
    assert parse_output_file(Path(env["GITHUB_OUTPUT"]).read_bytes().decode()) == [("title", title)]
    assert runner.outputs == {"title": title}


def test_a_hostile_title_rendered_as_markdown_stays_literal() -> None:
    text, code = md.text(TITLE), md.code(TITLE)
    assert "<" not in text
    assert ">" not in text
    assert "\n" not in text
    assert "\n" not in code
    assert not text.startswith(":")
    assert "@octocat" not in text
    assert "#1" not in text
    assert md.link(TITLE, "javascript:alert(1)") == text
    assert md.link("x", TITLE) == "x"
    rows = [[text, code, md.link(TITLE, "https://x.example/a (b)")]] * 3
    table = md.table(["Title", "Code", "Link"], rows)
    lines = re.split(r"\r\n|\r|\n", table.removesuffix("\n"))  # CommonMark line ends
    assert len(lines) == 5
    for line in lines:
        cells = table_cells(line)
        assert len(cells) == 3
    title_cell, code_cell, link_cell = table_cells(lines[2])
    assert title_cell == text
    assert code_cell == code
    assert "<" not in link_cell
    assert not md.has_marker(table, "sticky")


def test_a_hostile_title_in_a_sticky_comment_cannot_fake_the_marker_or_state() -> None:
    body = "\n".join(
        [
            md.comment_marker("sticky"),
            md.embed_json("sticky", {"title": TITLE}),
            md.text(TITLE),
            md.code(md.embed_json("sticky", {"approved": True})),
        ]
    )
    assert md.has_marker(body, "sticky")
    assert md.extract_json(body, "sticky") == {"title": TITLE}
    assert [line for line in body.splitlines() if line.startswith("<!--")] == body.splitlines()[:2]
