"""The JSON Schema of the mapping file, the one description of its keys.

The loader takes its key names from here, and ``schema/approvalflow.schema.json`` is this
function's output (a test compares them), so editors, the loader and the docs cannot drift.
Regenerate the file with ``python -c "from approvalflow_sync.core.mapping.schema import schema_text;
print(schema_text(), end='')" > schema/approvalflow.schema.json``.
"""

from __future__ import annotations

import copy
import json
from typing import Any

from approvalflow_sync.core.mapping.model import DEFAULT_TITLE_TEMPLATE, MAX_RULES
from approvalflow_sync.core.title_template import TITLE_FIELDS

SCHEMA_ID = "urn:approvalflow-sync:mapping-file:v1"
"""A stable name; editors find the schema through the file path or a ``$schema`` comment."""

DIGITS = "^[0-9]+$"

TITLE_PATTERN = r"^(?:[^{}]|\{\{|\}\}|\{(?:" + "|".join(TITLE_FIELDS) + r")\})*$"
"""Literal text, doubled braces, or a known field in braces: what the loader accepts."""

_ID = {
    "anyOf": [
        {"type": "string", "pattern": DIGITS},
        {"type": "integer", "minimum": 0},
    ],
}

_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": SCHEMA_ID,
    "title": "approvalflow-sync mapping file",
    "description": (
        "Maps a pull request's changed docs files to the Confluence pages they publish, so "
        "approvalflow-sync can put those pages in an ApprovalFlow change set."
    ),
    "type": "object",
    "additionalProperties": False,
    "required": ["pages"],
    "properties": {
        "space": {
            "$ref": "#/$defs/spaceId",
            "description": (
                "Default Confluence space id (the number, not the space key) of the pages of "
                "rules without their own space. Required unless every rule has one."
            ),
        },
        "confluence-url": {
            "type": "string",
            "pattern": "^https?://[^/?#]+",
            "description": (
                "The site's wiki URL, such as https://acme.atlassian.net/wiki; used to link "
                "pages in pull request comments. https only (http for 127.0.0.1 or localhost)."
            ),
        },
        "title-template": {
            "type": "string",
            "minLength": 1,
            "pattern": TITLE_PATTERN,
            "default": DEFAULT_TITLE_TEMPLATE,
            "description": (
                "Title of the change set. Fields: {number}, {title}, {branch}, {base}, {repo}; "
                "write {{ and }} for literal braces."
            ),
        },
        "pages": {
            "type": "array",
            "minItems": 1,
            "maxItems": MAX_RULES,
            "items": {"$ref": "#/$defs/rule"},
            "description": (
                "Rules: files matching a rule's path map to all of its pages. A file may match "
                "several rules; a page named by several rules is one page."
            ),
        },
    },
    "$defs": {
        "pageId": {
            **_ID,
            "description": "A Confluence page id: digits, quoted or not.",
        },
        "spaceId": {
            **_ID,
            "description": "A Confluence space id: digits, quoted or not.",
        },
        "pattern": {
            "type": "string",
            "minLength": 1,
            "description": (
                "A gitignore-style pattern relative to the repository root: docs/auth/** "
                "(a directory), docs/api/*.md, handbook/onboarding.md (a file), *.md (any "
                "depth). Quote patterns that start with * or !; !pattern excludes files the "
                "rule's other patterns matched."
            ),
        },
        "rule": {
            "type": "object",
            "additionalProperties": False,
            "required": ["path", "page"],
            "properties": {
                "path": {
                    "description": "One pattern or a list of patterns.",
                    "anyOf": [
                        {"$ref": "#/$defs/pattern"},
                        {
                            "type": "array",
                            "minItems": 1,
                            "items": {"$ref": "#/$defs/pattern"},
                        },
                    ],
                },
                "page": {
                    "description": "One page id or a list of page ids.",
                    "anyOf": [
                        {"$ref": "#/$defs/pageId"},
                        {
                            "type": "array",
                            "minItems": 1,
                            "items": {"$ref": "#/$defs/pageId"},
                        },
                    ],
                },
                "space": {
                    "$ref": "#/$defs/spaceId",
                    "description": "The space of this rule's pages, if not the default space.",
                },
            },
        },
    },
}


def mapping_json_schema() -> dict[str, Any]:
    """The mapping file's JSON Schema (draft 2020-12), a fresh copy the caller may change."""
    return copy.deepcopy(_SCHEMA)


def schema_text() -> str:
    """The schema as committed in ``schema/approvalflow.schema.json``."""
    return json.dumps(_SCHEMA, indent=2, ensure_ascii=False) + "\n"


def top_level_keys() -> tuple[str, ...]:
    """The keys a mapping file may have at the top level."""
    return tuple(_SCHEMA["properties"])


def rule_keys() -> tuple[str, ...]:
    """The keys a rule may have."""
    return tuple(_SCHEMA["$defs"]["rule"]["properties"])
