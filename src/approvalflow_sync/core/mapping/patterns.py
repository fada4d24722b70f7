"""Gitignore-style patterns as pathspec reads them: what is wrong with one, and which are plain.

Most patterns are exact paths or directories (``^path(?:/|$)``, ``^dir/``), which :func:`plain`
recognises without asking pathspec (a property test holds it to pathspec's answer).
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
    """``("path", p)`` for a pattern matching ``p`` and below, ``("directory", d)`` for one
    matching below ``d``; ``None`` for globs and unanchored names (which match at any depth)."""
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
    """pathspec's expression for a selecting pattern, ``None`` if it can match nothing;
    ``ValueError`` or ``re.error`` when pathspec rejects it."""
    with warnings.catch_warnings():
        # re warns of a "possible nested set" for a pattern like [[a]: the user learns nothing
        warnings.simplefilter("ignore", FutureWarning)
        regex, include = GitIgnoreSpecPattern.pattern_to_regex(body)
    return regex if include and isinstance(regex, str) else None


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
