"""Page ids kept inside Markdown files, in the forms other publishers already write.

md2conf writes ``<!-- confluence-page-id: 123 -->`` (anywhere in the text, usually first);
markdown-confluence writes ``connie-page-id: "123"`` and Telefonica's markdown-confluence-sync
``confluence_page_id: 123`` in the front matter. Our own front-matter key
``approvalflow-space-id`` names the page's space. Pure: text in, ids out; the caller reads the
files, and decides which commit's text it may trust.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import yaml
from yaml.nodes import MappingNode, ScalarNode

from approvalflow_sync.core.mapping import MatchResult, PageKey
from approvalflow_sync.core.mapping.match import match_result
from approvalflow_sync.core.mapping.yaml_walk import LOADER

MAX_CHARS = 64 * 1024
"""Only a file's start is read: the ids stand at its top, and a file may be huge."""
SUFFIXES = (".md", ".markdown", ".mdx")
ID_KEYS = ("connie-page-id", "confluence_page_id")
SPACE_KEY = "approvalflow-space-id"
HOW = (
    "<!-- confluence-page-id: 123 -->, or connie-page-id or confluence_page_id in the front matter"
)
"""The forms accepted, for messages."""

_COMMENT = re.compile(r"<!--\s*confluence[-_]page[-_]id:\s*([0-9]+)\s*-->")
_FRONT_MATTER = re.compile(r"\A---[ \t]*\r?\n(.*?)^(?:---|\.\.\.)[ \t]*\r?$", re.DOTALL | re.M)
_DIGITS = re.compile(r"[0-9]{1,30}", re.ASCII)


@dataclass(frozen=True)
class FileId:
    """The page a file names, and the space it names for it (None: the mapping's default)."""

    page: str
    space: str | None = None


def is_markdown(path: str) -> bool:
    return path.lower().endswith(SUFFIXES)


def read_id(text: str) -> FileId | None:
    """The page id ``text`` carries, or None; ValueError says what is wrong with one."""
    text = text[:MAX_CHARS].removeprefix("\ufeff")
    fields = _front_matter(text)
    pages = {_id(fields[key], key) for key in ID_KEYS if key in fields}
    pages.update(_COMMENT.findall(text))
    if len(pages) > 1:
        raise ValueError(f"names {len(pages)} pages ({', '.join(sorted(pages))}); keep one")
    space = _id(fields[SPACE_KEY], SPACE_KEY) if SPACE_KEY in fields else None
    if not pages:
        return None
    return FileId(pages.pop(), space)


def _front_matter(text: str) -> dict[str, str | None]:
    """The first ``---`` block's top-level keys with their scalar values as written (YAML's
    node tree: ``0123`` stays ``0123``); a value that is no scalar is None."""
    found = _FRONT_MATTER.match(text)
    if found is None:
        return {}
    try:
        root = yaml.compose(found[1], Loader=LOADER)
    except yaml.YAMLError as error:
        problem = getattr(error, "problem", None) or "not YAML"
        raise ValueError(f"its front matter is not valid YAML ({problem})") from None
    if not isinstance(root, MappingNode):
        return {}
    return {
        key.value: value.value if isinstance(value, ScalarNode) else None
        for key, value in root.value
        if isinstance(key, ScalarNode)
    }


def _id(value: str | None, key: str) -> str:
    text = (value or "").strip()
    if _DIGITS.fullmatch(text) is None:
        shown = repr(text[:40]) if value is not None else "a list or mapping"
        raise ValueError(f"{key} is {shown}, not a Confluence id (digits)")
    return text


@dataclass(frozen=True)
class Contradiction:
    """A file naming a page the mapping's rules for it leave out: the mapping wins."""

    path: str
    named: PageKey
    mapped: frozenset[PageKey]


def with_file_ids(
    mapped: MatchResult, ids: Mapping[str, PageKey], paths: Iterable[str]
) -> tuple[MatchResult, list[Contradiction]]:
    """Each file's mapped pages, else the page it names itself. Where they disagree the mapping
    wins (the reviewed configuration; existing mappings keep their meaning): the file is reported.
    """
    contradictions: list[Contradiction] = []
    pages_of: dict[str, frozenset[PageKey]] = {}
    for path in dict.fromkeys(paths):
        rules = mapped.pages_by_file.get(path, frozenset())
        named = ids.get(path)
        if named is not None and rules and named not in rules:
            contradictions.append(Contradiction(path, named, rules))
        pages_of[path] = rules or (frozenset({named}) if named else frozenset())
    return match_result(pages_of, pages_of), contradictions
