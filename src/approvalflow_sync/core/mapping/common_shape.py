"""The mapping file most teams write, read line by line without YAML's composer.

PyYAML needs a quarter of a second to compose 10,000 rules: most of ``validate``'s time on a
monorepo. Nearly every mapping file has one shape: top-level ``key: value`` lines, then a
``pages:`` list of rules with one ``key: value`` per line, each value plain or quoted without
escapes, or a one-line ``[...]`` list of those. This reader takes exactly that shape and makes
the same checks as the YAML reader; for anything else (another YAML construct, a tab, a
problem of any kind) it answers ``None``, and :mod:`~approvalflow_sync.core.mapping.yaml_walk`
reads the file and reports. A property test holds its mapping equal to the YAML reader's on
every file it takes.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from approvalflow_sync.core.mapping.model import (
    DEFAULT_TITLE_TEMPLATE,
    MAX_ENTRIES,
    MAX_RULES,
    Mapping,
    Rule,
)
from approvalflow_sync.core.mapping.patterns import pattern_problem
from approvalflow_sync.core.mapping.schema import rule_keys, top_level_keys
from approvalflow_sync.core.mapping.values import template_problem, url_problem

_OUTSIDE = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff\ufeff\ufffe\uffff]")
"""Characters this reader leaves to YAML: tabs, controls, other line breaks, a byte order mark,
surrogates and non-characters (every character but ``\\n`` outside YAML's printable set
``[\\x20-\\x7e\\xa0-\\ud7ff\\ue000-\\ufffd\\U00010000-\\U0010ffff]``, and those of it YAML
treats apart). Written as the few it takes, not the many it leaves: the class compiles in a
tenth of the time."""

_INNER = r"""[^\s:,\[\]{}#'"]"""
_PLAIN_FLOW = rf"""[^\s\-?:,\[\]{{}}#&*!|>'"%@`]{_INNER}*(?: +{_INNER}+)*"""
"""A plain scalar that means the same in a block and in a ``[...]`` list: no indicator first,
no ``:``, ``#``, quote, bracket, brace or comma anywhere, single spaces inside."""
_BLOCK = rf"(?:{_INNER}|:(?=\S))"
_PLAIN_BLOCK = rf"""[^\s\-?:,\[\]{{}}#&*!|>'"%@`]{_INNER}*(?::(?=\S){_INNER}*)*(?: +{_BLOCK}+)*"""
"""Outside a list a ``:`` not followed by a space is text too (``https://host``); the first
word is written out (``N*(:N*)*``) as it is the one every value has: a third faster."""

_QUOTED = r""""[^"\\]*"|'[^']*'"""
_SCALAR = rf"{_QUOTED}|{_PLAIN_FLOW}"
_VALUE = rf"(?P<value>{_QUOTED}|{_PLAIN_BLOCK}|\[ *(?:{_SCALAR})(?: *, *(?:{_SCALAR}))* *\])"
_END = r"(?: +#.*)? *"
_KEY = r"(?P<key>[a-z][a-z-]*)"

_SKIP = re.compile(r" *(?:#.*)?")
_START = re.compile(r"---" + _END)
_PAIR = re.compile(rf"(?P<indent> *)(?P<dash>- )?{_KEY}:(?: +{_VALUE})?{_END}")
"""A top-level line, a rule's first line (with ``- ``) or another of its lines."""
_ITEMS = re.compile(_SCALAR)
_DIGITS = re.compile(r"[0-9]+", re.ASCII)

_NOT_TEXT = frozenset(
    variant
    for word in ("yes", "no", "true", "false", "on", "off", "null")
    for variant in (word, word.capitalize(), word.upper())
)
"""The plain words PyYAML's resolver reads as booleans or null (letters first, no ``/``)."""


class _Item(NamedTuple):
    """One rule as written: its line and column, and its fields' raw values."""

    line: int
    column: int
    fields: dict[str, str]


def load_common_shape(text: str, source: str) -> Mapping | None:
    """The mapping in ``text`` if it has the common shape and no problem, else ``None``."""
    if "\r" in text:
        text = text.replace("\r\n", "\n")
    if _OUTSIDE.search(text):
        return None
    parsed = _parse(text.split("\n"))
    if parsed is None:
        return None
    top, items = parsed
    return _build(top, items, source)


def _parse(lines: list[str]) -> tuple[dict[str, str], list[_Item]] | None:
    """The top-level values and the rules, or ``None`` for a line of another shape."""
    top: dict[str, str] = {}
    items: list[_Item] | None = None
    number = _first_content(lines, 0)
    if number < len(lines) and _START.fullmatch(lines[number]):
        number += 1
    while (number := _first_content(lines, number)) < len(lines):
        match = _PAIR.fullmatch(lines[number])
        if match is None:
            return None
        indent, dash, key, value = match.groups()
        if indent or dash or key in top or (key == "pages") != (value is None):
            return None
        top[key] = value or ""
        if key == "pages":
            items, number = _rules(lines, number + 1)
            if items is None:
                return None
        else:
            number += 1
    return (top, items) if items else None


def _first_content(lines: list[str], number: int) -> int:
    """The index of the first line from ``number`` on that is not blank or a comment."""
    while number < len(lines) and _SKIP.fullmatch(lines[number]):
        number += 1
    return number


def _rules(lines: list[str], start: int) -> tuple[list[_Item] | None, int]:
    """The rules of the ``pages:`` list from line ``start``, and the index of the line after."""
    items: list[_Item] = []
    indent = -1
    fields: dict[str, str] = {}
    for number in range(start, len(lines)):
        line = lines[number]
        pair = _PAIR.fullmatch(line)
        if pair is None:
            if _SKIP.fullmatch(line):
                continue
            if indent < 0 or line.startswith((" ", "-")):
                return None, number
            return items, number  # a top-level key ends the list
        spaces, dash, key, value = pair.groups()
        if value is None:
            return None, number
        if dash:
            if indent >= 0 and len(spaces) != indent:
                return None, number
            indent = len(spaces)
            fields = {key: value}
            items.append(_Item(number + 1, indent + 3, fields))
        elif not spaces:
            return (items if indent >= 0 else None), number  # a top-level key ends the list
        elif indent < 0 or len(spaces) != indent + 2 or key in fields:
            return None, number
        else:
            fields[key] = value
    return items, len(lines)


def _texts(value: str) -> list[str] | None:
    """The strings of a raw value (a scalar or a ``[...]`` list), or ``None`` if YAML may read
    one as something else: a plain scalar can be a number, a date, a boolean or null."""
    first = value[0]
    if first in "\"'":
        return [value[1:-1]]
    if first != "[":
        return [value] if _plain_text(value) else None
    texts = []
    for match in _ITEMS.finditer(value, 1):
        text = _quoted_or_plain(match.group())
        if text is None:
            return None
        texts.append(text)
    return texts


def _unquoted(written: str) -> str:
    return written[1:-1] if written[0] in "\"'" else written


def _quoted_or_plain(written: str) -> str | None:
    if written[0] in "\"'":
        return written[1:-1]
    return written if _plain_text(written) else None


def _plain_text(text: str) -> bool:
    """Whether PyYAML's resolver reads a plain scalar as a string.

    It has no rule matching a ``/``, and for a scalar led by a letter or ``_`` only booleans and
    null; the rest is left to the YAML reader.
    """
    return "/" in text or (text[0] not in "+0123456789.<=~" and text not in _NOT_TEXT)


def _ids(value: str) -> list[str] | None:
    """Page or space ids, quoted or not, kept as written; ``None`` if one is not digits."""
    if value[0] != "[":
        single = _unquoted(value)
        return [single] if _DIGITS.fullmatch(single) else None
    ids = [_unquoted(match.group()) for match in _ITEMS.finditer(value, 1)]
    return ids if all(_DIGITS.fullmatch(one) for one in ids) else None


def _identifier(value: str) -> str | None:
    """A single page or space id."""
    ids = _ids(value) if value[0] != "[" else None
    return ids[0] if ids else None


def _text(value: str) -> str | None:
    """A single string value."""
    texts = _texts(value) if value[0] != "[" else None
    return texts[0] if texts else None


def _build(top: dict[str, str], items: list[_Item], source: str) -> Mapping | None:
    """The mapping, or ``None`` at the first problem (the YAML reader reports them all)."""
    if not top.keys() <= set(top_level_keys()) or len(items) > MAX_RULES:
        return None
    space = _identifier(top["space"]) if "space" in top else None
    template = _text(top["title-template"]) if "title-template" in top else DEFAULT_TITLE_TEMPLATE
    url = _text(top["confluence-url"]) if "confluence-url" in top else None
    if ("space" in top and space is None) or template is None:
        return None
    if "title-template" in top and template_problem(template):
        return None
    if "confluence-url" in top and (url is None or url_problem(url, "confluence-url")):
        return None
    rules = _rules_of(items, space)
    if rules is None:
        return None
    return Mapping(
        space=space,
        confluence_url=url.strip().rstrip("/") if url is not None else None,
        title_template=template,
        rules=rules,
        source=source,
    )


def _rules_of(items: list[_Item], default: str | None) -> tuple[Rule, ...] | None:
    """Every rule with its space resolved; ``None`` at any problem the YAML reader reports."""
    known = frozenset(rule_keys())
    rules: list[Rule] = []
    seen: set[object] = set()
    entries = 0
    for line, column, fields in items:
        if not fields.keys() <= known or "path" not in fields or "page" not in fields:
            return None
        space = _identifier(fields["space"]) if "space" in fields else default
        written, ids = _texts(fields["path"]), _ids(fields["page"])
        if space is None or written is None or ids is None:
            return None
        entries += len(written) + len(ids)  # repeats included, as the YAML reader counts
        patterns = tuple(dict.fromkeys(written)) if len(written) > 1 else tuple(written)
        pages = tuple(dict.fromkeys(ids)) if len(ids) > 1 else tuple(ids)
        identity = _identity(patterns, pages, space)
        if entries > MAX_ENTRIES or identity in seen or not _patterns_fine(patterns):
            return None
        seen.add(identity)
        rules.append(Rule.loaded(patterns, pages, space, line, column))
    return tuple(rules) if _one_space_per_page(rules, default) else None


def _identity(patterns: tuple[str, ...], pages: tuple[str, ...], space: str) -> object:
    """What makes two rules the same rule: their sets of patterns and pages, and the space.

    A rule of one pattern and one page (most of them) is told by a plain tuple, cheaper than
    two sets; it equals no identity of larger sets.
    """
    if len(patterns) == 1 and len(pages) == 1:
        return (patterns[0], pages[0], space)
    return (frozenset(patterns), frozenset(pages), space)


def _one_space_per_page(rules: list[Rule], default: str | None) -> bool:
    """Whether no page is given in two spaces (only rules with a space of their own can)."""
    if all(rule.space == default for rule in rules):
        return True
    spaces: dict[str, str] = {}
    return all(
        spaces.setdefault(page, rule.space) == rule.space for rule in rules for page in rule.pages
    )


def _patterns_fine(patterns: tuple[str, ...]) -> bool:
    """No pattern has a problem, and one of them selects files."""
    if len(patterns) == 1:  # most rules
        return not patterns[0].startswith("!") and pattern_problem(patterns[0]) is None
    selects = False
    for pattern in patterns:
        if pattern_problem(pattern) is not None:
            return False
        selects = selects or not pattern.startswith("!")
    return selects
