"""What a mapping file becomes: one frozen :class:`Mapping`, or every :class:`Problem` found.

The runtime model is not the file format: a rule's space is resolved (its own or the default),
lists are always tuples and page ids always digit strings. The file format itself is described
by :mod:`approvalflow_sync.mapping.schema`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated, Literal, NamedTuple

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from approvalflow_sync.errors import ConfigError

DEFAULT_MAPPING_FILE = ".github/approvalflow.yml"
"""Where the action looks for the mapping unless the ``mapping-file`` input says otherwise."""

DEFAULT_TITLE_TEMPLATE = "PR-{number} {title}"
"""The change set title when the file gives none (the same default as :mod:`plan`)."""

TITLE_FIELDS = ("number", "title", "branch", "base", "repo")
"""The fields a ``title-template`` may use; :func:`plan.render_title` fills exactly these."""

MAX_FILE_BYTES = 5 * 1024 * 1024
"""A mapping file larger than this is refused before it is parsed."""

MAX_RULES = 20_000
"""More rules than this is refused: twice the largest documentation sets we were built for."""

MAX_ENTRIES = 400_000
"""Patterns plus page ids over all rules; bounds the work YAML aliases could multiply."""

MAX_REPORTED = 20
"""How many problems the error's message shows; :attr:`MappingError.problems` has them all."""

Severity = Literal["error", "warning"]

Digits = Annotated[str, StringConstraints(pattern=r"^[0-9]+$")]


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


class Rule(BaseModel):
    """One entry of ``pages``: files matching ``patterns`` map to every page of ``pages``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    patterns: tuple[str, ...] = Field(min_length=1)
    """Gitignore-style patterns as written; those starting with ``!`` exclude."""
    pages: tuple[Digits, ...] = Field(min_length=1)
    """Page ids, digits only, without repeats."""
    space: Digits
    """The pages' space: the rule's own ``space`` or the file's default."""
    line: int = Field(ge=1)
    """Where the rule starts in the file (1-based), for messages and annotations."""
    column: int = Field(default=1, ge=1)
    """The rule's column (1-based)."""

    @model_validator(mode="after")
    def _has_positive_pattern(self) -> Rule:
        """A rule of exclusions only could never match; the loader reports it with its line."""
        if all(pattern.startswith("!") for pattern in self.patterns):
            raise ValueError("a rule needs a pattern that is not an exclusion ('!')")
        return self

    @property
    def page_keys(self) -> tuple[PageKey, ...]:
        """The rule's pages with their space."""
        return tuple(PageKey(self.space, page) for page in self.pages)


class Mapping(BaseModel):
    """The validated mapping file: a default space, presentation settings and the rules."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    space: Digits | None = None
    """The default space of rules without their own; ``None`` when every rule has one."""
    confluence_url: str | None = None
    """The site's wiki URL without a trailing slash, to link pages in comments."""
    title_template: str = DEFAULT_TITLE_TEMPLATE
    """The change set title, with fields from :data:`TITLE_FIELDS`."""
    rules: tuple[Rule, ...]
    """The rules in file order."""
    source: str = DEFAULT_MAPPING_FILE
    """The file the mapping came from, for messages about it."""

    @model_validator(mode="after")
    def _one_space_per_page(self) -> Mapping:
        """A page id lives in one space; the loader reports a conflict with both lines."""
        seen: dict[str, str] = {}
        for rule in self.rules:
            for page in rule.pages:
                if seen.setdefault(page, rule.space) != rule.space:
                    raise ValueError(f"page {page} is given two spaces")
        return self
