"""The runtime model: frozen value classes with keyword fields and documented defaults."""

from __future__ import annotations

import copy
import pickle

import pytest

from approvalflow_sync.core.mapping import (
    DEFAULT_MAPPING_FILE,
    Mapping,
    Problem,
    Rule,
    load_mapping,
)
from approvalflow_sync.core.title_template import DEFAULT_TITLE_TEMPLATE


def rule(**changes: object) -> Rule:
    fields: dict[str, object] = {"patterns": ("docs/**",), "pages": ("7",), "space": "1", "line": 3}
    fields.update(changes)
    return Rule(**fields)  # type: ignore[arg-type]


def test_a_mapping_has_the_documented_defaults() -> None:
    mapping = Mapping(rules=(rule(),))

    assert mapping.space is None
    assert mapping.confluence_url is None
    assert mapping.title_template == DEFAULT_TITLE_TEMPLATE
    assert mapping.source == DEFAULT_MAPPING_FILE
    assert rule().column == 1


def test_fields_are_keyword_only_and_unknown_ones_are_refused() -> None:
    with pytest.raises(TypeError):
        Rule(("a",), ("1",), "1", 1)  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        Mapping((rule(),))  # type: ignore[call-arg, arg-type]
    with pytest.raises(TypeError):
        rule(spaces="1")
    with pytest.raises(TypeError):
        Mapping(rules=(rule(),), url="https://x")  # type: ignore[call-arg]


def test_equal_fields_make_equal_models() -> None:
    assert rule() == rule()
    assert rule() != rule(line=4)
    assert Mapping(rules=(rule(),)) != Mapping(rules=(rule(),), source="other.yml")


def test_models_compare_hash_copy_and_print_as_values() -> None:
    mapping = Mapping(rules=(rule(),), source="m.yml")

    assert repr(rule()) == (
        "Rule(patterns=('docs/**',), pages=('7',), space='1', line=3, column=1)"
    )
    assert repr(mapping).startswith("Mapping(space=None, confluence_url=None, title_template=")
    assert repr(Problem("m.yml", 1, 2, "bad")) == (
        "Problem(source='m.yml', line=1, column=2, message='bad', severity='error')"
    )
    assert Problem("m.yml", 1, 2, "bad") == Problem("m.yml", 1, 2, "bad", severity="error")
    assert Problem("m.yml", 1, 2, "bad") != ("m.yml", 1, 2, "bad", "error")  # type: ignore[comparison-overlap]
    assert len({Problem("m.yml", 1, 2, "bad"), Problem("m.yml", 1, 2, "bad")}) == 1
    assert copy.deepcopy(mapping) == mapping
    assert pickle.loads(pickle.dumps(mapping)) == mapping  # noqa: S301 - our own bytes


def test_the_loader_builds_the_same_model_as_the_constructor() -> None:
    text = 'space: "1"\npages:\n  - path: [docs/**, "!docs/old/**"]\n    page: [7, "8"]\n'

    assert load_mapping(text, "m.yml") == Mapping(
        space="1",
        rules=(
            Rule(
                patterns=("docs/**", "!docs/old/**"), pages=("7", "8"), space="1", line=3, column=5
            ),
        ),
        source="m.yml",
    )
