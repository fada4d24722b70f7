"""What a mapping file becomes: one frozen :class:`Mapping`, or every :class:`Problem` found.

The runtime model is not the file format: a rule's space is resolved (its own or the default),
lists are always tuples and page ids always digit strings. The file format itself is described
by :mod:`approvalflow_sync.core.mapping.schema`.

Frozen dataclasses, not pydantic models: ``validate`` loads the mapping without pydantic's
start-up.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, NamedTuple

from approvalflow_sync.errors import ConfigError

DEFAULT_MAPPING_FILE = ".github/approvalflow.yml"
"""Where the action looks for the mapping unless the ``mapping-file`` input says otherwise."""

DEFAULT_TITLE_TEMPLATE = "PR-{number} {title}"
"""The change set title when the file gives none (the same default as :mod:`plan`)."""


MAX_FILE_BYTES = 5 * 1024 * 1024
"""A mapping file larger than this is refused before it is parsed."""

MAX_RULES = 20_000
"""More rules than this is refused: twice the largest documentation sets we were built for."""

MAX_ENTRIES = 400_000
"""Patterns plus page ids over all rules; bounds the work YAML aliases could multiply."""

MAX_REPORTED = 20
"""How many problems the error's message shows; :attr:`MappingError.problems` has them all."""

Severity = Literal["error", "warning"]

_DIGITS = re.compile(r"[0-9]+", re.ASCII)


@dataclass(frozen=True)
class Problem:
    """One thing wrong in a mapping file, where it is, and how to fix it.

    ``line`` and ``column`` are 1-based; 0 means the problem concerns the whole file (it is
    missing or cannot be read), and the position is then left out of ``str()``.
    """

    source: str
    line: int
    column: int
    message: str
    severity: Severity = "error"

    def __str__(self) -> str:
        if self.line <= 0:
            return f"{self.source}: {self.message}"
        return f"{self.source}:{self.line}:{self.column}: {self.message}"


class MappingError(ConfigError):
    """Raised when the mapping file is missing, unreadable or invalid.

    ``problems`` holds every problem found in one pass, each with its position, so the action
    can annotate them all; the message shows the first :data:`MAX_REPORTED`.
    """

    def __init__(self, problems: Sequence[Problem]) -> None:
        if not problems:
            raise ValueError("a MappingError needs at least one problem")
        self.problems: list[Problem] = list(problems)
        lines = [str(problem) for problem in self.problems[:MAX_REPORTED]]
        hidden = len(self.problems) - MAX_REPORTED
        if hidden > 0:
            lines.append(f"... and {hidden} more problems")
        if len(self.problems) > 1:
            lines.insert(0, f"{self.problems[0].source}: {len(self.problems)} problems")
        super().__init__("\n".join(lines))


class PageKey(NamedTuple):
    """A Confluence page: the same id in another space would be another page."""

    space: str
    page: str


def _check_id(value: object, what: str) -> None:
    """A page or space id is a string of ASCII digits."""
    if not isinstance(value, str):
        raise TypeError(f"a {what} id is a string, not {value!r}")
    if _DIGITS.fullmatch(value) is None:
        raise ValueError(f"a {what} id is digits only, not {value!r}")


def _strings(value: object, name: str) -> tuple[str, ...]:
    """``value`` as a tuple of strings (a list is accepted); at least one."""
    if not isinstance(value, (tuple, list)) or not all(isinstance(v, str) for v in value):
        raise TypeError(f"{name} must be a tuple of strings, not {value!r}")
    if not value:
        raise ValueError(f"{name} needs at least one item")
    return tuple(value)


def _check_position(value: object, name: str) -> None:
    """A 1-based line or column number."""
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError(f"{name} must be an int, not {value!r}")
    if value < 1:
        raise ValueError(f"{name} must be 1 or more, not {value}")


@dataclass(frozen=True, kw_only=True)
class Rule:
    """One entry of ``pages``: files matching ``patterns`` map to every page of ``pages``.

    Built by the loader, which has already reported every problem with its line; the checks
    here (raising ``TypeError`` or ``ValueError``) keep a hand-built rule from being one the
    loader would refuse. Lists are accepted and kept as tuples.
    """

    patterns: tuple[str, ...]
    """Gitignore-style patterns as written; those starting with ``!`` exclude."""
    pages: tuple[str, ...]
    """Page ids, digits only, without repeats."""
    space: str
    """The pages' space: the rule's own ``space`` or the file's default."""
    line: int
    """Where the rule starts in the file (1-based), for messages and annotations."""
    column: int = 1
    """The rule's column (1-based)."""

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
        """The rule's pages with their space."""
        return tuple(PageKey(self.space, page) for page in self.pages)


@dataclass(frozen=True, kw_only=True)
class Mapping:
    """The validated mapping file: a default space, presentation settings and the rules.

    Like :class:`Rule`, it refuses what the loader refuses (``TypeError``, ``ValueError``).
    """

    space: str | None = None
    """The default space of rules without their own; ``None`` when every rule has one."""
    confluence_url: str | None = None
    """The site's wiki URL without a trailing slash, to link pages in comments."""
    title_template: str = DEFAULT_TITLE_TEMPLATE
    """The change set title, with fields from :data:`TITLE_FIELDS`."""
    rules: tuple[Rule, ...]
    """The rules in file order (required)."""
    source: str = DEFAULT_MAPPING_FILE
    """The file the mapping came from, for messages about it."""

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
