"""The mapping file read through YAML's node tree: any YAML, every problem with its position.

The walker reads the node tree (``yaml.compose``) rather than the converted values: nodes keep
their position, and a page id's source text survives YAML's conversions (``0123`` is not octal
83, ``12345678901234567890`` is not a float).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from approvalflow_sync.approvalflow.base_url import url_problem
from approvalflow_sync.core.mapping.model import MAX_ENTRIES, MAX_RULES, Mapping, Rule
from approvalflow_sync.core.mapping.patterns import pattern_problem
from approvalflow_sync.core.title_template import DEFAULT_TITLE_TEMPLATE, template_problem
from approvalflow_sync.errors import MappingError, Problem

LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
"""libyaml's parser when present (three times faster on 10,000 rules), else PyYAML's."""

_TAG = "tag:yaml.org,2002:"
_STR = _TAG + "str"
_INT = _TAG + "int"
_NULL = _TAG + "null"
_DIGITS = re.compile(r"[0-9]+", re.ASCII)
_LINE_BREAK = re.compile("\r\n|[\n\r\x85\u2028\u2029]")
_TAB_MESSAGE = "tabs are not allowed for indentation in YAML; use spaces"
PAGE_HINT = 'such as "67890" (the number in the page\'s URL, …/pages/67890/…)'
TOP_LEVEL_KEYS = ("space", "confluence-url", "title-template", "pages")
RULE_KEYS = ("path", "page", "space")
"""The keys of ``schema/approvalflow.schema.json`` (a test holds them equal)."""
_CHECKS: dict[str, tuple[str, Callable[[str], str | None]]] = {
    "confluence-url": (
        "https://acme.atlassian.net/wiki",
        lambda text: url_problem(text, "confluence-url"),
    ),
    "title-template": (f'"{DEFAULT_TITLE_TEMPLATE}"', template_problem),
}
"""Example and check of each string setting."""
_HOW_TO_ID = {
    "space": 'give the space\'s numeric id (not its key), such as "12345"',
    "page": f"give its digits, {PAGE_HINT}",
}
_EXAMPLE = 'space: "12345" and pages: [{path: "docs/**", page: "67890"}]'


def load_yaml(text: str, source: str) -> Mapping:
    try:
        root = yaml.compose(text, Loader=LOADER)
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


def _syntax_problems(text: str, source: str, error: yaml.MarkedYAMLError) -> list[Problem]:
    mark = error.problem_mark or error.context_mark
    line, column = (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)
    lines = _LINE_BREAK.split(text)
    tabs = _tab_indents(lines)
    problem = str(error.problem or error.context or "invalid YAML")
    if tabs and ("tab" in problem or "\t" in problem or any(t[0] == line for t in tabs)):
        return [Problem(source, t_line, t_column, _TAB_MESSAGE) for t_line, t_column in tabs]
    if "another document" in problem:
        message = "the file holds more than one YAML document ('---'); keep a single document"
        return [Problem(source, line, column, message)]
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
    lines = _LINE_BREAK.split(head)
    character = text[position] if position < len(text) else ""
    message = f"the character {character!r} is not allowed in YAML; remove it"
    return Problem(source, len(lines), len(lines[-1]) + 1, message)


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
    if key in RULE_KEYS and key not in known:
        return (
            f"{key!r} belongs to a rule under 'pages:'; indent it to line up with its rule's "
            "'- path:'"
        )
    normalized = key.strip().lower().replace("_", "-").replace(" ", "-")
    close = difflib.get_close_matches(normalized, known, n=1, cutoff=0.6)
    return f"did you mean {close[0]!r}?" if close else "the keys are " + ", ".join(known)


class _Walker:
    """Collects every problem while turning the node tree into a :class:`Mapping`."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.problems: list[Problem] = []
        self.entries = 0
        self.over_budget = False
        self.default_space: str | None = None
        self.space_given = False
        self.homeless: list[int] = []
        """Lines of the rules without a space of their own."""
        self.seen_rules: dict[tuple[frozenset[str], frozenset[str], str], int] = {}
        self.page_spaces: dict[str, tuple[str, int]] = {}

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
        if not isinstance(root, MappingNode):
            self.problem(
                root,
                f"the top level must be a mapping of keys (space, pages, ...), not "
                f"{_describe(root)}; write a mapping such as {_EXAMPLE}",
            )
            return None
        found = self.keys(root, TOP_LEVEL_KEYS, "the top level")
        self.space_given = "space" in found
        space = self.identifier(found["space"][1], "space") if self.space_given else None
        self.default_space = space
        url = self.checked(found, "confluence-url")
        template = self.checked(found, "title-template", default=DEFAULT_TITLE_TEMPLATE)
        if "pages" not in found:
            self.problem(root, f"the mapping file has no 'pages' list; add one, such as {_EXAMPLE}")
            return None
        rules = self.rules(found["pages"][1])
        if self.homeless and not self.space_given:
            lines = ", ".join(str(line) for line in self.homeless[:10])
            more = " and more" if len(self.homeless) > 10 else ""
            self.problem(
                root,
                f"space: missing, and the rules at lines {lines}{more} have no space of their "
                'own; add space: "<space id>" at the top level or to each of those rules',
            )
        if self.problems or template is None:
            return None
        return Mapping(
            space=space,
            confluence_url=url and url.strip().rstrip("/"),
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
        self.problem(node, f"{what}: {_describe(node)} is not a {what} id; {_HOW_TO_ID[what]}")
        return None

    def checked(
        self, found: dict[str, tuple[Node, Node]], key: str, default: str | None = None
    ) -> str | None:
        """The string value of ``key``, if given and :data:`_CHECKS` finds nothing wrong."""
        if key not in found:
            return default
        node = found[key][1]
        example, problem_of = _CHECKS[key]
        text = self.scalar_text(node, key, example)
        problem = None if text is None else problem_of(text)
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

    def rules(self, node: Node) -> tuple[Rule, ...]:
        if not isinstance(node, SequenceNode):
            self.problem(
                node,
                f"pages must be a list of rules ('- path: ...' with 'page: ...'), not "
                f"{_describe(node)}",
            )
            return ()
        if not node.value:
            self.problem(node, "pages is empty; add at least one rule with a path and a page")
            return ()
        if len(node.value) > MAX_RULES:
            self.problem(
                node,
                f"pages has {len(node.value):,} rules, over the limit of {MAX_RULES:,}; map "
                "whole directories (docs/team/**) instead of single files",
            )
            return ()
        rules = []
        for item in node.value:
            if self.over_budget:
                break
            rule = self.rule(item)
            if rule is not None:
                rules.append(rule)
        return tuple(rules)

    def rule(self, node: Node) -> Rule | None:
        """The rule, or None when it has a problem (reported)."""
        if not isinstance(node, MappingNode):
            self.problem(
                node,
                f"a rule must be a mapping with 'path' and 'page', not {_describe(node)}; "
                'like "- path: docs/** / page: \\"67890\\""',
            )
            return None
        before = len(self.problems)
        line, column = _where(node)
        found = self.keys(node, RULE_KEYS, "this rule")
        patterns: tuple[str, ...] = ()
        if "path" in found:
            patterns = self.patterns(found["path"][1])
        else:
            self.problem(
                node, "this rule has no 'path'; add the files it covers, like path: docs/**"
            )
        pages: dict[str, Node] = {}
        if "page" in found:
            given = found["page"][1]
            for item in self.items(given):
                page = self.identifier(item, "page")
                if page is not None:
                    pages.setdefault(page, item)
            if isinstance(given, SequenceNode) and not given.value:
                self.problem(given, f"page: the list is empty; give a page id, {PAGE_HINT}")
        else:
            self.problem(node, f"this rule has no 'page'; add the page id, {PAGE_HINT}")
        space = self.default_space
        if "space" in found:
            space = self.identifier(found["space"][1], "space")
        else:
            self.homeless.append(line)
        if len(self.problems) != before or space is None:
            return None
        return self.checked_rule(
            node,
            Rule(patterns=patterns, pages=tuple(pages), space=space, line=line, column=column),
            pages,
        )

    def patterns(self, node: Node) -> tuple[str, ...]:
        """The rule's patterns as written; each problem is reported."""
        items = self.items(node)
        if isinstance(node, SequenceNode) and not node.value:
            self.problem(node, "path: the list is empty; give a pattern such as docs/**")
        before = len(self.problems)
        patterns: dict[str, None] = {}
        for item in items:
            text = self.scalar_text(item, "path", "'!drafts/**' or '*.md'")
            message = None if text is None else pattern_problem(text)
            if message is not None:
                self.problem(item, f"path: {message}")
            if text is not None:
                patterns[text] = None
        if len(self.problems) == before and patterns and all(p.startswith("!") for p in patterns):
            self.problem(
                node,
                "path: every pattern of this rule excludes ('!'), so it matches nothing; add a "
                "pattern that selects files, such as docs/api/**",
            )
        return tuple(patterns)

    def checked_rule(self, node: Node, rule: Rule, pages: dict[str, Node]) -> Rule | None:
        """The rule, unless it repeats an earlier one; reports pages given two spaces."""
        identity = (frozenset(rule.patterns), frozenset(rule.pages), rule.space)
        if identity in self.seen_rules:
            self.problem(
                node,
                f"this rule repeats the rule at line {self.seen_rules[identity]} (same path and "
                "page); remove one of them",
            )
            return None
        self.seen_rules[identity] = rule.line
        for page, page_node in pages.items():
            other_space, other_line = self.page_spaces.setdefault(page, (rule.space, rule.line))
            if other_space != rule.space:
                self.problem(
                    page_node,
                    f"page {page} is in space {rule.space} here but in space {other_space} at "
                    f"line {other_line}; a page belongs to one space, fix the space of one "
                    "of the rules",
                )
        return rule
