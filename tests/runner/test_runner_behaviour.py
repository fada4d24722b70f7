"""The Runner: masks, annotations and their folding, groups, stop-commands, outputs, summary."""

from __future__ import annotations

import io
import itertools
import logging
from collections.abc import Callable
from pathlib import Path

import pytest
from runner_wire import Command, commands, parse_output_file, runner_lines

from approvalflow_sync.action.runner import (
    ANNOTATIONS_SHOWN,
    SUMMARY_CUT_NOTE,
    PlainLineFormatter,
    Runner,
)
from approvalflow_sync.core import markdown

ACTIONS = {"GITHUB_ACTIONS": "true"}


def counter_tokens() -> Callable[[], str]:
    numbers = itertools.count(1)
    return lambda: f"token{next(numbers):04d}"


class FlushCounting(io.StringIO):
    """A log that counts flushes and remembers what was written before each."""

    def __init__(self) -> None:
        super().__init__()
        self.flushed_at: list[int] = []

    def flush(self) -> None:
        self.flushed_at.append(len(self.getvalue()))
        super().flush()


@pytest.fixture
def out() -> io.StringIO:
    return io.StringIO()


@pytest.fixture
def files(tmp_path: Path) -> dict[str, str]:
    return {
        **ACTIONS,
        "GITHUB_OUTPUT": str(tmp_path / "output"),
        "GITHUB_STEP_SUMMARY": str(tmp_path / "summary"),
    }


def read(path: str) -> str:
    """A file's text exactly as written (no newline translation)."""
    return Path(path).read_bytes().decode("utf-8")


# -- masks and redaction -------------------------------------------------------------------


def test_mask_prints_add_mask_once_per_distinct_value(out: io.StringIO) -> None:
    runner = Runner(out, ACTIONS)
    runner.mask("s3cret")
    runner.mask("s3cret")
    runner.mask("")
    runner.mask("other")
    assert out.getvalue() == "::add-mask::s3cret\n::add-mask::other\n"


def test_mask_masks_each_line_of_a_multi_line_secret_and_skips_blank_lines(
    out: io.StringIO,
) -> None:
    runner = Runner(out, ACTIONS)
    runner.mask("-----BEGIN KEY-----\r\nabc\n\n   \ndef\n")
    assert [(c.name, c.data) for c in commands(out.getvalue())] == [
        ("add-mask", "-----BEGIN KEY-----"),
        ("add-mask", "abc"),
        ("add-mask", "def"),
    ]
    assert runner.redact("x abc y\ndef") == "x *** y\n***"


def test_mask_escapes_the_value_so_the_runner_masks_exactly_it(out: io.StringIO) -> None:
    runner = Runner(out, ACTIONS)
    runner.mask("p%0Ass")
    [mask] = commands(out.getvalue())
    assert mask.data == "p%0Ass"


def test_mask_prints_nothing_outside_actions_but_still_redacts(out: io.StringIO) -> None:
    runner = Runner(out, {})
    runner.mask("s3cret")
    assert out.getvalue() == ""
    assert runner.redact("token s3cret") == "token ***"


def test_redact_prefers_the_longest_masked_value() -> None:
    runner = Runner(io.StringIO(), {})
    runner.mask("abc")
    runner.mask("abcdef")
    assert runner.redact("abcdef abc") == "*** ***"


def test_redact_hides_secrets_in_every_line_and_file_the_runner_writes(
    out: io.StringIO, files: dict[str, str]
) -> None:
    secret = "ghs_S3CRET"
    runner = Runner(out, files, token_factory=counter_tokens())
    runner.mask(secret)
    mask_line = out.getvalue()
    runner.info(f"token is {secret}")
    runner.info(f"escaped form {secret[:3]}%{secret[3:]}")
    runner.warning(f"m {secret}", title=f"t {secret}", file=f"{secret}.md")
    runner.notice(secret)
    runner.set_output("token", f"value {secret}\nline 2 {secret}")
    runner.append_summary(f"# Summary {secret}\n")
    runner.close()
    log = out.getvalue()[len(mask_line) :]
    written = read(files["GITHUB_OUTPUT"]) + read(files["GITHUB_STEP_SUMMARY"])
    for text in (log, written, runner.summary, *runner.outputs.values()):
        assert secret not in text
    assert "***" in log
    assert parse_output_file(read(files["GITHUB_OUTPUT"])) == [("token", "value ***\nline 2 ***")]


def test_redact_also_applies_after_escaping(out: io.StringIO) -> None:
    runner = Runner(out, ACTIONS)
    runner.mask("a%25b")
    start = len(out.getvalue())
    runner.info("a%b")
    assert out.getvalue()[start:] == "***\n"


# -- annotations ---------------------------------------------------------------------------


def test_annotations_escape_untrusted_message_and_properties(out: io.StringIO) -> None:
    runner = Runner(out, ACTIONS)
    runner.error("line 1\n::warning::x", title="a,b:c", file="docs/x,y.md", line=3, col=2)
    assert commands(out.getvalue()) == [
        Command(
            "error",
            {"file": "docs/x,y.md", "line": "3", "col": "2", "title": "a,b:c"},
            "line 1\n::warning::x",
        )
    ]


def test_ten_warnings_are_all_shown(out: io.StringIO) -> None:
    with Runner(out, ACTIONS) as runner:
        for n in range(ANNOTATIONS_SHOWN):
            runner.warning(f"w{n}")
    assert [c.data for c in commands(out.getvalue())] == [f"w{n}" for n in range(10)]


def test_past_ten_of_a_kind_the_rest_fold_into_one_last_annotation(out: io.StringIO) -> None:
    with Runner(out, ACTIONS) as runner:
        for n in range(25):
            runner.error(f"page {n} is blocked", file=f"docs/{n}.md", title="Blocked")
        for n in range(3):
            runner.warning(f"w{n}")
    found = commands(out.getvalue())
    errors = [c for c in found if c.name == "error"]
    assert len(errors) == ANNOTATIONS_SHOWN
    assert [c.properties["file"] for c in errors[:9]] == [f"docs/{n}.md" for n in range(9)]
    folded = errors[-1]
    assert folded.properties == {"title": "16 more errors"}
    assert folded.data.startswith("… and 16 more errors not shown here")
    assert "- docs/9.md: Blocked" in folded.data
    assert "- docs/24.md: Blocked" in folded.data
    assert [c.data for c in found if c.name == "warning"] == ["w0", "w1", "w2"]


def test_the_folded_annotation_lists_at_most_twenty(out: io.StringIO) -> None:
    runner = Runner(out, ACTIONS)
    for n in range(40):
        runner.warning("blocked", file=f"f{n}")
    runner.close()
    runner.close()
    folded = commands(out.getvalue())[-1]
    assert folded.data.splitlines()[0].startswith("… and 31 more warnings not shown here")
    assert folded.data.splitlines()[-1] == "- … and 11 more"
    assert len(commands(out.getvalue())) == ANNOTATIONS_SHOWN


def test_annotations_outside_actions_are_plain_lines(out: io.StringIO) -> None:
    runner = Runner(out, {})
    for n in range(12):
        runner.warning(f"::error::{n}", title="T", file="a.md", line=n)
    runner.close()
    lines = runner_lines(out.getvalue())
    assert len(lines) == 12
    assert lines[0] == "Warning: a.md:0: T: ::error::0"
    assert commands(out.getvalue()) == []


# -- info and flushing ----------------------------------------------------------------


def test_every_line_is_flushed_as_it_is_written() -> None:
    log = FlushCounting()
    runner = Runner(log, ACTIONS)
    runner.info("one")
    runner.warning("two")
    runner.error("three")
    ends = list(itertools.accumulate(len(line) + 1 for line in log.getvalue().splitlines()))
    assert len(ends) == 3
    assert log.flushed_at == ends


# -- outputs -------------------------------------------------------------------------------


def test_set_output_appends_heredoc_blocks_that_parse_back(files: dict[str, str]) -> None:
    runner = Runner(io.StringIO(), files)
    values = {"plain": "x", "multi": "a\nb\r\nc\n", "empty": "", "hostile": "x<<EOF\nEOF\n=y"}
    for name, value in values.items():
        runner.set_output(name, value)
    assert parse_output_file(read(files["GITHUB_OUTPUT"])) == list(values.items())
    assert runner.outputs == values


def test_set_output_without_the_file_only_remembers(tmp_path: Path) -> None:
    runner = Runner(io.StringIO(), ACTIONS)
    runner.set_output("x", "1")
    runner.set_output("x", "2")
    assert runner.outputs == {"x": "2"}
    assert list(tmp_path.iterdir()) == []


def test_set_output_picks_another_delimiter_when_the_value_holds_one(
    files: dict[str, str],
) -> None:
    runner = Runner(io.StringIO(), files, token_factory=counter_tokens())
    runner.set_output("x", "ghadelimiter_token0001")
    text = read(files["GITHUB_OUTPUT"])
    assert text.startswith("x<<ghadelimiter_token0002\n")
    assert parse_output_file(text) == [("x", "ghadelimiter_token0001")]


def test_set_output_gives_up_on_a_token_factory_that_always_collides(
    files: dict[str, str],
) -> None:
    runner = Runner(io.StringIO(), files, token_factory=lambda: "same")
    with pytest.raises(ValueError, match="delimiter"):
        runner.set_output("x", "ghadelimiter_same")


def test_set_output_refuses_an_invalid_name(files: dict[str, str]) -> None:
    with pytest.raises(ValueError, match="output name"):
        Runner(io.StringIO(), files).set_output("a=b", "v")


# -- summary -------------------------------------------------------------------------------


def test_append_summary_appends_to_the_file(files: dict[str, str]) -> None:
    runner = Runner(io.StringIO(), files)
    runner.append_summary("# One")
    runner.append_summary("two\n")
    assert read(files["GITHUB_STEP_SUMMARY"]) == "# One\ntwo\n"
    assert runner.summary == "# One\ntwo\n"


def test_summary_is_cut_with_a_note_at_one_mebibyte(files: dict[str, str]) -> None:
    summary = Path(files["GITHUB_STEP_SUMMARY"])
    summary.write_text("written by an earlier command of this step\n")
    runner = Runner(io.StringIO(), files)
    row = "| é | " + "x" * 90 + " |\n"
    for _ in range(3):
        runner.append_summary(row * 5000)
    runner.append_summary("dropped after the cut\n")
    size = summary.stat().st_size
    assert markdown.SUMMARY_LIMIT - 200 < size <= markdown.SUMMARY_LIMIT
    text = read(str(summary))
    earlier = "written by an earlier command of this step\n"
    ending = "\n" + SUMMARY_CUT_NOTE + "\n"
    assert text.startswith(earlier)
    assert text.endswith(ending)
    rows = text[len(earlier) : -len(ending)]
    assert rows == row * (len(rows) // len(row)), "cut at a line boundary"


def test_summary_without_the_file_is_capped_the_same_way() -> None:
    runner = Runner(io.StringIO(), {}, summary_limit=1000)
    runner.append_summary("line\n" * 300)
    assert markdown.utf8_size(runner.summary) <= 1000
    assert runner.summary.endswith(SUMMARY_CUT_NOTE + "\n")


def test_log_records_are_one_plain_line_whatever_text_they_quote() -> None:
    record = logging.LogRecord(
        "x", logging.WARNING, __file__, 1, "retrying: %s", ("boom\n::error::forged",), None
    )
    line = PlainLineFormatter("approvalflow-sync: %(message)s").format(record)
    assert "\n" not in line
    assert line.startswith("approvalflow-sync: retrying: boom")
    assert "\n::error::" not in line
