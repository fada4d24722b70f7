"""Which pages a pull request's files map to, and which patterns match no file of the repository.

:class:`Matcher` gives pathspec's answer rule by rule (the tests' naive loop), asking about each
distinct pattern once: exact paths and directories are dictionary lookups, the other expressions
are matched together by RE2's ``FilteredRE2``. RE2 is linear in the path, so a fork's file names
cannot make matching slow.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

import re2
from pathspec.util import normalize_file

from approvalflow_sync.core.mapping.model import Mapping, PageKey
from approvalflow_sync.core.mapping.patterns import expression, plain
from approvalflow_sync.errors import MappingError, Problem

_OPTIONS = re2.Options()
_OPTIONS.never_capture = True  # pathspec's expressions name a group RE2 need not fill
_OPTIONS.log_errors = False

_FILTER_SIZE = 10_000
"""Expressions per ``FilteredRE2``: 60,000 globs would exceed the memory RE2 allows one."""


def _page_order(key: PageKey) -> tuple[int, str, int, str]:
    return len(key.space), key.space, len(key.page), key.page


@dataclass(frozen=True)
class MatchResult:
    """The pages a set of files maps to, seen from both sides; pages in numeric order, files
    in the order given (as a pull request comment shows them)."""

    pages_by_file: dict[str, frozenset[PageKey]]
    files_by_page: dict[PageKey, tuple[str, ...]]
    unmatched_files: tuple[str, ...]

    @property
    def pages_by_space(self) -> dict[str, tuple[str, ...]]:
        spaces: dict[str, list[str]] = {}
        for key in self.files_by_page:
            spaces.setdefault(key.space, []).append(key.page)
        return {space: tuple(pages) for space, pages in spaces.items()}


def match_result(paths: Iterable[str], pages_of: dict[str, frozenset[PageKey]]) -> MatchResult:
    by_page: dict[PageKey, list[str]] = {}
    unmatched: list[str] = []
    by_file: dict[str, frozenset[PageKey]] = {}
    for path in dict.fromkeys(paths):
        pages = pages_of[path]
        if not pages:
            unmatched.append(path)
            continue
        by_file[path] = pages
        for key in pages:
            by_page.setdefault(key, []).append(path)
    files_by_page = {key: tuple(by_page[key]) for key in sorted(by_page, key=_page_order)}
    return MatchResult(by_file, files_by_page, tuple(unmatched))


_Expression = tuple[int, str, str, int]
"""A glob's id, text as written, pathspec's expression for it, and the line of its first rule."""


def _directories(paths: list[str]) -> set[str]:
    found: set[str] = set()
    for path in paths:
        directory, slash, _ = path.rpartition("/")
        while slash and directory not in found:
            found.add(directory)
            directory, slash, _ = directory.rpartition("/")
    return found


class Matcher:
    """A mapping's rules compiled once, to match many files: each distinct pattern is answered
    once per path; one pathspec or RE2 rejects is a :class:`MappingError` at its first rule."""

    def __init__(self, mapping: Mapping) -> None:
        self._mapping = mapping
        self._ids: dict[str, int] = {}
        self._paths: dict[str, list[int]] = {}
        self._directories: dict[str, list[int]] = {}
        self._rules_of: list[list[int]] = []
        self._excluding: list[set[int]] = []
        expressions: list[_Expression] = []
        for index, rule in enumerate(mapping.rules):
            self._excluding.append(set())
            for pattern in rule.patterns:
                body = pattern.removeprefix("!")
                if body not in self._ids:
                    self._ids[body] = len(self._rules_of)
                    self._rules_of.append([])
                    expressions += self._indexed(body, rule.line)
                if pattern.startswith("!"):
                    self._excluding[index].add(self._ids[body])
                else:
                    self._rules_of[self._ids[body]].append(index)
        self._filters: list[tuple[re2.Filter, list[int]]] = []
        for start in range(0, len(expressions), _FILTER_SIZE):
            self._filters += self._compiled(expressions[start : start + _FILTER_SIZE])

    def _indexed(self, body: str, line: int) -> list[_Expression]:
        """Exact paths and directories go in their dictionaries; a glob's expression is returned
        (none when pathspec makes of it a pattern matching nothing)."""
        pid = self._ids[body]
        kind = plain(body)
        if kind is not None:
            index = self._paths if kind[0] == "path" else self._directories
            index.setdefault(kind[1], []).append(pid)
            return []
        try:
            regex = expression(body)
        except (ValueError, re.error) as error:
            raise self._invalid(body, line, error) from None
        return [] if regex is None else [(pid, body, regex, line)]

    def _invalid(self, body: str, line: int, reason: object) -> MappingError:
        message = f"pattern {body!r} is not a valid gitignore pattern ({reason})"
        return MappingError([Problem(self._mapping.source, line, 1, message)])

    def _compiled(self, expressions: list[_Expression]) -> list[tuple[re2.Filter, list[int]]]:
        """FilteredRE2s holding the expressions, halved until each fits RE2's memory bound."""
        regex_filter = re2.Filter()
        for _, body, regex, line in expressions:
            try:
                regex_filter.Add(regex, _OPTIONS)
            except re2.error as error:
                raise self._invalid(body, line, error) from None
        try:
            regex_filter.Compile()
        except re2.error:
            if len(expressions) == 1:
                _, body, _, line = expressions[0]
                raise self._invalid(body, line, "too long for RE2") from None
            half = len(expressions) // 2
            return self._compiled(expressions[:half]) + self._compiled(expressions[half:])
        return [(regex_filter, [pid for pid, _, _, _ in expressions])]

    def _matching(self, path: str) -> set[int]:
        hits: set[int] = set()
        end = path.find("/")
        while end >= 0:
            directory = path[:end]
            hits.update(self._paths.get(directory, ()))
            hits.update(self._directories.get(directory, ()))
            end = path.find("/", end + 1)
        hits.update(self._paths.get(path, ()))
        hits.update(self._expressions(path))
        return hits

    def _found(self, paths: list[str]) -> set[int]:
        """Ids of the patterns matching at least one of the paths."""
        directories = _directories(paths)
        hits: set[int] = set()
        for text in self._paths.keys() & (directories | set(paths)):
            hits.update(self._paths[text])
        for text in self._directories.keys() & directories:
            hits.update(self._directories[text])
        for path in paths:
            hits.update(self._expressions(path))
        return hits

    def _expressions(self, path: str) -> list[int]:
        text = path.encode("utf-8", "surrogatepass")
        return [
            pids[index]
            for regex_filter, pids in self._filters
            for index in regex_filter.Match(text) or ()
        ]

    def pages_of(self, path: str) -> frozenset[PageKey]:
        hits = self._matching(normalize_file(path))
        rules = {rule for pid in hits for rule in self._rules_of[pid]}
        return frozenset(
            key
            for rule in rules
            if self._excluding[rule].isdisjoint(hits)
            for key in self._mapping.rules[rule].page_keys
        )

    def match(self, paths: Iterable[str]) -> MatchResult:
        paths = list(paths)
        return match_result(paths, {path: self.pages_of(path) for path in dict.fromkeys(paths)})

    def unmatched_patterns(self, repo_files: Iterable[str]) -> list[Problem]:
        """A warning (not an error: files may come later) per selecting pattern matching none."""
        found = self._found([normalize_file(file) for file in repo_files])
        return [
            Problem(
                self._mapping.source,
                rule.line,
                rule.column,
                f"pattern {pattern!r} matches no file in the repository; fix the path or "
                "remove the pattern",
                severity="warning",
            )
            for rule in self._mapping.rules
            for pattern in rule.patterns
            if not pattern.startswith("!") and self._ids[pattern] not in found
        ]


def compile_mapping(mapping: Mapping) -> Matcher:
    """The mapping's rules compiled once; a pattern RE2 refuses is a :class:`MappingError`."""
    return Matcher(mapping)
