"""The mapping file read through YAML's node tree: any YAML, every problem with its position.

The walker reads the node tree (``yaml.compose``) rather than the converted values: nodes keep
their position, and a page id's source text survives YAML's conversions (``0123`` is not octal
83, ``12345678901234567890`` is not a float). Key names come from the JSON Schema, so the two
agree.
"""

from __future__ import annotations

import difflib
import re

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from approvalflow_sync.core.mapping.model import (
    DEFAULT_TITLE_TEMPLATE,
    MAX_ENTRIES,
    MAX_RULES,
    Mapping,
    MappingError,
    Problem,
    Rule,
)
from approvalflow_sync.core.mapping.patterns import pattern_problem
from approvalflow_sync.core.mapping.schema import rule_keys, top_level_keys
from approvalflow_sync.core.mapping.values import PAGE_HINT, template_problem, url_problem

_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
"""libyaml's parser when present (three times faster on 10,000 rules), else PyYAML's.

Either composes the node tree, whose nodes keep their line and column, in C or in Python."""

_TAG = "tag:yaml.org,2002:"
_STR = _TAG + "str"
_INT = _TAG + "int"
_NULL = _TAG + "null"
_DIGITS = re.compile(r"[0-9]+", re.ASCII)
_LINE_BREAK = re.compile("\r\n|[\n\r\x85\u2028\u2029]")
_TAB_MESSAGE = "tabs are not allowed for indentation in YAML; use spaces"
_EXAMPLE = 'space: "12345" and pages: [{path: "docs/**", page: "67890"}]'


def load_yaml(text: str, source: str) -> Mapping:
    """The mapping in ``text`` read through YAML's node tree, or every problem in it."""
    try:
        root = yaml.compose(text, Loader=_LOADER)
    except yaml.MarkedYAMLError as error:
        raise MappingError(_syntax_problems(text, source, error)) from None
    except yaml.YAMLError as error:
        raise MappingError([_reader_problem(text, source, error)]) from None
    if root is None:
        empty = f"the mapping file is empty; write a mapping such as {_EXAMPLE}"
        raise MappingError([Problem(source, 1, 1, empty)])
    walker = _Walker(source)
    mapping = walker.mapping(root)
    if walker.problems or mapping is None:  # the walker builds no mapping only with problems
        raise MappingError(sorted(walker.problems, key=lambda p: (p.line, p.column)))
    return mapping


def _lines(text: str) -> list[str]:
    """The lines as YAML counts them."""
    return _LINE_BREAK.split(text)


def _syntax_problems(text: str, source: str, error: yaml.MarkedYAMLError) -> list[Problem]:
    """The parser's complaint with its position, or one problem per tab-indented line."""
    mark = error.problem_mark or error.context_mark
    line, column = (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)
    lines = _lines(text)
    tabs = _tab_indents(lines)
    problem = str(error.problem or error.context or "invalid YAML")
    if tabs and ("tab" in problem or "\t" in problem or any(t[0] == line for t in tabs)):
        return [Problem(source, t_line, t_column, _TAB_MESSAGE) for t_line, t_column in tabs]
    if "another document" in problem:
        return [
            Problem(
                source,
                line,
                column,
                "the file holds more than one YAML document ('---'); keep a single document",
            )
        ]
    message = f"invalid YAML: {problem}"
    context = error.context_mark
    if error.context and context is not None and context is not mark:
        message += f" ({error.context} at line {context.line + 1}, column {context.column + 1})"
    first = context.line if context is not None else line - 1
    region = "\n".join(lines[max(first, 0) : line])
    if "alias" in problem or "alias" in str(error.context) or re.search(r"(^|[\s\[{,])\*", region):
        message += "; a value starting with '*' is read as a YAML alias: quote it, like '*.md'"
    elif re.search(r"(^|[\s\[{,])!", region):
        message += "; a value starting with '!' is read as a YAML tag: quote it, like '!drafts/**'"
    else:
        message += "; check the indentation and quotes around this position"
    return [Problem(source, line, column, message)]


def _tab_indents(lines: list[str]) -> list[tuple[int, int]]:
    """Line and column of the first tab in each line's indentation (blank lines aside)."""
    found = []
    for number, line in enumerate(lines, start=1):
        content = line.lstrip(" \t")
        indent = line[: len(line) - len(content)]
        if "\t" in indent and content and not content.startswith("#"):
            found.append((number, indent.index("\t") + 1))
    return found


def _reader_problem(text: str, source: str, error: yaml.YAMLError) -> Problem:
    """A character YAML refuses (a control character), located from its offset."""
    position = getattr(error, "position", None)
    if not isinstance(position, int):
        return Problem(source, 1, 1, f"invalid YAML: {error}")
    head = text[:position]
    lines = _lines(head)
    character = text[position] if position < len(text) else ""
    return Problem(
        source,
        len(lines),
        len(lines[-1]) + 1,
        f"the character {character!r} is not allowed in YAML; remove it",
    )


def _where(node: Node) -> tuple[int, int]:
    return node.start_mark.line + 1, node.start_mark.column + 1


def _describe(node: Node) -> str:
    if isinstance(node, MappingNode):
        return "a mapping"
    if isinstance(node, SequenceNode):
        return "a list"
    if node.tag == _NULL:
        return "an empty value"
    if node.tag == _STR:
        return f"the text {node.value!r}"
    return f"{node.value!r}"


def _hint(key: str, known: tuple[str, ...]) -> str:
    """How to fix an unknown key: a rule's key dedented to the top level says so."""
    if key in rule_keys() and key not in known:
        return (
            f"{key!r} belongs to a rule under 'pages:'; indent it to line up with its rule's "
            "'- path:'"
        )
    return _suggest(key, known)


def _suggest(key: str, known: tuple[str, ...]) -> str:
    """A hint naming the closest known key, or all of them."""
    normalized = key.strip().lower().replace("_", "-").replace(" ", "-")
    close = difflib.get_close_matches(normalized, known, n=1, cutoff=0.6)
    if close:
        return f"did you mean {close[0]!r}?"
    return "the keys are " + ", ".join(known)


class _RawRule:
    """A rule as far as it could be read, before spaces are resolved."""

    __slots__ = ("node", "ok", "pages", "patterns", "space", "space_given")

    def __init__(self, node: Node, *, ok: bool = True) -> None:
        self.node = node
        self.patterns: tuple[str, ...] | None = None
        self.pages: list[tuple[str, Node]] = []
        self.space: str | None = None
        self.space_given = False
        self.ok = ok


class _Walker:
    """Collects problems while turning the node tree into a :class:`Mapping`."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.problems: list[Problem] = []
        self.entries = 0
        self.over_budget = False

    def problem(self, node: Node, message: str) -> None:
        line, column = _where(node)
        self.problems.append(Problem(self.source, line, column, message))

    def keys(
        self, node: MappingNode, known: tuple[str, ...], what: str
    ) -> dict[str, tuple[Node, Node]]:
        """The mapping's known keys with their key and value nodes; reports the others."""
        found: dict[str, tuple[Node, Node]] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, ScalarNode):
                self.problem(
                    key_node, f"keys in {what} must be plain names, not {_describe(key_node)}"
                )
                continue
            key = key_node.value
            if key in found:
                first = found[key][0].start_mark.line + 1
                self.problem(
                    key_node, f"{key!r} is given twice in {what} (first at line {first}); keep one"
                )
            elif key not in known:
                self.problem(key_node, f"unknown key {key!r} in {what}; {_hint(key, known)}")
            else:
                found[key] = (key_node, value_node)
        return found

    def mapping(self, root: Node) -> Mapping | None:
        """The whole file."""
        if not isinstance(root, MappingNode):
            self.problem(
                root,
                f"the top level must be a mapping of keys (space, pages, ...), not "
                f"{_describe(root)}; write a mapping such as {_EXAMPLE}",
            )
            return None
        found = self.keys(root, top_level_keys(), "the top level")
        space = self.identifier(found["space"][1], "space") if "space" in found else None
        url = self.url(found["confluence-url"][1]) if "confluence-url" in found else None
        template = (
            self.template(found["title-template"][1])
            if "title-template" in found
            else DEFAULT_TITLE_TEMPLATE
        )
        if "pages" not in found:
            self.problem(root, f"the mapping file has no 'pages' list; add one, such as {_EXAMPLE}")
            return None
        raw_rules = self.rules(found["pages"][1])
        rules = self.resolve(root, raw_rules, space, space_given="space" in found)
        if self.problems or rules is None or template is None:
            return None
        return Mapping(
            space=space,
            confluence_url=url,
            title_template=template,
            rules=rules,
            source=self.source,
        )

    def scalar_text(self, node: Node, what: str, example: str) -> str | None:
        """A string value; anything else (a number, a list, a YAML tag) is a problem."""
        if isinstance(node, ScalarNode) and node.tag == _STR:
            text: str = node.value
            return text
        if isinstance(node, ScalarNode) and not node.tag.startswith(_TAG):
            written = f"{node.tag} {node.value}" if node.value else node.tag
            self.problem(
                node,
                f"{what}: {written!r} was read as a YAML tag because it starts with '!'; "
                f'quote it: "{written}"',
            )
        elif isinstance(node, ScalarNode) and node.tag != _NULL:
            self.problem(node, f"{what}: {node.value} is not text; quote it: {node.value!r}")
        else:
            self.problem(node, f"{what}: expected text, found {_describe(node)}; like {example}")
        return None

    def identifier(self, node: Node, what: str) -> str | None:
        """A page or space id: digits, quoted or not, kept exactly as written."""
        if isinstance(node, ScalarNode) and node.tag in (_STR, _INT):
            value: str = node.value
            if _DIGITS.fullmatch(value):
                return value
        if what == "space":
            self.problem(
                node,
                f"space: {_describe(node)} is not a space id; give the space's numeric id (not "
                'its key), such as "12345"',
            )
        else:
            self.problem(
                node, f"page: {_describe(node)} is not a page id; give its digits, {PAGE_HINT}"
            )
        return None

    def url(self, node: Node) -> str | None:
        text = self.scalar_text(node, "confluence-url", "https://acme.atlassian.net/wiki")
        if text is None:
            return None
        problem = url_problem(text, "confluence-url")
        if problem is not None:
            self.problem(node, problem)
            return None
        return text.strip().rstrip("/")

    def template(self, node: Node) -> str | None:
        text = self.scalar_text(node, "title-template", '"PR-{number} {title}"')
        if text is None:
            return None
        problem = template_problem(text)
        if problem is not None:
            self.problem(node, problem)
            return None
        return text

    def items(self, node: Node) -> list[Node]:
        """A scalar or a list of scalars, as a list; counts them against the entry budget."""
        items: list[Node] = node.value if isinstance(node, SequenceNode) else [node]
        self.entries += len(items)
        if self.entries > MAX_ENTRIES:
            if not self.over_budget:
                self.problem(
                    node,
                    f"over {MAX_ENTRIES:,} patterns and page ids in all; map whole directories "
                    "(docs/team/**) instead of single files",
                )
            self.over_budget = True
            return []
        return items

    def rules(self, node: Node) -> list[_RawRule]:
        if not isinstance(node, SequenceNode):
            self.problem(
                node,
                f"pages must be a list of rules ('- path: ...' with 'page: ...'), not "
                f"{_describe(node)}",
            )
            return []
        if not node.value:
            self.problem(node, "pages is empty; add at least one rule with a path and a page")
            return []
        if len(node.value) > MAX_RULES:
            self.problem(
                node,
                f"pages has {len(node.value):,} rules, over the limit of {MAX_RULES:,}; map "
                "whole directories (docs/team/**) instead of single files",
            )
            return []
        raw_rules = []
        for item in node.value:
            if self.over_budget:
                break
            raw_rules.append(self.rule(item))
        return raw_rules

    def rule(self, node: Node) -> _RawRule:
        if not isinstance(node, MappingNode):
            self.problem(
                node,
                f"a rule must be a mapping with 'path' and 'page', not {_describe(node)}; "
                'like "- path: docs/** / page: \\"67890\\""',
            )
            return _RawRule(node, ok=False)
        raw = _RawRule(node)
        before = len(self.problems)
        found = self.keys(node, rule_keys(), "this rule")
        if "path" in found:
            raw.patterns = self.patterns(found["path"][1])
        else:
            self.problem(
                node, "this rule has no 'path'; add the files it covers, like path: docs/**"
            )
        if "page" in found:
            pages: dict[str, Node] = {}
            for item in self.items(found["page"][1]):
                page = self.identifier(item, "page")
                if page is not None:
                    pages.setdefault(page, item)
            raw.pages = list(pages.items())
            if isinstance(found["page"][1], SequenceNode) and not found["page"][1].value:
                self.problem(
                    found["page"][1], f"page: the list is empty; give a page id, {PAGE_HINT}"
                )
        else:
            self.problem(node, f"this rule has no 'page'; add the page id, {PAGE_HINT}")
        if "space" in found:
            raw.space_given = True
            raw.space = self.identifier(found["space"][1], "space")
        raw.ok = len(self.problems) == before
        return raw

    def patterns(self, node: Node) -> tuple[str, ...] | None:
        items = self.items(node)
        if isinstance(node, SequenceNode) and not node.value:
            self.problem(node, "path: the list is empty; give a pattern such as docs/**")
            return None
        patterns: dict[str, None] = {}
        ok = True
        for item in items:
            text = self.scalar_text(item, "path", "'!drafts/**' or '*.md'")
            if text is None:
                ok = False
                continue
            message = pattern_problem(text)
            if message is not None:
                self.problem(item, f"path: {message}")
                ok = False
            patterns[text] = None
        if ok and patterns and all(p.startswith("!") for p in patterns):
            self.problem(
                node,
                "path: every pattern of this rule excludes ('!'), so it matches nothing; add a "
                "pattern that selects files, such as docs/api/**",
            )
            ok = False
        return tuple(patterns) if ok else None

    def resolve(
        self, root: Node, raw_rules: list[_RawRule], default: str | None, *, space_given: bool
    ) -> tuple[Rule, ...] | None:
        """Rules with their space; reports missing spaces, repeated rules, pages in two spaces."""
        homeless = [r for r in raw_rules if isinstance(r.node, MappingNode) and not r.space_given]
        if homeless and not space_given:
            lines = ", ".join(str(_where(r.node)[0]) for r in homeless[:10])
            more = " and more" if len(homeless) > 10 else ""
            self.problem(
                root,
                f"space: missing, and the rules at lines {lines}{more} have no space of their "
                'own; add space: "<space id>" at the top level or to each of those rules',
            )
        rules: list[Rule] = []
        seen_rules: dict[tuple[frozenset[str], frozenset[str], str], int] = {}
        page_spaces: dict[str, tuple[str, int]] = {}
        for raw in raw_rules:
            space = raw.space if raw.space_given else default
            if not raw.ok or raw.patterns is None or not raw.pages or space is None:
                continue
            line, column = _where(raw.node)
            pages = tuple(page for page, _ in raw.pages)
            identity = (frozenset(raw.patterns), frozenset(pages), space)
            if identity in seen_rules:
                self.problem(
                    raw.node,
                    f"this rule repeats the rule at line {seen_rules[identity]} (same path and "
                    "page); remove one of them",
                )
                continue
            seen_rules[identity] = line
            for page, node in raw.pages:
                other_space, other_line = page_spaces.setdefault(page, (space, line))
                if other_space != space:
                    self.problem(
                        node,
                        f"page {page} is in space {space} here but in space {other_space} at "
                        f"line {other_line}; a page belongs to one space, fix the space of one "
                        "of the rules",
                    )
            rules.append(
                Rule(patterns=raw.patterns, pages=pages, space=space, line=line, column=column)
            )
        return tuple(rules)
