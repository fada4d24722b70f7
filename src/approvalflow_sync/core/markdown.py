"""GitHub-flavoured markdown built from untrusted text (pull request titles, branch and file
names), rendered literally: no formatting, HTML, links or notifications.

A zero-width space (``&#8203;``) after ``@``, ``#`` and the like keeps the text looking the same
while GitHub makes no @mention, cross-reference or autolink (Dependabot's trick). Emoji
shortcodes and commit SHAs are left alone: harmless. Hidden HTML comments (:func:`comment_marker`,
:func:`embed_json`) let the program find its own comment and keep state in it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from urllib.parse import quote

from approvalflow_sync.safe_text import scrub

COMMENT_LIMIT = 65_536
"""The most characters GitHub accepts in an issue or pull-request comment body."""
SUMMARY_LIMIT = 1024 * 1024
"""The most bytes (UTF-8) of job summary GitHub accepts from one step."""
ZERO_WIDTH_SPACE = "&#8203;"
MARKER_APP = "approvalflow-sync"

_NEWLINE = re.compile(r"\r\n|\r|\n")
_SPACES = re.compile(r"\s+")
_BACKTICKS = re.compile(r"`+")
# After each match GitHub would act on what follows: a mention, an issue reference, an autolink.
_BREAK = re.compile(r"@(?=[A-Za-z0-9])|#(?=[0-9])|:(?=//)|(?i:www)(?=\.)|(?i:gh)(?=-[0-9])")
_MARKDOWN_ESCAPES = str.maketrans(
    {
        **{c: "\\" + c for c in "\\`*_{}[]()#+-.!|~:$="},
        "&": "&amp;",
        "<": "&lt;",
        ">": "&gt;",
    }
)
_HTTP_URL = re.compile(r"https?://[^\s/?#]", re.IGNORECASE)
_URL_SAFE = "!#$%&'*+,/:;=?@[]~"
_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+")
_FENCE = re.compile(r" {0,3}(`{3,}|~{3,})(.*)")


def _one_line(s: str) -> str:
    """``s`` scrubbed, on one line: whitespace runs become one space, as HTML renders them."""
    return _SPACES.sub(" ", scrub(s)).strip()


def text(s: str) -> str:
    """``s`` as inline markdown that renders literally, on one line, with a zero-width space
    wherever GitHub would act. Safe in a paragraph, a list item, a table cell and a link label.
    """
    s = _one_line(s)
    pieces: list[str] = []
    start = 0
    for match in _BREAK.finditer(s):
        pieces.append(s[start : match.end()].translate(_MARKDOWN_ESCAPES))
        start = match.end()
    pieces.append(s[start:].translate(_MARKDOWN_ESCAPES))
    return ZERO_WIDTH_SPACE.join(pieces)


def code(s: str) -> str:
    """``s`` as an inline code span that shows exactly ``s`` (line breaks become spaces); an
    empty ``s`` gives ``""``, as CommonMark has no empty code span."""
    s = scrub(_NEWLINE.sub(" ", s))
    if not s:
        return ""
    fence = "`" * (max((len(run) for run in _BACKTICKS.findall(s)), default=0) + 1)
    if s[0] == "`" or s[-1] == "`" or (s[0] == s[-1] == " " and s.strip(" ")):
        s = f" {s} "
    return f"{fence}{s}{fence}"


def link(label: str, url: str) -> str:
    """A link showing ``label`` (as :func:`text`) to ``url``; the label alone unless ``url`` is
    http(s) with a host. The URL is percent-encoded and ``&`` written ``&amp;``, so no entity in
    it is decoded. An empty label shows the URL.
    """
    shown = text(label) or text(url)
    if not _HTTP_URL.match(url):
        return shown
    destination = quote(url, safe=_URL_SAFE).replace("&", "&amp;")
    return f"[{shown}]({destination})"


def _cell(rendered: str) -> str:
    return _NEWLINE.sub(" ", rendered).strip().replace("|", "\\|")


def table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A GitHub table of cells already rendered as inline markdown.

    Every ``|`` in a cell is written ``\\|``: GitHub's table parser drops that one backslash
    again, so a cell renders as it would outside a table, code spans included.
    """
    lines = [
        "| " + " | ".join(_cell(h) for h in headers) + " |",
        "|" + "|".join(" --- " for _ in headers) + "|",
        *("| " + " | ".join(_cell(c) for c in row) + " |" for row in rows),
    ]
    return "\n".join(lines) + "\n"


def utf8_size(s: str) -> int:
    """The size of ``s`` in UTF-8 bytes, the unit of :data:`SUMMARY_LIMIT`."""
    return len(s.encode("utf-8", "surrogatepass"))


def _tail(fence: str | None, note: str, *, newline_first: bool) -> str:
    closing = "" if fence is None else fence + "\n"
    return ("\n" if newline_first else "") + closing + f"\n{note}\n"


def _fence_after(line: str, fence: str | None) -> str | None:
    """The open code fence after ``line``, given the one open before it (None: no fence)."""
    match = _FENCE.fullmatch(line.rstrip("\r\n"))
    if match is None:
        return fence
    run, rest = match.groups()
    if fence is None:
        return None if run[0] == "`" and "`" in rest else run
    if run[0] == fence[0] and len(run) >= len(fence) and not rest.strip():
        return None
    return fence


def truncate(markdown: str, limit: int, note: str, *, size: Callable[[str], int] = len) -> str:
    """``markdown`` if it fits in ``limit`` (measured by ``size``), else its longest fitting head
    (cut at a line, an open code fence closed) plus ``note``; ValueError if the note cannot fit.
    """
    if size(markdown) <= limit:
        return markdown
    note = note.strip("\n")
    lines = _LINE.findall(markdown)
    best = _tail(None, note, newline_first=False)
    if size(best) > limit:
        raise ValueError(f"the note alone is longer than the limit of {limit}")
    best_kept = 0
    used = 0
    fence: str | None = None
    for kept, line in enumerate(lines, start=1):
        used += size(line)
        if used > limit:
            break
        fence = _fence_after(line, fence)
        tail = _tail(fence, note, newline_first=not line.endswith(("\n", "\r")))
        if used + size(tail) <= limit:
            best_kept, best = kept, tail
    return "".join(lines[:best_kept]) + best


def _app(instance: str) -> str:
    """Whose marker: ``approvalflow-sync``, or ``approvalflow-sync@INSTANCE`` for an instance
    (a name the inputs checked: letters, digits, '-' and '_')."""
    return f"{MARKER_APP}@{instance}" if instance else MARKER_APP


def comment_marker(kind: str, instance: str = "") -> str:
    """The hidden first line of a comment of ``kind``: ``<!-- approvalflow-sync:KIND -->``,
    or ``<!-- approvalflow-sync@INSTANCE:KIND -->``: each instance finds only its own."""
    return f"<!-- {_app(instance)}:{kind} -->"


def has_marker(body: str, kind: str, instance: str = "") -> bool:
    """Whether ``body``'s first line is the :func:`comment_marker` of ``kind`` (CRLF allowed:
    the web editor writes it). Anyone can write the marker: check the author too."""
    return body.split("\n", 1)[0].removesuffix("\r") == comment_marker(kind, instance)


def _json_prefix(kind: str, instance: str) -> str:
    return f"<!-- {_app(instance)}:{kind}:json "


def embed_json(kind: str, data: object, instance: str = "") -> str:
    """One line keeping ``data`` as JSON in a hidden HTML comment, for :func:`extract_json`;
    ``<``, ``>``, ``&`` and ``--`` as JSON escapes, so the comment cannot end early."""
    payload = json.dumps(data, ensure_ascii=True, separators=(",", ":"), allow_nan=False)
    payload = (
        payload.replace("&", "\\u0026")
        .replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("--", "-\\u002d")
    )
    return f"{_json_prefix(kind, instance)}{payload} -->"


def extract_json(body: str, kind: str, instance: str = "") -> object | None:
    """The data :func:`embed_json` stored for ``kind`` in ``body``, or None.

    Only a whole line outside code fences counts, which no renderer here makes from untrusted
    text; two such lines mean tampering: None. Put it right after the marker line, so that
    :func:`truncate` never cuts it off.
    """
    prefix = _json_prefix(kind, instance)
    found: list[str] = []
    fence: str | None = None
    for line in _NEWLINE.split(body):
        if fence is None and line.startswith(prefix) and line.endswith(" -->"):
            found.append(line[len(prefix) : -len(" -->")])
        fence = _fence_after(line, fence)
    if len(found) != 1:
        return None
    try:
        data: object = json.loads(found[0])
    except ValueError:
        return None
    return data
