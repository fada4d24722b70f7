"""The reference answer the fast matcher is held to (tests and the benchmark)."""

from __future__ import annotations

from collections.abc import Iterable

from pathspec import GitIgnoreSpec

from approvalflow_sync.core.mapping import Mapping, MatchResult, PageKey
from approvalflow_sync.core.mapping.match import match_result


def naive_match(mapping: Mapping, paths: Iterable[str]) -> MatchResult:
    """Slow but plainly right: every rule's pathspec asked of every file."""
    rules = []
    for rule in mapping.rules:
        positives = [p for p in rule.patterns if not p.startswith("!")]
        negatives = [p[1:] for p in rule.patterns if p.startswith("!")]
        selected = GitIgnoreSpec.from_lines(positives, backend="re2")
        excluded = GitIgnoreSpec.from_lines(negatives, backend="re2") if negatives else None
        rules.append((selected, excluded, frozenset(rule.page_keys)))
    paths = list(paths)
    pages_of: dict[str, frozenset[PageKey]] = {}
    for path in paths:
        pages: set[PageKey] = set()
        for selected, excluded, keys in rules:
            if selected.match_file(path) and not (excluded and excluded.match_file(path)):
                pages.update(keys)
        pages_of[path] = frozenset(pages)
    return match_result(paths, pages_of)
