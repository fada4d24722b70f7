"""The pure workflow-command functions: escaping, command lines, output blocks, plain lines."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from runner_wire import (
    DOTNET_WHITESPACE,
    parse_line,
    parse_output_file,
    runner_lines,
    unescape_data,
    unescape_property,
)

from approvalflow_sync.action.runner import (
    command,
    escape_data,
    escape_property,
    output_block,
    plain_line,
)

FAST = settings(max_examples=100, deadline=None, database=None)

# Pieces that matter to the runner, mixed with arbitrary text by the strategies below.
TRICKY = [
    "::",
    ":",
    "##[",
    "#",
    "[",
    "]",
    "%",
    "%0A",
    "%25",
    "%3A",
    "\n",
    "\r",
    "\r\n",
    " ",
    "\t",
    "\u2028",
    "\u200b",
    "\u00ad",
    "\ufeff",
    "\x1b[31m",
    ",",
    "=",
    "add-mask",
    "warning",
    "stop-commands",
]
tricky_text = st.lists(st.sampled_from(TRICKY) | st.text(max_size=4), max_size=12).map("".join)


@pytest.mark.parametrize(
    ("raw", "escaped"),
    [
        ("%", "%25"),
        ("\r", "%0D"),
        ("\n", "%0A"),
        ("a:b,c", "a:b,c"),
        ("%0A", "%250A"),
        ("100%\r\n", "100%25%0D%0A"),
    ],
)
def test_escape_data_escapes_percent_cr_and_lf(raw: str, escaped: str) -> None:
    assert escape_data(raw) == escaped


@pytest.mark.parametrize(
    ("raw", "escaped"),
    [
        ("%", "%25"),
        ("\r", "%0D"),
        ("\n", "%0A"),
        (":", "%3A"),
        (",", "%2C"),
        ("docs/a b.md", "docs/a b.md"),
        ("%3A:", "%253A%3A"),
    ],
)
def test_escape_property_also_escapes_colon_and_comma(raw: str, escaped: str) -> None:
    assert escape_property(raw) == escaped


@FAST
@given(tricky_text)
def test_the_runner_unescapes_data_and_properties_back_exactly(s: str) -> None:
    assert unescape_data(escape_data(s)) == s
    assert unescape_property(escape_property(s)) == s


def test_command_renders_an_annotation_as_github_documents_it() -> None:
    line = command("warning", "Page 1 is blocked", file="docs/a.md", title="Blocked")
    assert line == "::warning file=docs/a.md,title=Blocked::Page 1 is blocked"


def test_command_skips_properties_that_are_none() -> None:
    line = command("error", "m", file="f", line=1, col=3, title=None)
    assert line == "::error file=f,line=1,col=3::m"


def test_command_without_properties_or_message() -> None:
    assert command("endgroup") == "::endgroup::"
    assert command("group", "Title") == "::group::Title"


@pytest.mark.parametrize("name", ["", "::x", "a b", "a,b", "warn::ing", "x]"])
def test_command_refuses_a_bad_command_name(name: str) -> None:
    with pytest.raises(ValueError, match="command name"):
        command(name, "m")


def test_command_refuses_a_bad_property_name() -> None:
    with pytest.raises(ValueError, match="property name"):
        command("warning", "m", **{"Bad=name": "x"})


@FAST
@given(message=tricky_text, title=tricky_text, file=tricky_text)
def test_command_parses_back_to_exactly_what_was_given(message: str, title: str, file: str) -> None:
    line = command("warning", message, file=file, line=7, title=title)
    [read] = runner_lines(line + "\n")
    parsed = parse_line(read)
    assert parsed is not None
    assert parsed.name == "warning"
    assert parsed.data == message
    # The runner trims the property list (so the last value loses trailing whitespace) and
    # drops properties whose value is empty (RemoveEmptyEntries).
    last = unescape_property(escape_property(title).rstrip(DOTNET_WHITESPACE))
    expected = {"file": file, "line": "7", "title": last}
    assert parsed.properties == {k: v for k, v in expected.items() if v}


def test_output_block_has_githubs_heredoc_shape() -> None:
    assert output_block("pages", "a\nb", "EOF") == "pages<<EOF\na\nb\nEOF\n"


@pytest.mark.parametrize("name", ["", "1abc", "a=b", "a<<b", "a b", "a\nb", "a.b", "ü"])
def test_output_block_refuses_an_invalid_output_name(name: str) -> None:
    with pytest.raises(ValueError, match="output name"):
        output_block(name, "v", "EOF")


def test_output_block_refuses_a_delimiter_that_occurs_in_the_value() -> None:
    with pytest.raises(ValueError, match="occurs in the value"):
        output_block("x", "before\nEOF\nafter", "EOF")
    with pytest.raises(ValueError, match="occurs in the value"):
        output_block("x", "no line of its own: xEOFx", "EOF")


@pytest.mark.parametrize("delimiter", ["", "a\nb", "a\r"])
def test_output_block_refuses_an_empty_or_multi_line_delimiter(delimiter: str) -> None:
    with pytest.raises(ValueError, match="delimiter"):
        output_block("x", "v", delimiter)


@FAST
@given(
    st.lists(
        st.tuples(st.from_regex(r"[A-Za-z_][A-Za-z0-9_-]{0,8}", fullmatch=True), tricky_text),
        max_size=5,
    )
)
def test_output_blocks_parse_back_to_the_exact_values(pairs: list[tuple[str, str]]) -> None:
    blocks = []
    for name, value in pairs:
        delimiter = "ghadelimiter_0123456789abcdef"
        if delimiter in value:
            continue
        blocks.append((name, value, output_block(name, value, delimiter)))
    text = "".join(block for _, _, block in blocks)
    assert parse_output_file(text) == [(name, value) for name, value, _ in blocks]


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("::set-output name=x::y", "%3A:set-output name=x::y"),
        ("  ::error::x", "  %3A:error::x"),
        ("\u200b::warning::x", "\u200b%3A:warning::x"),
        (":\u00ad:warning::x", "%3A\u00ad:warning::x"),
        ("\t\u3000::add-mask::x", "\t\u3000%3A:add-mask::x"),
        ("title\n::warning::x", "title%0A::warning::x"),
        ("a\r::error::x", "a%0D::error::x"),
        ("see ##[error]boom", "see ##%5Berror]boom"),
        ("#\u200b#[add-mask]Failed", "#\u200b#%5Badd-mask]Failed"),
        ("%0A", "%250A"),
        ("\x1b[31mred", "\ufffd[31mred"),
        ("plain: a::b", "plain: a::b"),
    ],
)
def test_plain_line_defuses_every_way_a_line_can_start_a_command(raw: str, shown: str) -> None:
    assert plain_line(raw) == shown
    assert parse_line(shown) is None


@FAST
@given(tricky_text)
def test_plain_line_is_always_one_line_without_a_command(s: str) -> None:
    lines = runner_lines(plain_line(s) + "\n")
    assert len(lines) <= 1
    assert all(parse_line(line) is None for line in lines)


def _decode_plain(line: str) -> str:
    for escaped, raw in (("%0D", "\r"), ("%0A", "\n"), ("%3A", ":"), ("%5B", "["), ("%25", "%")):
        line = line.replace(escaped, raw)
    return line


def _scrubbed(c: str) -> bool:
    if unicodedata.category(c) == "Cc":
        return c not in "\t\r\n"
    return c in "\u2028\u2029" or "\u202a" <= c <= "\u202e" or "\u2066" <= c <= "\u2069"


@FAST
@given(tricky_text.filter(lambda s: not any(_scrubbed(c) for c in s)))
def test_plain_line_escaping_is_reversible(s: str) -> None:
    assert _decode_plain(plain_line(s)) == s
