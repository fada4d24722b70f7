"""What a mapping file becomes: one frozen :class:`Mapping`, or every :class:`Problem` found.

Spaces resolved, lists as tuples, ids as digit strings. Dataclasses, not pydantic models:
``validate`` loads the mapping without pydantic's start-up.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import NamedTuple

from approvalflow_sync.core.title_template import DEFAULT_TITLE_TEMPLATE

DEFAULT_MAPPING_FILE = ".github/approvalflow.yml"
"""Where the action looks for the mapping unless the ``mapping-file`` input says otherwise."""


MAX_FILE_BYTES = 5 * 1024 * 1024
"""A mapping file larger than this is refused before it is parsed."""

MAX_RULES = 20_000
"""More rules than this is refused: twice the largest documentation sets we were built for."""

MAX_ENTRIES = 400_000
"""Patterns plus page ids over all rules; bounds the work YAML aliases could multiply."""


_DIGITS = re.compile(r"[0-9]+", re.ASCII)


class PageKey(NamedTuple):
    """A Confluence page: the same id in another space would be another page."""

    space: str
    page: str


def _check_id(value: object, what: str) -> None:
    if not isinstance(value, str):
        raise TypeError(f"a {what} id is a string, not {value!r}")
    if _DIGITS.fullmatch(value) is None:
        raise ValueError(f"a {what} id is digits only, not {value!r}")


def _strings(value: object, name: str) -> tuple[str, ...]:
    if not isinstance(value, (tuple, list)) or not all(isinstance(v, str) for v in value):
        raise TypeError(f"{name} must be a tuple of strings, not {value!r}")
    if not value:
        raise ValueError(f"{name} needs at least one item")
    return tuple(value)


def _check_position(value: object, name: str) -> None:
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError(f"{name} must be an int, not {value!r}")
    if value < 1:
        raise ValueError(f"{name} must be 1 or more, not {value}")


@dataclass(frozen=True, kw_only=True)
class Rule:
    """One entry of ``pages``: files matching ``patterns`` map to every page of ``pages``.

    The checks keep a hand-built rule from being one the loader would refuse.
    """

    patterns: tuple[str, ...]
    """Gitignore-style patterns as written; those starting with ``!`` exclude."""
    pages: tuple[str, ...]
    space: str
    """The rule's own ``space`` or the file's default."""
    line: int
    column: int = 1

    def __post_init__(self) -> None:
        patterns = _strings(self.patterns, "patterns")
        if all(pattern.startswith("!") for pattern in patterns):
            # A rule of exclusions only could never match; the loader reports it with its line.
            raise ValueError("a rule needs a pattern that is not an exclusion ('!')")
        pages = _strings(self.pages, "pages")
        for page in pages:
            _check_id(page, "page")
        _check_id(self.space, "space")
        _check_position(self.line, "line")
        _check_position(self.column, "column")
        object.__setattr__(self, "patterns", patterns)
        object.__setattr__(self, "pages", pages)

    @property
    def page_keys(self) -> tuple[PageKey, ...]:
        return tuple(PageKey(self.space, page) for page in self.pages)


@dataclass(frozen=True, kw_only=True)
class Mapping:
    """The validated mapping file; like :class:`Rule`, it refuses what the loader refuses."""

    space: str | None = None
    """The default space of rules without their own; ``None`` when every rule has one."""
    confluence_url: str | None = None
    """The site's wiki URL without a trailing slash, to link pages in comments."""
    title_template: str = DEFAULT_TITLE_TEMPLATE
    rules: tuple[Rule, ...]
    source: str = DEFAULT_MAPPING_FILE

    def __post_init__(self) -> None:
        rules = self.rules
        if not isinstance(rules, (tuple, list)) or not all(
            isinstance(rule, Rule) for rule in rules
        ):
            raise TypeError(f"rules must be a tuple of Rule, not {rules!r}")
        if self.space is not None:
            _check_id(self.space, "space")
        if self.confluence_url is not None and not isinstance(self.confluence_url, str):
            raise TypeError(f"confluence_url must be a string, not {self.confluence_url!r}")
        if not isinstance(self.title_template, str) or not isinstance(self.source, str):
            raise TypeError("title_template and source must be strings")
        # A page id lives in one space; the loader reports a conflict with both lines.
        seen: dict[str, str] = {}
        for rule in rules:
            for page in rule.pages:
                if seen.setdefault(page, rule.space) != rule.space:
                    raise ValueError(f"page {page} is given two spaces")
        object.__setattr__(self, "rules", tuple(rules))
