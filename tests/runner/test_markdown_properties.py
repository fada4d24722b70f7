"""Properties of the markdown helpers over arbitrary and adversarial text (hypothesis)."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st
from runner_wire import code_span_content, table_cells

from approvalflow_sync.core import markdown as md
from approvalflow_sync.safe_text import scrub

FAST = settings(max_examples=100, deadline=None, database=None)

PIECES = [
    "`",
    "``",
    "```",
    " ",
    "\n",
    "\r\n",
    "|",
    "\\",
    "\\|",
    "::",
    ":",
    "<!--",
    "-->",
    "--",
    "<",
    ">",
    "&",
    "&amp;",
    "@",
    "#1",
    "https://",
    "www.",
    "\u2028",
    "\u202e",
    '"',
    "\u00e9",
    "\U0001f600",
]
adversarial = st.lists(st.sampled_from(PIECES) | st.text(max_size=3), max_size=15).map("".join)

json_data = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | adversarial,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(adversarial, children, max_size=4)
    ),
    max_leaves=12,
)


@FAST
@given(adversarial.filter(lambda s: s != ""))
def test_code_shows_exactly_the_text_with_line_breaks_as_spaces(s: str) -> None:
    """Exactly, but for the characters no text of ours shows (the one scrubber's)."""
    span = md.code(s)
    assert "\n" not in span
    assert "\r" not in span
    expected = scrub(re.sub(r"\r\n|\r|\n", " ", s))
    assert code_span_content(span) == expected


@FAST
@given(adversarial)
def test_text_is_one_line_without_html_and_never_starts_a_command(s: str) -> None:
    rendered = md.text(s)
    assert len(rendered.splitlines()) <= 1
    assert "\r" not in rendered
    assert "\n" not in rendered
    assert "<" not in rendered
    assert ">" not in rendered
    assert not rendered.lstrip().startswith("::")
    assert not re.search(r"(?<!\\)(?:\\\\)*[|`*_\[\]]", rendered), "an unescaped markdown char"
    assert not re.search(r"@[A-Za-z0-9]", rendered)


@FAST
@given(st.lists(st.lists(adversarial, min_size=3, max_size=3), max_size=4))
def test_table_rows_always_have_the_header_count_of_cells(raw: list[list[str]]) -> None:
    rows = [[md.text(a), md.code(b), c] for a, b, c in raw]
    rendered = md.table(["A", "B", "C"], rows)
    lines = re.split(r"\r\n|\r|\n", rendered.removesuffix("\n"))  # CommonMark line ends
    assert len(lines) == 2 + len(rows)
    for line in lines:
        assert len(table_cells(line)) == 3


@FAST
@given(adversarial, adversarial)
def test_link_is_a_link_only_to_http_or_https(label: str, url: str) -> None:
    rendered = md.link(label, url)
    if not re.match(r"(?i)https?://", url):
        assert rendered == (md.text(label) or md.text(url))


@FAST
@given(json_data)
def test_embedded_json_round_trips_exactly_and_stays_one_hidden_line(data: object) -> None:
    line = md.embed_json("state", data)
    assert "\n" not in line
    assert line.count("-->") == 1
    assert line.endswith(" -->")
    assert "<" not in line[4:]
    body = md.comment_marker("state") + "\n" + line + "\n" + md.text(str(data)) + "\n"
    assert md.extract_json(body, "state") == data


@FAST
@given(adversarial, st.integers(min_value=40, max_value=400))
def test_truncate_always_respects_the_limit(s: str, limit: int) -> None:
    body = (s + "\n") * 20
    cut = md.truncate(body, limit, "cut", size=md.utf8_size)
    assert md.utf8_size(cut) <= limit
