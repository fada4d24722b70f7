"""Which pages a pull request's files map to, fast enough for 10,000 rules and 50,000 files.

:func:`naive_match` is the definition: a file maps to a rule's pages when pathspec says one of
the rule's patterns matches it and none of its ``!`` patterns does. :class:`Matcher` gives the
same answer without asking every rule: patterns that are exact paths, directory prefixes or a
name at any depth are looked up in dicts (one lookup per path segment), and the remaining globs
are bucketed by the literal directory they start with, so a file only tries the globs that could
match it. Exclusions are checked only for the rules a file selected, by string comparison too
when they are that simple.

:func:`unmatched_patterns` asks the other way round, once per pattern: is there a repository
file it matches? The files are indexed once (a set, a sorted list for prefixes, the directory
names), so an exact path or a directory is a lookup, and a glob is compiled and tried only on
the files that could match it, if there are any.

pathspec is imported only for a glob with ``[...]`` or ``\\`` (:func:`compile_positive`
translates the others itself), so ``validate`` of a usual mapping starts without it.
"""

from __future__ import annotations

import os
import re
from bisect import bisect_left
from collections.abc import Callable, Iterable
from functools import cached_property
from typing import TYPE_CHECKING

from approvalflow_sync.core.mapping._frozen import Frozen
from approvalflow_sync.core.mapping.model import Mapping, MappingError, PageKey, Problem
from approvalflow_sync.core.mapping.patterns import (
    Simple,
    classify,
    compile_positive,
    is_common_glob,
    is_literal_path,
    literal_prefix,
    needs_regex,
    normalize_path,
    required_directory,
    split_patterns,
)

if TYPE_CHECKING:
    from approvalflow_sync.core.mapping.patterns import Compiled


def _page_order(key: PageKey) -> tuple[int, str, int, str]:
    """Numeric order of digit ids, space first."""
    return len(key.space), key.space, len(key.page), key.page


class MatchResult(Frozen):
    """The pages a set of files maps to, seen from both sides.

    ``pages_by_file`` has the files that map to at least one page; ``files_by_page`` lists, per
    page (in numeric order), the files mapping to it in the order they were given, which is what
    a pull request comment shows; ``unmatched_files`` are the files that map to no page.
    """

    _fields = ("pages_by_file", "files_by_page", "unmatched_files")
    __slots__ = _fields
    pages_by_file: dict[str, frozenset[PageKey]]
    files_by_page: dict[PageKey, tuple[str, ...]]
    unmatched_files: tuple[str, ...]

    def __init__(
        self,
        pages_by_file: dict[str, frozenset[PageKey]],
        files_by_page: dict[PageKey, tuple[str, ...]],
        unmatched_files: tuple[str, ...],
    ) -> None:
        object.__setattr__(self, "pages_by_file", pages_by_file)
        object.__setattr__(self, "files_by_page", files_by_page)
        object.__setattr__(self, "unmatched_files", unmatched_files)

    @property
    def pages(self) -> tuple[PageKey, ...]:
        """Every page some file maps to, in numeric order."""
        return tuple(self.files_by_page)

    @property
    def pages_by_space(self) -> dict[str, tuple[str, ...]]:
        """The page ids per space, as a change set per space needs them."""
        spaces: dict[str, list[str]] = {}
        for key in self.files_by_page:
            spaces.setdefault(key.space, []).append(key.page)
        return {space: tuple(pages) for space, pages in spaces.items()}


def _result(paths: Iterable[str], pages_of: dict[str, frozenset[PageKey]]) -> MatchResult:
    """Both views of the answer, from the pages of each (distinct) file."""
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


def naive_match(mapping: Mapping, paths: Iterable[str]) -> MatchResult:
    """The reference answer: every rule's pathspec asked about every file.

    Slow (rules times files) but plainly right; :class:`Matcher` must agree with it exactly.
    """
    from pathspec import GitIgnoreSpec  # noqa: PLC0415 - the reference only, for tests and bench

    rules = []
    for rule in mapping.rules:
        positives, negatives = split_patterns(rule.patterns)
        excluded = GitIgnoreSpec.from_lines(negatives) if negatives else None
        rules.append((GitIgnoreSpec.from_lines(positives), excluded, frozenset(rule.page_keys)))
    paths = list(paths)
    pages_of: dict[str, frozenset[PageKey]] = {}
    for path in paths:
        pages: set[PageKey] = set()
        for selected, excluded, keys in rules:
            if selected.match_file(path) and not (excluded and excluded.match_file(path)):
                pages.update(keys)
        pages_of[path] = frozenset(pages)
    return _result(paths, pages_of)


class _Prefix:
    """What hangs on one directory prefix: exact paths, directory patterns and globs."""

    __slots__ = ("exact", "globs", "under")

    def __init__(self) -> None:
        self.exact: list[int] = []
        self.under: list[int] = []
        self.globs: list[tuple[int, Compiled]] = []


class _Exclusions:
    """A rule's ``!`` patterns: those answered by string comparison, and the compiled others.

    ``bodies`` has all of them, for the paths only a regular expression answers
    (:func:`needs_regex`).
    """

    __slots__ = ("bodies", "compiled", "line", "simple")

    def __init__(
        self,
        simple: tuple[Simple, ...] = (),
        compiled: tuple[Compiled, ...] = (),
        bodies: tuple[str, ...] = (),
        line: int = 1,
    ) -> None:
        self.simple = simple
        self.compiled = compiled
        self.bodies = bodies
        self.line = line


_NO_EXCLUSIONS = _Exclusions()


class _Name:
    """Patterns that match a path segment of this name anywhere (or any but the last)."""

    __slots__ = ("anywhere", "directory")

    def __init__(self) -> None:
        self.anywhere: list[int] = []
        self.directory: list[int] = []


class _Compiler:
    """pathspec's compiled patterns, each compiled once, when first needed.

    A pattern pathspec rejects is a :class:`MappingError` at ``line``, the first rule using it.
    """

    def __init__(self, source: str) -> None:
        self._source = source
        self._compiled: dict[str, Compiled | None] = {}

    def __call__(self, body: str, line: int) -> Compiled | None:
        if body not in self._compiled:
            try:
                self._compiled[body] = compile_positive(body)
            except (ValueError, re.error) as error:
                message = f"pattern {body!r} is not a valid gitignore pattern ({error})"
                raise MappingError([Problem(self._source, line, 1, message)]) from None
        return self._compiled[body]


class Matcher:
    """A mapping's rules compiled once, to match many files (build it with :func:`compile_mapping`).

    Each distinct selecting pattern gets an id; the indexes map prefixes, names and glob
    buckets to pattern ids, and each pattern id to the rules using it.
    """

    def __init__(self, mapping: Mapping) -> None:
        self._mapping = mapping
        self._bodies: list[str] = []
        self._rules_of: list[list[int]] = []
        self._prefixes: dict[str, _Prefix] = {}
        self._names: dict[str, _Name] = {}
        self._globs_anywhere: list[tuple[int, Compiled]] = []
        self._globs_by_directory: dict[str, list[tuple[int, Compiled]]] = {}
        self._compile = _Compiler(mapping.source)
        self._excluding: list[_Exclusions] = []
        self._pages: list[frozenset[PageKey]] = []
        ids: dict[str, int] = {}
        for index, rule in enumerate(mapping.rules):
            positives, negatives = split_patterns(rule.patterns)
            for body in positives:
                if body not in ids:
                    ids[body] = len(self._bodies)
                    self._bodies.append(body)
                    self._rules_of.append([])
                    self._index(ids[body], body, rule.line)
                rules_of = self._rules_of[ids[body]]
                if not rules_of or rules_of[-1] != index:
                    rules_of.append(index)
            self._excluding.append(self._exclusions(negatives, rule.line))
            self._pages.append(frozenset(rule.page_keys))

    def _exclusions(self, bodies: list[str], line: int) -> _Exclusions:
        if not bodies:
            return _NO_EXCLUSIONS
        simple: list[Simple] = []
        compiled: list[Compiled] = []
        for body in bodies:
            kind = classify(body)
            if kind is not None:
                simple.append(kind)
                continue
            regex = self._compile(body, line)
            if regex is not None:
                compiled.append(regex)
        return _Exclusions(tuple(simple), tuple(compiled), tuple(bodies), line)

    def _excluded(self, rule: int, normalized: str, by_regex: bool) -> bool:
        """Whether one of the rule's ``!`` patterns matches the normalized path."""
        exclusions = self._excluding[rule]
        if by_regex:
            compiled = (self._compile(body, exclusions.line) for body in exclusions.bodies)
            return any(c is not None and c.match_file(normalized) is not None for c in compiled)
        return any(simple.matches(normalized) for simple in exclusions.simple) or any(
            compiled.match_file(normalized) is not None for compiled in exclusions.compiled
        )

    def _index(self, pid: int, body: str, line: int) -> None:
        simple: Simple | None = classify(body)
        if simple is not None:
            if simple.kind in ("path", "under"):
                entry = self._prefixes.setdefault(simple.text, _Prefix())
                (entry.exact if simple.kind == "path" else entry.under).append(pid)
            else:
                name = self._names.setdefault(simple.text, _Name())
                (name.anywhere if simple.kind == "name" else name.directory).append(pid)
            return
        compiled = self._compile(body, line)
        if compiled is None:
            return
        prefix = literal_prefix(body)
        directory = required_directory(body) if prefix is None else None
        if directory is not None:
            self._globs_by_directory.setdefault(directory, []).append((pid, compiled))
        elif prefix is None:
            self._globs_anywhere.append((pid, compiled))
        else:
            self._prefixes.setdefault(prefix, _Prefix()).globs.append((pid, compiled))

    def _selecting(self, path: str) -> list[int]:
        """Ids of the selecting patterns matching a normalized path."""
        if needs_regex(path):
            return self._selecting_by_regex(path)
        hits: list[int] = []
        segments = path.split("/")
        last = len(segments) - 1
        prefix = ""
        for position, segment in enumerate(segments):
            prefix = f"{prefix}/{segment}" if position else segment
            entry = self._prefixes.get(prefix)
            if entry is not None:
                hits += entry.exact
                if position < last:
                    hits += entry.under
                    hits += [
                        pid
                        for pid, compiled in entry.globs
                        if compiled.match_file(path) is not None
                    ]
            name = self._names.get(segment)
            if name is not None:
                hits += name.anywhere
                if position < last:
                    hits += name.directory
            globs = self._globs_by_directory.get(segment) if position < last else None
            if globs:
                hits += [pid for pid, compiled in globs if compiled.match_file(path) is not None]
        hits += [
            pid for pid, compiled in self._globs_anywhere if compiled.match_file(path) is not None
        ]
        return hits

    def _selecting_by_regex(self, path: str) -> list[int]:
        """Every pattern's expression tried: the way for paths the indexes cannot answer."""
        hits = []
        for pid, body in enumerate(self._bodies):
            compiled = self._compile(body, self._mapping.rules[self._rules_of[pid][0]].line)
            if compiled is not None and compiled.match_file(path) is not None:
                hits.append(pid)
        return hits

    def pages_of(self, path: str) -> frozenset[PageKey]:
        """The pages one file maps to."""
        normalized = normalize_path(path)
        rules = {rule for pid in self._selecting(normalized) for rule in self._rules_of[pid]}
        by_regex = needs_regex(normalized)
        pages: set[PageKey] = set()
        for rule in rules:
            if not self._excluded(rule, normalized, by_regex):
                pages |= self._pages[rule]
        return frozenset(pages)

    def match(self, paths: Iterable[str]) -> MatchResult:
        """The pages each file maps to and the files each page is mapped from."""
        paths = list(paths)
        return _result(paths, {path: self.pages_of(path) for path in dict.fromkeys(paths)})

    def unmatched_patterns(self, repo_files: Iterable[str]) -> list[Problem]:
        """A warning for each selecting pattern of each rule that matches no repository file."""
        return PatternSearch(self._mapping, self._compile).unmatched(repo_files)


_Compile = Callable[[str, int], "Compiled | None"]
"""A pattern's compiled form from its body and the line of the first rule using it."""

_AFTER_SLASH = chr(ord("/") + 1)
"""The character after ``/``: the paths starting with ``p/`` sort from ``p/`` up to ``p0``."""

_ONLY_A_LEADING_PART_NORMALIZES = all(sep in ("/", None) for sep in (os.sep, os.altsep))
"""Whether :func:`normalize_path` changes only a leading ``/`` or ``./`` (no other separator)."""


def _bounds(paths: list[str], directory: str) -> tuple[int, int]:
    """Where the sorted paths below ``directory`` (those starting with ``directory/``) are."""
    low = bisect_left(paths, directory + "/")
    return low, bisect_left(paths, directory + _AFTER_SLASH, low)


def _any_below(paths: list[str], directory: str) -> bool:
    """Whether a sorted path starts with ``directory/`` (with ``""``: with ``/``)."""
    low, high = _bounds(paths, directory)
    return low < high


def _normalized(files: Iterable[str]) -> list[str]:
    """The files as pathspec matches them, sorted.

    The listing of a repository rarely has a path that normalizes to another: the sorted paths
    starting with ``/`` or ``./`` are found by bisection instead of looking at each path.
    """
    paths = sorted(files)
    if _ONLY_A_LEADING_PART_NORMALIZES and not (_any_below(paths, "") or _any_below(paths, ".")):
        return paths
    return sorted(normalize_path(path) for path in paths)


class _Repository:
    """A repository's files, indexed to ask of one pattern after another: does a file match it?

    ``by_regex`` are the files :func:`needs_regex` leaves to a pattern's expression; the others
    are answered by string comparison or tried only on the files a glob could match. The indexes
    of names and directories are built on first need, from the distinct directories.
    """

    def __init__(self, files: Iterable[str]) -> None:
        paths = _normalized(files)
        # One search through all the paths finds a newline faster than a test of each path.
        if not _any_below(paths, "") and "\n" not in "".join(paths):
            self.by_regex: list[str] = []
        else:
            self.by_regex = [path for path in paths if needs_regex(path)]
            paths = [path for path in paths if not needs_regex(path)]
        self._paths = paths

    @cached_property
    def _files(self) -> frozenset[str]:
        return frozenset(self._paths)

    @cached_property
    def _last_segments(self) -> frozenset[str]:
        return frozenset(path.rpartition("/")[2] for path in self._paths)

    @cached_property
    def _directories_named(self) -> dict[str, list[str]]:
        """Each directory name, to the directories so named (each directory a file is below)."""
        named: dict[str, list[str]] = {}
        seen: set[str] = set()
        for parent in {path.rpartition("/")[0] for path in self._paths} - {""}:
            directory = parent
            while directory not in seen:
                seen.add(directory)
                above, slash, name = directory.rpartition("/")
                named.setdefault(name, []).append(directory)
                if not slash:
                    break
                directory = above
        return named

    def _below(self, directory: str) -> list[str]:
        """The files below ``directory``."""
        low, high = _bounds(self._paths, directory)
        return self._paths[low:high]

    def _in_directory_named(self, name: str) -> list[str]:
        """The files with a directory ``name`` (a segment of that name that is not their last).

        A directory of that name is skipped when one above it has the name too: the files below
        it are below that one already, and each file is listed once.
        """
        files: list[str] = []
        for directory in self._directories_named.get(name, ()):
            if name not in directory.split("/")[:-1]:
                files += self._below(directory)
        return files

    def has_path(self, text: str) -> bool:
        """Whether ``text`` is a file (not one of ``by_regex``) or a directory above one."""
        return text in self._files or _any_below(self._paths, text)

    def has_match(self, simple: Simple) -> bool:
        """Whether some file (not one of ``by_regex``) matches a string-comparison pattern."""
        if simple.kind == "path":
            return self.has_path(simple.text)
        if simple.kind == "under":
            return _any_below(self._paths, simple.text)
        if simple.kind == "name":
            return simple.text in self._last_segments or simple.text in self._directories_named
        return simple.text in self._directories_named

    def candidates(self, body: str) -> list[str]:
        """The files (not ``by_regex``) a glob may match.

        Those below its literal directory, or having the directory name it requires, or all.
        """
        prefix = literal_prefix(body)
        if prefix is not None:
            return self._below(prefix)
        directory = required_directory(body)
        if directory is not None:
            return self._in_directory_named(directory)
        return self._paths


def _matches_one_of(compiled: Compiled | None, paths: list[str]) -> bool:
    return compiled is not None and any(compiled.match_file(path) is not None for path in paths)


class PatternSearch:
    """A mapping's selecting patterns, ready to be looked for among a repository's files.

    Getting ready needs no file, so ``validate`` does it while git is still listing them:
    each distinct pattern is classified, and a common glob compiled (it cannot fail). Other
    globs are compiled only when some file could match them; a compile error names the first
    rule using the pattern.
    """

    def __init__(self, mapping: Mapping, compile_: _Compile | None = None) -> None:
        self._mapping = mapping
        self._compile = compile_ or _Compiler(mapping.source)
        self._first_line: dict[str, int] = {}
        for rule in mapping.rules:
            for body in rule.patterns:
                if not body.startswith("!"):  # selecting, as split_patterns tells them apart
                    self._first_line.setdefault(body, rule.line)
        # Most patterns are exact paths: looked up as they are, without a Simple for each.
        self._literal = [body for body in self._first_line if is_literal_path(body)]
        literal = set(self._literal)
        self._simple = {body: classify(body) for body in self._first_line if body not in literal}
        for body, simple in self._simple.items():
            if simple is None and is_common_glob(body):
                self._compile(body, self._first_line[body])

    def unmatched(self, repo_files: Iterable[str]) -> list[Problem]:
        """A warning for each selecting pattern of each rule that matches no repository file."""
        repository = _Repository(repo_files)
        missing = {body for body in self._literal if not repository.has_path(body)}
        if repository.by_regex:
            missing = {body for body in missing if not self._found_by_regex(body, repository)}
        missing.update(body for body in self._simple if not self._found(body, repository))
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
            if pattern in missing  # only selecting patterns are
        ]

    def _found(self, body: str, repository: _Repository) -> bool:
        """Whether a selecting pattern matches some file of the repository."""
        simple = self._simple[body]
        if simple is not None:
            found = repository.has_match(simple)
        else:
            candidates = repository.candidates(body)
            compiled = self._compile(body, self._first_line[body]) if candidates else None
            found = _matches_one_of(compiled, candidates)
        return found or self._found_by_regex(body, repository)

    def _found_by_regex(self, body: str, repository: _Repository) -> bool:
        """Whether the pattern's expression matches one of the files only it can answer."""
        if not repository.by_regex:
            return False
        return _matches_one_of(self._compile(body, self._first_line[body]), repository.by_regex)


def compile_mapping(mapping: Mapping) -> Matcher:
    """Index the mapping's patterns once, for :meth:`Matcher.match` on many files."""
    return Matcher(mapping)


def unmatched_patterns(mapping: Mapping, repo_files: Iterable[str]) -> list[Problem]:
    """Warnings for selecting patterns that match no file of the repository.

    The action warns and goes on: a pattern written before its files exist is not an error.
    No :class:`Matcher` is built (see :class:`PatternSearch`).
    """
    return PatternSearch(mapping).unmatched(repo_files)
