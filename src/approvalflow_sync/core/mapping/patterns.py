"""Gitignore-style patterns as pathspec reads them: what is wrong with one, and which are plain.

pathspec is the definition: a pattern matches a path when its expression
(``GitIgnoreSpecPattern.pattern_to_regex``) matches the normalized path under RE2, pathspec's
linear-time backend. Most patterns of a mapping are exact paths or directories; their
expressions are ``^path(?:/|$)`` and ``^dir/``, which :func:`plain` recognises without asking
pathspec (a property test holds it to pathspec's answer).
"""

from __future__ import annotations

import functools
import re
import warnings
from typing import Literal

from pathspec.patterns.gitignore.spec import GitIgnoreSpecPattern

PlainKind = Literal["path", "directory"]

_SEGMENT = r"(?!\.\.?(?:/|\Z))[^*?\[\\/\s](?:[^*?\[\\/]*[^*?\[\\/\s])?"
"""A segment without glob characters, ``\\``, or whitespace at either end, not ``.`` or ``..``."""

_PATH = re.compile(rf"/?({_SEGMENT}(?:/{_SEGMENT})*)")
_DIRECTORY = re.compile(rf"/?({_SEGMENT}(?:/{_SEGMENT})*)/(?:\*\*/?)?")


@functools.cache  # asked by the loader's check, then by the matcher
def plain(body: str) -> tuple[PlainKind, str] | None:
    """``("path", p)`` for a pattern matching ``p`` and what is below it, ``("directory", d)``
    for one matching only what is below ``d``; ``None`` for the others (globs, names).

    Anchored patterns only: a pattern of one segment without a leading ``/`` (``README.md``,
    ``docs/``) matches at any depth, and is a glob here.
    """
    if body[:1] in "#!":
        return None
    match = _PATH.fullmatch(body)
    if match and (body[0] == "/" or "/" in match[1]):
        return "path", match[1]
    match = _DIRECTORY.fullmatch(body)
    if match and (body[0] == "/" or "/" in match[1] or "*" in body):
        return "directory", match[1]
    return None


@functools.cache  # asked by the loader's check, then by the matcher
def expression(body: str) -> str | None:
    """pathspec's expression for a selecting pattern, or ``None`` if it can match nothing.

    ``None`` is what pathspec makes of a comment (``#x``), a lone ``/`` or an invalid character
    class. Raises ``ValueError`` or ``re.error`` when pathspec rejects the pattern.
    """
    with warnings.catch_warnings():
        # re warns of a "possible nested set" for a pattern like [[a]: the user learns nothing
        warnings.simplefilter("ignore", FutureWarning)
        regex, include = GitIgnoreSpecPattern.pattern_to_regex(body)
    return regex if include and isinstance(regex, str) else None


def split_patterns(patterns: tuple[str, ...]) -> tuple[list[str], list[str]]:
    """A rule's patterns as (selecting, excluding), the ``!`` removed from the excluding ones."""
    positives = [p for p in patterns if not p.startswith("!")]
    negatives = [p[1:] for p in patterns if p.startswith("!")]
    return positives, negatives


_WINDOWS_SEPARATOR = re.compile(r"\\[A-Za-z0-9_]")


def pattern_problem(pattern: str) -> str | None:
    """What is wrong with one pattern as written in the file (``!`` included), or ``None``."""
    excluding = pattern.startswith("!")
    body = pattern[1:] if excluding else pattern
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
    if plain(body) is not None:
        return None
    try:
        regex = expression(body)
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
