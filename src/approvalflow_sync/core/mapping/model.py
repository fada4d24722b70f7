"""What a mapping file becomes: one frozen :class:`Mapping`, spaces resolved, ids as digit strings.

Dataclasses, not pydantic models: ``validate`` loads the mapping without pydantic's start-up. Only
the loader builds them, after checking every value, so they check nothing again.
"""

from __future__ import annotations

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


class PageKey(NamedTuple):
    """A Confluence page: the same id in another space would be another page."""

    space: str
    page: str


@dataclass(frozen=True, kw_only=True)
class Rule:
    """One entry of ``pages``: files matching ``patterns`` map to every page of ``pages``."""

    patterns: tuple[str, ...]
    """Gitignore-style patterns as written; those starting with ``!`` exclude."""
    pages: tuple[str, ...]
    space: str
    """The rule's own ``space`` or the file's default."""
    line: int
    column: int = 1

    @property
    def page_keys(self) -> tuple[PageKey, ...]:
        return tuple(PageKey(self.space, page) for page in self.pages)


@dataclass(frozen=True, kw_only=True)
class Mapping:
    """The validated mapping file."""

    space: str | None = None
    """The default space of rules without their own; ``None`` when every rule has one."""
    confluence_url: str | None = None
    """The site's wiki URL without a trailing slash, to link pages in comments."""
    title_template: str = DEFAULT_TITLE_TEMPLATE
    rules: tuple[Rule, ...]
    source: str = DEFAULT_MAPPING_FILE
