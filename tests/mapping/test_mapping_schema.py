"""The committed JSON Schema agrees with the loader, which accepts nothing the schema refuses."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from approvalflow_sync.core.mapping import MappingError, load_mapping
from approvalflow_sync.core.mapping.model import MAX_RULES
from approvalflow_sync.core.mapping.yaml_walk import RULE_KEYS, TOP_LEVEL_KEYS
from approvalflow_sync.core.title_template import DEFAULT_TITLE_TEMPLATE, TITLE_FIELDS

SCHEMA_FILE = Path(__file__).resolve().parents[2] / "schema" / "approvalflow.schema.json"


def mapping_json_schema() -> dict[str, Any]:
    schema: dict[str, Any] = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    return schema


def test_the_schema_is_draft_2020_12_with_an_id_and_descriptions() -> None:
    schema = mapping_json_schema()

    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["$id"]
    assert schema["title"]
    for name, prop in schema["properties"].items():
        assert prop.get("description"), name
    for name, prop in schema["$defs"]["rule"]["properties"].items():
        assert prop.get("description"), name


def test_the_loader_knows_exactly_the_schemas_keys() -> None:
    schema = mapping_json_schema()

    assert tuple(schema["properties"]) == TOP_LEVEL_KEYS
    assert tuple(schema["$defs"]["rule"]["properties"]) == RULE_KEYS


def test_the_schema_has_the_loaders_limits_fields_and_default() -> None:
    schema = mapping_json_schema()
    template = schema["properties"]["title-template"]
    fields = "|".join(TITLE_FIELDS)

    assert schema["properties"]["pages"]["maxItems"] == MAX_RULES
    assert template["default"] == DEFAULT_TITLE_TEMPLATE
    assert template["pattern"] == r"^(?:[^{}]|\{\{|\}\}|\{(?:" + fields + r")\})*$"


def valid(instance: Any, schema: dict[str, Any], root: dict[str, Any]) -> bool:
    """The part of JSON Schema the mapping schema uses, enough to check a document."""
    if "$ref" in schema:
        target: Any = root
        for part in schema["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        if not valid(instance, target, root):
            return False
    if "anyOf" in schema and not any(valid(instance, s, root) for s in schema["anyOf"]):
        return False
    kind = schema.get("type")
    if kind == "object":
        if not isinstance(instance, dict):
            return False
        if any(key not in instance for key in schema.get("required", [])):
            return False
        properties = schema.get("properties", {})
        if schema.get("additionalProperties") is False and set(instance) - set(properties):
            return False
        return all(valid(instance[k], properties[k], root) for k in instance if k in properties)
    if kind == "array":
        return (
            isinstance(instance, list)
            and len(instance) >= schema.get("minItems", 0)
            and len(instance) <= schema.get("maxItems", len(instance))
            and all(valid(item, schema.get("items", {}), root) for item in instance)
        )
    if kind == "string":
        return (
            isinstance(instance, str)
            and len(instance) >= schema.get("minLength", 0)
            and ("pattern" not in schema or re.search(schema["pattern"], instance) is not None)
        )
    if kind == "integer":
        return (
            isinstance(instance, int)
            and not isinstance(instance, bool)
            and instance >= schema.get("minimum", instance)
        )
    return True


def mostly(good: st.SearchStrategy[Any], bad: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """``good`` nine times in ten: documents with a mistake or two, many with none."""
    return st.sampled_from([good] * 9 + [bad]).flatmap(lambda chosen: chosen)


ids = mostly(
    st.one_of(st.from_regex(r"\A[0-9]{1,12}\Z"), st.integers(0, 10**25)),
    st.one_of(
        st.integers(max_value=-1),
        st.sampled_from(["12a", "", " 1", "1.5", "0x1F"]),
        st.booleans(),
        st.none(),
    ),
)
patterns = mostly(
    st.sampled_from(
        ["docs/**", "*.md", "docs/api/", "handbook/a.md", "/README.md", "docs/[ab]*.md", "a b"]
    ),
    st.one_of(st.sampled_from(["", "!", "#x", "./a", "!!a", "a\\"]), st.integers(0, 99)),
)


def one_or_list(values: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(values, mostly(st.lists(values, min_size=1, max_size=3), st.just([])))


rules = mostly(
    st.fixed_dictionaries(
        {"path": one_or_list(patterns), "page": one_or_list(ids)}, optional={"space": ids}
    ),
    st.one_of(
        st.fixed_dictionaries({"path": patterns, "pages": ids}),
        st.fixed_dictionaries({"page": ids}),
        st.none(),
    ),
)
top_level = st.fixed_dictionaries(
    {"space": ids, "pages": st.lists(rules, min_size=1, max_size=3)},
    optional={
        "confluence-url": mostly(
            st.sampled_from(["https://acme.atlassian.net/wiki", "http://localhost:8090/"]),
            st.sampled_from(["http://a.example", "x", 7]),
        ),
        "title-template": mostly(
            st.sampled_from(["PR-{number} {title}", "{repo}#{number}", "{{x}} {base}"]),
            st.sampled_from(["{nope}", "{", "", 3]),
        ),
    },
)
documents = mostly(
    top_level,
    st.one_of(
        st.fixed_dictionaries({"pages": st.lists(rules, max_size=2)}),
        st.fixed_dictionaries({"space": ids, "pages": st.just("docs/**"), "colour": ids}),
        st.lists(st.integers(), max_size=2),
        st.text(max_size=5),
    ),
)


@settings(max_examples=300, deadline=None)
@given(documents)
def test_every_document_the_loader_accepts_is_valid_per_the_schema(document: Any) -> None:
    try:
        load_mapping(yaml.safe_dump(document), "m.yml")
    except MappingError:
        return
    schema = mapping_json_schema()
    assert valid(document, schema, schema)


def test_the_documented_example_is_valid_per_the_schema() -> None:
    document = {
        "space": "12345",
        "confluence-url": "https://acme.atlassian.net/wiki",
        "title-template": "PR-{number} {title}",
        "pages": [
            {"path": "docs/auth/**", "page": "67890"},
            {"path": ["docs/api/*.md", "!docs/api/draft-*.md"], "page": ["67891", "67892"]},
            {"path": "handbook/onboarding.md", "page": 70001, "space": "54321"},
        ],
    }
    schema = mapping_json_schema()

    assert valid(document, schema, schema)
    load_mapping(yaml.safe_dump(document), "m.yml")
    assert not valid({**document, "pages": []}, schema, schema)
    assert not valid({**document, "colour": "red"}, schema, schema)
    assert not valid({**document, "title-template": "{nope}"}, schema, schema)
