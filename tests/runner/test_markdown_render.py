"""Markdown helpers: escaping, code spans, links, tables, limits, markers, JSON."""

from __future__ import annotations

import re

import pytest
from runner_wire import code_span_content, table_cells

from approvalflow_sync.core import markdown as md

ZWSP = md.ZERO_WIDTH_SPACE


# -- text ----------------------------------------------------------------------------------


@pytest.mark.parametrize("char", list("\\`*_{}[]()#+-.!|~:$="))
def test_text_backslash_escapes_markdown_punctuation(char: str) -> None:
    assert md.text(f"a{char}b") == f"a\\{char}b"


@pytest.mark.parametrize(("char", "entity"), [("&", "&amp;"), ("<", "&lt;"), (">", "&gt;")])
def test_text_writes_html_characters_as_entities(char: str, entity: str) -> None:
    assert md.text(f"a{char}b") == f"a{entity}b"


@pytest.mark.parametrize(
    ("raw", "rendered"),
    [
        ("@octocat", f"@{ZWSP}octocat"),
        ("cc @org/team", f"cc @{ZWSP}org/team"),
        ("me@example.com", f"me@{ZWSP}example\\.com"),
        ("fixes #12", f"fixes \\#{ZWSP}12"),
        ("owner/repo#3", f"owner/repo\\#{ZWSP}3"),
        ("GH-7", f"GH{ZWSP}\\-7"),
        ("https://evil.example", f"https\\:{ZWSP}//evil\\.example"),
        ("www.evil.example", f"www{ZWSP}\\.evil\\.example"),
        ("@ alone, # heading", "@ alone, \\# heading"),
    ],
)
def test_text_stops_mentions_references_and_autolinks(raw: str, rendered: str) -> None:
    assert md.text(raw) == rendered


def test_text_puts_everything_on_one_line_and_strips_the_ends() -> None:
    assert md.text("  a\n\n b\r\nc\td\u2028e\x00f  ") == "a b c d\ufffde\ufffdf"


def test_text_replaces_bidirectional_overrides() -> None:
    assert md.text("abc\u202edef") == "abc\ufffddef"


def test_text_of_an_html_comment_or_tag_has_no_raw_angle_bracket() -> None:
    for hostile in ("<!-- approvalflow-sync:sticky -->", "<details><summary>x", "</table>"):
        assert "<" not in md.text(hostile)
        assert ">" not in md.text(hostile)


# -- code ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "span"),
    [
        ("x", "`x`"),
        ("a`b", "``a`b``"),
        ("``", "``` `` ```"),
        ("`x", "`` `x ``"),
        ("x`", "`` x` ``"),
        (" x ", "`  x  `"),
        (" x", "` x`"),
        ("   ", "`   `"),
        ("a\nb", "`a b`"),
        ("a|b", "`a|b`"),
        ("", ""),
    ],
)
def test_code_fences_and_pads_per_commonmark(raw: str, span: str) -> None:
    assert md.code(raw) == span
    if raw:
        assert code_span_content(span) == raw.replace("\n", " ")


# -- link ----------------------------------------------------------------------------------


def test_link_to_an_https_url() -> None:
    assert md.link("The page", "https://x.example/wiki/A") == (
        "[The page](https://x.example/wiki/A)"
    )


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(1)",
        "JAVASCRIPT:alert(1)",
        "data:text/html,<script>",
        "//evil.example",
        "/relative",
        " https://x.example",
        "https://",
        "ftp://x.example",
        "vbscript:x",
    ],
)
def test_link_shows_only_the_label_for_anything_but_http_and_https(url: str) -> None:
    assert md.link("label [x]", url) == "label \\[x\\]"


def test_link_encodes_spaces_parentheses_and_entities_in_the_url() -> None:
    rendered = md.link("a", "https://x.example/a b/(c)?q=<x>&amp;\\é")
    assert rendered == ("[a](https://x.example/a%20b/%28c%29?q=%3Cx%3E&amp;amp;%5C%C3%A9)")


def test_link_keeps_existing_percent_escapes_and_shows_the_url_for_an_empty_label() -> None:
    assert md.link("", "https://x.example/a%20b") == (
        f"[https\\:{ZWSP}//x\\.example/a%20b](https://x.example/a%20b)"
    )


# -- table ---------------------------------------------------------------------------------


def test_table_escapes_pipes_so_every_row_has_its_cells() -> None:
    rows = [
        [md.text("a|b"), md.code("x|y"), md.code("\\|")],
        [md.text("|||"), md.code("`|`"), md.link("p|q", "https://e.example/|")],
        ["line\nbreak", "", "ends with \\"],
    ]
    rendered = md.table(["Title", "Code", "Other"], rows)
    lines = rendered.splitlines()
    assert rendered.endswith("\n")
    assert len(lines) == 2 + len(rows)
    assert all(len(table_cells(line)) == 3 for line in lines)
    assert table_cells(lines[2]) == ["a\\|b", "`x|y`", "`\\|`"]
    assert table_cells(lines[4])[0] == "line break"


# -- truncate ------------------------------------------------------------------------------

NOTE = "**Cut here.** The rest is in the job summary."


def test_truncate_returns_what_fits_unchanged() -> None:
    assert md.truncate("short\n", 100, NOTE) == "short\n"


def test_truncate_cuts_a_comment_at_a_line_boundary_under_65536_characters() -> None:
    row = "| " + md.text("page <x> | @octocat") + " | ✓ |\n"
    body = md.table(["Page", "OK"], []) + row * 3000
    assert len(body) > md.COMMENT_LIMIT
    cut = md.truncate(body, md.COMMENT_LIMIT, NOTE)
    assert len(cut) <= md.COMMENT_LIMIT
    assert len(cut) > md.COMMENT_LIMIT - len(row) - len(NOTE) - 4
    head, note = cut.rsplit("\n\n", 1)
    assert note == NOTE + "\n"
    assert body.startswith(head + "\n")


def test_truncate_measures_bytes_when_asked() -> None:
    body = "é\n" * 1000
    cut = md.truncate(body, 500, "cut", size=md.utf8_size)
    assert md.utf8_size(cut) <= 500
    assert len(cut) < 500


def test_truncate_closes_an_open_code_fence_before_the_note() -> None:
    body = "````text\n" + "line\n" * 100 + "````\nafter\n"
    cut = md.truncate(body, 200, NOTE)
    assert cut.endswith("line\n````\n\n" + NOTE + "\n")
    assert len(cut) <= 200


def test_truncate_does_not_close_a_fence_that_was_closed() -> None:
    body = "```\ncode\n```\n" + "text\n" * 100
    cut = md.truncate(body, 100, NOTE)
    assert cut.startswith("```\ncode\n```\ntext\n")
    assert cut.endswith("text\n\n" + NOTE + "\n")


def test_truncate_drops_a_first_line_longer_than_the_limit() -> None:
    assert md.truncate("x" * 1000 + "\nmore\n", 100, NOTE) == "\n" + NOTE + "\n"


def test_truncate_refuses_a_note_longer_than_the_limit() -> None:
    with pytest.raises(ValueError, match="note"):
        md.truncate("x" * 100, 10, NOTE)


# -- markers -------------------------------------------------------------------------------


def test_comment_marker_is_a_hidden_html_comment() -> None:
    assert md.comment_marker("sticky") == "<!-- approvalflow-sync:sticky -->"


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("<!-- approvalflow-sync:sticky -->\nHello", True),
        ("<!-- approvalflow-sync:sticky -->", True),
        ("<!-- approvalflow-sync:sticky -->\r\nHello", True),
        ("Quoting: <!-- approvalflow-sync:sticky -->", False),
        ("> <!-- approvalflow-sync:sticky -->", False),
        (" <!-- approvalflow-sync:sticky -->", False),
        ("\n<!-- approvalflow-sync:sticky -->", False),
        ("`<!-- approvalflow-sync:sticky -->`", False),
        ("<!-- approvalflow-sync:sticky --> trailing", False),
        ("<!-- approvalflow-sync:stickyx -->", False),
        ("<!-- approvalflow-sync:other -->", False),
        ("", False),
    ],
)
def test_has_marker_only_when_the_body_starts_with_the_marker_line(
    body: str, expected: bool
) -> None:
    assert md.has_marker(body, "sticky") is expected


def test_a_marker_in_untrusted_text_rendered_into_our_comment_does_not_count() -> None:
    body = md.text("<!-- approvalflow-sync:sticky -->") + "\n"
    assert not md.has_marker(body, "sticky")


# -- embedded JSON -------------------------------------------------------------------------


def test_embed_json_cannot_close_or_open_the_comment() -> None:
    data = {"title": "--> <!-- & --!> -", "n": -1}
    line = md.embed_json("state", data)
    inner = line.removeprefix("<!--").removesuffix("-->")
    assert "--" not in inner.replace("<!-- ", "", 1)
    assert not re.search(r"[<>&]", inner)
    assert "\n" not in line
    body = md.comment_marker("state") + "\n" + line + "\nVisible text\n"
    assert md.extract_json(body, "state") == data


def test_extract_json_finds_the_line_anywhere_outside_code_fences() -> None:
    line = md.embed_json("state", {"approved": True})
    assert md.extract_json("Visible\n\n" + line + "\n", "state") == {"approved": True}
    fenced = md.comment_marker("state") + "\n\n```\n" + line + "\n```\n"
    assert md.extract_json(fenced, "state") is None
    after_fence = "~~~~\n" + line + "\n~~~\n~~~~\n" + line + "\n"
    assert md.extract_json(after_fence, "state") == {"approved": True}


def test_extract_json_ignores_what_is_not_a_whole_line_of_its_own() -> None:
    line = md.embed_json("state", {"approved": True})
    for body in (f"> {line}", f" {line}", f"{line} x", md.code(line), md.text(line)):
        assert md.extract_json(body, "state") is None


def test_extract_json_gives_none_when_two_lines_claim_the_kind() -> None:
    body = md.embed_json("state", [1]) + "\n" + md.embed_json("state", [2])
    assert md.extract_json(body, "state") is None


def test_extract_json_finds_its_kind_among_other_hidden_lines() -> None:
    body = "\n".join(
        [
            md.comment_marker("sticky"),
            md.embed_json("other", [1]),
            md.embed_json("sticky", {"a": 1}),
            "visible",
        ]
    )
    assert md.extract_json(body.replace("\n", "\r\n"), "sticky") == {"a": 1}
    assert md.extract_json(body, "missing") is None


def test_extract_json_gives_none_for_corrupt_json() -> None:
    body = "<!-- approvalflow-sync:state:json {broken -->"
    assert md.extract_json(body, "state") is None


def test_embed_json_refuses_what_json_cannot_hold() -> None:
    with pytest.raises(ValueError, match="JSON"):
        md.embed_json("state", float("nan"))
