"""A small validator for the subset of OpenAPI 3.0 schema used by the GitHub description.

Supported keywords: ``type`` (string, integer, number, boolean, object, array, null),
``nullable``, ``enum``, ``required``, ``properties``, ``additionalProperties`` (bool or
schema), ``items``, ``anyOf``, ``oneOf``, ``allOf``, ``pattern`` and the formats
``date-time`` and ``uri``. Unknown keywords (``title``, ``default``, ``deprecated``,
``format: int64``...) are ignored. ``{"x-recursive-ref": ...}`` (a cut recursive $ref) accepts
anything.

``schemas.json`` (tests/data/github/openapi/) holds the extracted schemas; see
:func:`load_schemas` and :func:`response_schema`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

SCHEMAS_PATH = (
    Path(__file__).resolve().parent.parent / "data" / "github" / "openapi" / "schemas.json"
)

_DATE_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")
_URI = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:\S*$")


class SchemaError(AssertionError):
    """Raised by :func:`check` with every violation found."""


@cache
def load_schemas() -> Mapping[str, Any]:
    """The parsed ``schemas.json`` (cached)."""
    data: dict[str, Any] = json.loads(SCHEMAS_PATH.read_text(encoding="utf-8"))
    return data


def response_schema(operation_id: str, status: int) -> Any:
    """The response schema of ``operation_id`` for ``status``; error codes the operation does
    not document fall back to GitHub's ``basic-error`` (``validation-error`` for 422); a 304
    has no body."""
    schemas = load_schemas()
    responses = schemas["operations"][operation_id]["responses"]
    if str(status) in responses:
        return responses[str(status)]
    if status == 304:  # any GET with an ETag, documented or not ("most endpoints")
        return None
    if status == 422:
        return schemas["components"]["validation-error"]
    if status >= 400:
        return schemas["components"]["basic-error"]
    raise KeyError(f"{operation_id} documents no {status} response")


def _type_ok(value: Any, expected: str) -> bool:
    if expected == "string":
        return isinstance(value, str)
    if expected == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if expected == "number":
        return isinstance(value, int | float) and not isinstance(value, bool)
    if expected == "boolean":
        return isinstance(value, bool)
    if expected == "object":
        return isinstance(value, dict)
    if expected == "array":
        return isinstance(value, list)
    if expected == "null":
        return value is None
    return True


def validate(value: Any, schema: Any, where: str = "$") -> list[str]:
    """Every violation of ``schema`` by ``value``, as ``"<json path>: <problem>"`` strings."""
    if not isinstance(schema, dict) or "x-recursive-ref" in schema:
        return []
    if value is None and schema.get("nullable") is True:
        return []
    type_errors = _validate_type(value, schema, where)
    if type_errors:
        return type_errors
    errors: list[str] = []
    if "enum" in schema and value not in schema["enum"]:
        errors.append(f"{where}: {value!r} is not one of {schema['enum']}")
    if isinstance(value, str):
        errors.extend(_validate_string(value, schema, where))
    if isinstance(value, dict):
        errors.extend(_validate_object(value, schema, where))
    if isinstance(value, list) and "items" in schema:
        for index, item in enumerate(value):
            errors.extend(validate(item, schema["items"], f"{where}[{index}]"))
    errors.extend(_validate_composition(value, schema, where))
    return errors


def _validate_type(value: Any, schema: Mapping[str, Any], where: str) -> list[str]:
    expected = schema.get("type")
    if isinstance(expected, str) and not _type_ok(value, expected):
        return [f"{where}: expected {expected}, got {type(value).__name__} {value!r:.60}"]
    if isinstance(expected, list) and not any(_type_ok(value, t) for t in expected):
        return [f"{where}: expected one of {expected}, got {type(value).__name__}"]
    if value is None and expected is None and not _has_branches(schema):
        enum = schema.get("enum")
        if enum is not None and None in enum:
            return []
        if any(key in schema for key in ("enum", "properties", "items")):
            return [f"{where}: null is not allowed (schema is not nullable)"]
    return []


def _validate_string(value: str, schema: Mapping[str, Any], where: str) -> list[str]:
    errors: list[str] = []
    pattern = schema.get("pattern")
    if isinstance(pattern, str) and re.search(pattern, value) is None:
        errors.append(f"{where}: {value!r:.60} does not match /{pattern}/")
    fmt = schema.get("format")
    if fmt == "date-time" and _DATE_TIME.match(value) is None:
        errors.append(f"{where}: {value!r} is not an RFC 3339 date-time")
    if fmt == "uri" and _URI.match(value) is None:
        errors.append(f"{where}: {value!r} is not a URI")
    return errors


def _validate_object(value: Mapping[str, Any], schema: Mapping[str, Any], where: str) -> list[str]:
    errors = [
        f"{where}: missing required property {name!r}"
        for name in schema.get("required", [])
        if name not in value
    ]
    properties: Mapping[str, Any] = schema.get("properties", {})
    extra = schema.get("additionalProperties")
    for name, item in value.items():
        if name in properties:
            errors.extend(validate(item, properties[name], f"{where}.{name}"))
        elif extra is False:
            errors.append(f"{where}: unexpected property {name!r}")
        elif isinstance(extra, dict):
            errors.extend(validate(item, extra, f"{where}.{name}"))
    return errors


def _validate_composition(value: Any, schema: Mapping[str, Any], where: str) -> list[str]:
    errors: list[str] = []
    for sub in schema.get("allOf", []):
        errors.extend(validate(value, sub, where))
    if "anyOf" in schema:
        branches = [validate(value, sub, where) for sub in schema["anyOf"]]
        if all(branches):
            errors.append(f"{where}: matches no anyOf branch ({_closest(branches)})")
    if "oneOf" in schema:
        branches = [validate(value, sub, where) for sub in schema["oneOf"]]
        matched = sum(1 for branch in branches if not branch)
        if matched == 0:
            errors.append(f"{where}: matches no oneOf branch ({_closest(branches)})")
        elif matched > 1:
            errors.append(f"{where}: matches {matched} oneOf branches, exactly one expected")
    return errors


def _has_branches(schema: Mapping[str, Any]) -> bool:
    return any(key in schema for key in ("anyOf", "oneOf", "allOf"))


def _closest(branches: list[list[str]]) -> str:
    best = min(branches, key=len)
    return "; ".join(best[:3])


def check(value: Any, schema: Any, what: str = "value") -> None:
    """Raise :class:`SchemaError` listing every violation of ``schema`` by ``value``."""
    errors = validate(value, schema)
    if errors:
        shown = "\n  ".join(errors[:20])
        more = f"\n  ... and {len(errors) - 20} more" if len(errors) > 20 else ""
        raise SchemaError(f"{what} violates its schema:\n  {shown}{more}")


def check_response(operation_id: str, status: int, body: Any) -> None:
    """Validate a decoded response body against ``operation_id``'s schema for ``status``."""
    schema = response_schema(operation_id, status)
    if schema is None:
        if body not in (None, b"", ""):
            raise SchemaError(f"{operation_id} {status} documents no body, got {body!r:.80}")
        return
    check(body, schema, f"{operation_id} {status} response")
