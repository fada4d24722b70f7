"""The mapping file: docs paths to Confluence pages.

Load it (:func:`read_mapping` for the file, :func:`load_mapping` for its text), compile it once
(:func:`compile_mapping`) and match a pull request's files (:meth:`Matcher.match`). Every user
mistake is a :class:`MappingError` listing each :class:`Problem` with its line and column.
"""

from __future__ import annotations

from approvalflow_sync.core.mapping.load import load_mapping, read_mapping
from approvalflow_sync.core.mapping.match import (
    Matcher,
    MatchResult,
    compile_mapping,
)
from approvalflow_sync.core.mapping.model import DEFAULT_MAPPING_FILE, Mapping, PageKey, Rule
from approvalflow_sync.errors import MappingError, Problem

__all__ = [
    "DEFAULT_MAPPING_FILE",
    "Mapping",
    "MappingError",
    "MatchResult",
    "Matcher",
    "PageKey",
    "Problem",
    "Rule",
    "compile_mapping",
    "load_mapping",
    "read_mapping",
]
