"""Gitignore-style patterns: pathspec's answer, and the patterns that need no regular expression.

pathspec is the reference: a pattern matches a file when the regular expression pathspec
compiles for it matches the normalized path. :func:`classify` recognises the patterns whose
answer is a plain string comparison (an exact path, a directory prefix, a name at any depth),
and only where that is provably pathspec's answer; everything else is left to the regex. The
rules follow ``GitIgnoreSpecPattern``: a leading ``/`` or a slash inside anchors a pattern to
the root, a pattern of one segment matches at any depth, a trailing ``/`` (or ``/**``) means
"everything below this directory", and a pattern without one also matches below a directory of
that name.
"""

from __future__ import annotations

import functools
import os
import re
import warnings
from collections.abc import Callable
from typing import TYPE_CHECKING, Literal, Protocol, TypeAlias

from approvalflow_sync.core.mapping._frozen import Frozen

if TYPE_CHECKING:
    from pathspec.pattern import RegexPattern


class Compiled(Protocol):
    """A compiled selecting pattern: pathspec's, or :class:`Glob` for the common globs."""

    def match_file(self, file: str) -> object | None:
        """Something (a match) when the normalized path matches, else ``None``."""


GLOB_CHARS = frozenset("*?[\\")
"""Characters that make a segment more than literal text (``\\`` escapes the next one)."""

Kind = Literal["path", "under", "name", "dirname"]


_SEPARATORS = tuple(sep for sep in (os.sep, os.altsep) if sep and sep != "/")
"""The separators pathspec turns into ``/`` (its ``NORMALIZE_PATH_SEPS``): none on POSIX."""


@functools.cache
def _pattern_class() -> Callable[[str], RegexPattern]:
    """The class :class:`GitIgnoreSpec` compiles lines with (renamed in pathspec 1.0).

    pathspec is imported here, on first use, not with this module: it costs as much start-up
    as the rest of ``validate``, and patterns :func:`classify` answers never need it.
    """
    from pathspec import GitIgnoreSpec  # noqa: PLC0415 - only when a glob must be compiled

    return type(GitIgnoreSpec.from_lines(["probe"]).patterns[0])


def normalize_path(path: str) -> str:
    """The path as pathspec matches it (separators, a leading ``/`` or ``./`` removed).

    The same as ``pathspec.util.normalize_file`` (a property test holds them equal), without
    importing pathspec.
    """
    for separator in _SEPARATORS:
        path = path.replace(separator, "/")
    if path.startswith("/"):
        return path[1:]
    if path.startswith("./"):
        return path[2:]
    return path


def needs_regex(normalized: str) -> bool:
    """Whether string comparison may disagree with the regex for this path.

    ``.`` in pathspec's expressions does not match a newline and ``$`` matches before a final
    one; an empty first segment defeats ``(?:.+/)?``. Real repository paths have neither.
    """
    return "\n" in normalized or normalized.startswith("/")


def compile_positive(body: str) -> Compiled | None:
    """pathspec's compiled pattern for one that selects files, or ``None`` if it selects none.

    Test a path with ``pattern.match_file(path) is not None``, as pathspec does (its search
    method changed between versions). ``None`` is what pathspec makes of a comment (``#x``), a
    lone ``/``, an invalid character class (pathspec 1.1) or a second ``!``: patterns that never
    match. Raises ``ValueError`` or ``re.error`` when pathspec rejects the pattern. A common
    glob (:data:`_COMMON_GLOB`) gets pathspec's expression without importing pathspec.
    """
    if _COMMON_GLOB.fullmatch(body):
        return Glob(body)
    with warnings.catch_warnings():
        # re warns of a "possible nested set" for a pattern like [[a]: the user learns nothing
        warnings.simplefilter("ignore", FutureWarning)
        pattern = _pattern_class()(body)
    if pattern.include is not True or pattern.regex is None:
        return None
    return pattern


_COMMON_GLOB = re.compile(r"(?![#!\s])(?!/\Z)[^\[\\]+(?<!\s)")
"""A pattern without ``[`` or ``\\``, surrounding space, a leading ``#`` or ``!``, and not ``/``:
pathspec neither rejects nor discards one, and :func:`glob_expression` translates it."""

_DIR_MARK = "(?P<ps_d>/)"
"""pathspec's group for the ``/`` after a directory (``GitIgnoreSpecPattern``'s ``ps_d``)."""


def is_common_glob(body: str) -> bool:
    """Whether :func:`compile_positive` compiles ``body`` without pathspec (and cannot fail)."""
    return _COMMON_GLOB.fullmatch(body) is not None


_Segment: TypeAlias = "str | re.Pattern[str] | None"
"""One segment of a glob: a literal name, an expression for a name, or ``None`` for ``**``."""

_ANY_NAME = re.compile("[^/]+")


class Glob:
    """A common glob, matched as pathspec's expression for it (:func:`glob_expression`) matches.

    Compiling an expression costs some 50 µs in :mod:`re`'s parser, a fifth of ``validate``
    for 500 globs. A glob is a list of segments, ``**`` standing for any number of path
    segments, and is matched against the path's segments; only a segment with ``*`` or ``?`` is
    an expression, compiled once per distinct segment. A path with an empty segment, a line
    break or a leading ``/`` (never in a repository's listing) is matched by the expression.
    """

    __slots__ = ("_body", "_regex", "_tokens")

    def __init__(self, body: str) -> None:
        self._body = body
        self._tokens = _tokens(body)
        self._regex: re.Pattern[str] | None = None

    def match_file(self, file: str) -> object | None:
        """A truthy value when ``file`` (normalized) matches, else ``None``."""
        if not file or "\n" in file or "//" in file or file[0] == "/" or file[-1] == "/":
            if self._regex is None:
                self._regex = re.compile(glob_expression(self._body))
            return self._regex.search(file)
        return True if _segments_match(self._tokens, file.split("/")) else None


def _tokens(body: str) -> list[_Segment]:
    """The glob's segments as pathspec's expression reads them, for :func:`_segments_match`.

    A leading or inner ``**`` is any number of segments; a trailing ``**`` at least one (its
    expression ends with ``/``); after a last segment of another kind any number may follow
    (``(?:/|$)``, and the expression is searched, not matched to the end).
    """
    normalized = _segments(body)
    if normalized is None:
        raise ValueError(f"{body!r} is not a common glob")
    segments, is_dir = normalized
    if segments in (["**"], ["**", "*", "**"]) and (is_dir or segments != ["**"]):
        return [None, _ANY_NAME, _ANY_NAME, None]  # a "/" somewhere: two segments at least
    if segments in (["**"], ["**", "*"]):
        return [None, _ANY_NAME, None]  # "." : any path
    tokens: list[_Segment] = []
    end = len(segments) - 1
    for index, segment in enumerate(segments):
        if segment == "**":
            tokens += [None] if index < end else [_ANY_NAME, None]
            continue
        tokens.append(_segment_token(segment))
        if index == end:
            tokens.append(None)
    return tokens


@functools.cache
def _segment_token(segment: str) -> str | re.Pattern[str]:
    if segment == "*":
        return _ANY_NAME
    if "*" in segment or "?" in segment:
        return re.compile(_segment_expression(segment))
    return segment


def _segments_match(tokens: list[_Segment], names: list[str]) -> bool:
    """Whether the tokens match all the path's segments (``None`` any run of them).

    The usual wildcard walk: on a mismatch, go back to the last ``None`` and let it take one
    more segment.
    """
    token = name = 0
    star, star_name = -1, 0
    while name < len(names):
        if token < len(tokens):
            current = tokens[token]
            if current is None:
                star, star_name = token, name
                token += 1
                continue
            if _name_matches(current, names[name]):
                token += 1
                name += 1
                continue
        if star < 0:
            return False
        star_name += 1
        token, name = star + 1, star_name
    return all(rest is None for rest in tokens[token:])


def _name_matches(token: str | re.Pattern[str], name: str) -> bool:
    if isinstance(token, str):
        return token == name
    return token.fullmatch(name) is not None


def glob_expression(body: str) -> str:
    """The expression ``GitIgnoreSpecPattern.pattern_to_regex`` makes of a common glob.

    pathspec costs a fifth of ``validate``'s time to import, and nearly every glob is of this
    kind. The steps follow pathspec's (normalized segments, the patterns of everything it
    special-cases, then segment by segment); a property test holds the expressions equal.
    """
    normalized = _segments(body)
    if normalized is None:
        raise ValueError(f"{body!r} is not a common glob")
    segments, is_dir = normalized
    if segments in (["**"], ["**", "*", "**"]):
        return _DIR_MARK if is_dir else "." if segments == ["**"] else "/"
    if segments == ["**", "*"]:
        return "."
    parts: list[str] = []
    need_slash = False
    end = len(segments) - 1
    for index, segment in enumerate(segments):
        if segment == "**":
            if index == 0:
                parts.append("^(?:.+/)?")
            elif index < end:
                parts.append("(?:/.+)?")
                need_slash = True
            else:
                parts.append(_DIR_MARK if is_dir else "/")
            continue
        if index == 0:
            parts.append("^")
        if need_slash:
            parts.append("/")
        parts.append("[^/]+" if segment == "*" else _segment_expression(segment))
        if index == end:
            parts.append(f"(?:{_DIR_MARK}|$)")
        need_slash = True
    return "".join(parts)


def _segment_expression(segment: str) -> str:
    """One segment's expression: ``*`` and ``?`` stay within the segment, the rest is literal."""
    wildcards = {"*": "[^/]*", "?": "[^/]"}
    return "".join(wildcards.get(char) or re.escape(char) for char in segment)


def split_patterns(patterns: tuple[str, ...]) -> tuple[list[str], list[str]]:
    """A rule's patterns as (selecting, excluding), the ``!`` removed from the excluding ones."""
    positives = [p for p in patterns if not p.startswith("!")]
    negatives = [p[1:] for p in patterns if p.startswith("!")]
    return positives, negatives


def _segments(body: str) -> tuple[list[str], bool] | None:
    """pathspec's normalized segments and whether the pattern ends with ``/``.

    Mirrors ``GitIgnoreSpecPattern``: strip a leading ``/`` (anchored), put ``**`` in front of
    a single segment (any depth), turn a trailing ``/`` into ``**``, collapse ``**/**``.
    """
    segments = body.split("/")
    is_dir = not segments[-1]
    if not segments[0]:
        del segments[0]
    elif (len(segments) == 1 or (len(segments) == 2 and not segments[1])) and segments[0] != "**":
        segments.insert(0, "**")
    if not segments:
        return None
    if not segments[-1]:
        segments[-1] = "**"
    collapsed = [segments[0]]
    for segment in segments[1:]:
        if not (segment == "**" and collapsed[-1] == "**"):
            collapsed.append(segment)
    return collapsed, is_dir


def _plain_body(body: str) -> bool:
    """Whether the pattern has none of the edge cases pathspec treats specially as a whole."""
    return bool(body) and body == body.strip() and body[0] not in "#!"


def _literal(segment: str) -> bool:
    return bool(segment) and segment != "**" and not GLOB_CHARS.intersection(segment)


class Simple(Frozen):
    """A pattern answered by string comparison.

    - ``path``: the file ``text`` or anything below the directory ``text``;
    - ``under``: anything below the directory ``text`` (``docs/`` anchored, ``docs/**``);
    - ``name``: a path with a segment ``text`` (``README.md``, ``**/README.md``);
    - ``dirname``: a path with a segment ``text`` that is not its last (``build/``).
    """

    _fields = ("kind", "text")
    __slots__ = _fields
    kind: Kind
    text: str

    def __init__(self, kind: Kind, text: str) -> None:
        object.__setattr__(self, "kind", kind)
        object.__setattr__(self, "text", text)

    def matches(self, normalized: str) -> bool:
        """pathspec's answer for a normalized path that :func:`needs_regex` lets us compare."""
        if self.kind == "path":
            return normalized == self.text or normalized.startswith(self.text + "/")
        if self.kind == "under":
            return normalized.startswith(self.text + "/")
        segments = normalized.split("/")
        return self.text in (segments if self.kind == "name" else segments[:-1])


_LITERAL_PATH = re.compile(r"(?![#!\s])[^*?\[\\/]+(?:/[^*?\[\\/]+)+(?<!\s)")
"""A path of two or more literal segments without surrounding whitespace: most rules are one.

:func:`classify` answers such a pattern by the rules below without splitting it (a property
test holds the two ways equal).
"""


def is_literal_path(body: str) -> bool:
    """Whether ``body`` is a path of literal segments: :func:`classify` gives ``path`` for it."""
    return _LITERAL_PATH.fullmatch(body) is not None


def classify(body: str) -> Simple | None:
    """The string comparison equal to pathspec's answer for ``body``, if there is one."""
    if _LITERAL_PATH.fullmatch(body):
        return Simple("path", body)
    return _classify_segments(body)


def _classify_segments(body: str) -> Simple | None:
    """:func:`classify` the long way, from pathspec's normalized segments."""
    if not _plain_body(body):
        return None
    normalized = _segments(body)
    if normalized is None:
        return None
    segments, _ = normalized
    leading = segments[0] == "**"
    trailing = len(segments) > 1 and segments[-1] == "**"
    middle = segments[1 if leading else 0 : len(segments) - 1 if trailing else len(segments)]
    if not middle or not all(_literal(segment) for segment in middle):
        return None
    if leading:
        if len(middle) != 1:
            return None
        return Simple("dirname" if trailing else "name", middle[0])
    return Simple("under" if trailing else "path", "/".join(middle))


def literal_prefix(body: str) -> str | None:
    """The directory every path matching this glob starts with (without its final ``/``).

    An anchored pattern whose first segments are literal and followed by another segment
    compiles to ``^first/second/...``: only paths below that directory can match it.
    """
    if not _plain_body(body):
        return None
    normalized = _segments(body)
    if normalized is None:
        return None
    segments, _ = normalized
    literal: list[str] = []
    for segment in segments[:-1]:
        if not _literal(segment):
            break
        literal.append(segment)
    return "/".join(literal) or None


def required_directory(body: str) -> str | None:
    """A directory name every path matching this unanchored glob has as a segment, or None.

    In ``**/topic/*.md`` a literal segment stands before the last one: pathspec's expression
    requires it as a whole path segment followed by ``/``, so a file can only match if one of
    its directories is named so. The matcher buckets such globs by that name instead of trying
    them on every file.
    """
    if not _plain_body(body):
        return None
    normalized = _segments(body)
    if normalized is None:
        return None
    segments, _ = normalized
    literal = [segment for segment in segments[:-1] if _literal(segment)]
    return literal[-1] if literal else None


_WINDOWS_SEPARATOR = re.compile(r"\\[A-Za-z0-9_]")

_FINE = re.compile(r"(?!\./)(?!(?:[^/]*/)*\.\.(?:/|\Z))(?!/\s*\Z)[^\s!#\[\\][^\[\\]*")
"""A pattern :func:`pattern_problem` accepts without asking pathspec.

Not ``./``-led, no ``..`` segment, not a lone ``/``, no leading space, ``!`` or ``#``, and no
``[`` or ``\\``: pathspec raises only for an unfinished escape or a pattern that normalizes to
nothing, and gives no expression only for a comment, a blank, a lone ``/`` or a bad ``[...]``
(``GitIgnoreSpecPattern.pattern_to_regex``). A property test holds the shortcut to the long way.
"""


def pattern_problem(pattern: str) -> str | None:
    """What is wrong with one pattern as written in the file (``!`` included), or ``None``."""
    excluding = pattern.startswith("!")
    body = pattern[1:] if excluding else pattern
    if _FINE.fullmatch(body):
        return None
    return _body_problem(pattern, body, excluding=excluding)


def _body_problem(pattern: str, body: str, *, excluding: bool) -> str | None:
    """:func:`pattern_problem` the long way: each check, then pathspec's compiled pattern."""
    if not body.strip():
        if excluding:
            return "a lone '!' excludes nothing; write '!' followed by a pattern, like '!drafts/**'"
        return "empty pattern; give a file, directory or glob such as docs/auth/**"
    if body.startswith("!"):
        single = "!" + body.lstrip("!")
        return f"{pattern!r} starts with two '!'; one '!' excludes: write {single!r}"
    if body.startswith("#"):
        return (
            f"{pattern!r} starts with '#', which makes it a comment in gitignore syntax that "
            r"matches nothing; write '\#' for a name that starts with '#'"
        )
    if body.startswith("./"):
        return f"{pattern!r}: patterns are relative to the repository root; drop the leading './'"
    if ".." in body.split("/"):
        return f"{pattern!r}: '..' never matches a repository path; write the path from the root"
    if _WINDOWS_SEPARATOR.search(body):
        return (
            f"{pattern!r}: '\\' escapes the next character in gitignore patterns; separate "
            "directories with '/'"
        )
    if classify(body) is not None:
        return None
    try:
        regex = compile_positive(body)
    except (ValueError, re.error) as error:
        return f"{pattern!r} is not a valid gitignore pattern ({error})"
    if regex is None:
        if "[" in body:
            return (
                f"{pattern!r} has an unclosed or invalid '[...]' character class and matches "
                r"nothing; close it, or write '\[' for a literal bracket"
            )
        return f"{pattern!r} matches nothing; give a path, such as docs/**"
    return None
