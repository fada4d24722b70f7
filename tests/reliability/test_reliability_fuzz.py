"""Fuzz, no I/O: any input gives a result or the program's own error, never another exception.

Two surfaces take text from outside: the mapping loader (a file anyone with write access to the
repository edits) and the parsing of ApprovalFlow's answers (whatever a server or a proxy in
front of it sends). Each is driven with arbitrary text and with structured documents that are
nearly right, which reach deeper than random text does.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest
import yaml
from hypothesis import example, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from approvalflow_sync.approvalflow.client import ApprovalFlowClient
from approvalflow_sync.core.mapping import Mapping, MappingError, compile_mapping, load_mapping
from approvalflow_sync.errors import APIError
from approvalflow_sync.retry import RetryPolicy

FUZZ = settings(max_examples=150, deadline=None, database=None)

# -- the mapping loader --------------------------------------------------------------------------

YAML_BITS = [
    "\n", "  ", "    ", "\t", "- ", ": ", "space", "pages", "path", "page", "confluence-url",
    "title-template", '"12345"', "67890", "007", "1e3", "docs/**", "!drafts/**", "*.md", "[",
    "]", "{", "}", ",", "&a ", "*a", "!!str ", "!tag ", "'", '"', "#", "---", "...", "? ",
    "|", ">", "~", "null", "true", "{number}", "{nope}", "https://x.example", "http://h", "\\",
    "\x00", "\ufeff", "\u2028", "é", "🙂",
]  # fmt: skip
"""Fragments YAML and the mapping format react to: keys, ids, patterns, syntax, odd characters."""

yamlish = st.lists(st.sampled_from(YAML_BITS) | st.text(max_size=5), max_size=40).map("".join)

KEYS = ["space", "pages", "path", "page", "confluence-url", "title-template", "paths", "Page"]
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**20), max_value=10**20),
    st.floats(allow_nan=True),
    st.from_regex(r"[0-9]{1,12}", fullmatch=True),
    st.sampled_from(["docs/**", "!docs/a.md", "", " ", "*", "[a-", "./x", "../x", "#c", "\\x"]),
    st.text(max_size=12),
)
values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.sampled_from(KEYS) | st.text(max_size=6), inner, max_size=4)
    ),
    max_leaves=12,
)
rules = st.dictionaries(st.sampled_from(["path", "page", "space", "extra"]), values, max_size=4)
documents = st.fixed_dictionaries(
    {},
    optional={
        "space": values,
        "pages": st.lists(rules, max_size=5) | values,
        "confluence-url": values,
        "title-template": values,
        "unknown": values,
    },
)


def _loads_or_refuses(text: str) -> None:
    refused: MappingError | None = None
    try:
        mapping = load_mapping(text, "f.yml")
    except MappingError as error:
        refused = error
    if refused is not None:
        assert refused.problems
        for problem in refused.problems:
            assert problem.source == "f.yml"
            assert problem.line >= 0
            assert problem.column >= 0
        return
    assert isinstance(mapping, Mapping)
    compile_mapping(mapping).match(["docs/a.md", "x", "docs/api/b.md"])


@FUZZ
@given(st.text() | yamlish)
@example("[" * 10_000)
@example("a:\n" + "  " * 3_000 + "b")
@example("pages: &p [*p]")
@example("a: &a [*a, *a, *a]\n" * 30)
def test_the_mapping_loader_on_any_text_loads_or_raises_mapping_error(text: str) -> None:
    _loads_or_refuses(text)


@FUZZ
@given(documents, st.sampled_from(["yaml", "json", "flow"]))
def test_the_mapping_loader_on_nearly_right_documents_loads_or_raises_mapping_error(
    document: dict[str, Any], style: str
) -> None:
    if style == "json":
        text = json.dumps(document, allow_nan=True)
    else:
        text = yaml.safe_dump(document, default_flow_style=style == "flow", allow_unicode=True)
    _loads_or_refuses(text)


# -- ApprovalFlow answers ------------------------------------------------------------------------

FIELDS = [
    "success", "error", "changeSets", "changeSet", "id", "spaceId", "title", "summary",
    "referenceUrl", "status", "rollupState", "pageRefs", "pageId", "createdAt", "next", "cursor",
    "submittedCount", "skippedCount", "results", "canSubmit", "workflowId", "reason", "total",
    "submittable", "blocked", "currentPageVersion", "approvedAtVersion", "isStale",
]  # fmt: skip
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False)
    | st.text(max_size=10)
    | st.sampled_from(["cs-1", "12345", "open", "archived"]),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.sampled_from(FIELDS) | st.text(max_size=5), inner, max_size=6)
    ),
    max_leaves=20,
)
"""JSON values whose objects mostly use the API's field names, with any value types."""


@st.composite
def near_answers(draw: st.DrawFn) -> bytes:
    """An answer with the expected keys, some right, some of the wrong type."""
    change_set = draw(st.dictionaries(st.sampled_from(FIELDS[4:12]), json_values, max_size=8))
    answer: dict[str, Any] = draw(st.dictionaries(st.sampled_from(FIELDS), json_values))
    answer.setdefault("success", draw(st.sampled_from([True, False, None, "true", 1])))
    if draw(st.booleans()):
        answer["changeSet"] = change_set
    if draw(st.booleans()):
        answer["changeSets"] = [change_set, draw(json_values)]
    return json.dumps(answer).encode()


bodies = st.one_of(
    st.binary(max_size=64),
    json_values.map(lambda value: json.dumps(value).encode()),
    near_answers(),
    st.sampled_from([b"", b"  ", b"<html><body>502</body></html>", b"null", b'{"success":true}']),
)
RETRY_AFTER = [
    "1", "0", "-5", "nan", "inf", "1e309", "Wed, 21 Oct 2015 07:28:00 GMT",
    "Mon, 01 Jan 99999 00:00:00 GMT", "Tue, 31 Feb 2026 25:61:61 GMT",
]  # fmt: skip
header_text = st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=30)
headers = st.fixed_dictionaries(
    {},
    optional={
        "Content-Type": st.sampled_from(
            ["application/json", "text/html; charset=utf-8", "text/plain", "", "application/xml"]
        )
        | header_text,
        "Retry-After": st.sampled_from(RETRY_AFTER) | header_text,
    },
)
statuses = st.sampled_from([200, 201, 204, 301, 400, 401, 403, 404, 409, 429, 500, 502, 503])

Call = Callable[[ApprovalFlowClient], object]
CALLS: dict[str, Call] = {
    "list": lambda c: c.list_change_sets("12345"),
    "detail": lambda c: c.get_change_set("cs-1"),
    "create": lambda c: c.create_change_set("12345", "t", ["1"], summary="s", reference_url="u"),
    "update": lambda c: c.update_change_set("cs-1", title="t", page_ids=["1"]),
    "archive": lambda c: c.archive_change_set("cs-1"),
    "submit": lambda c: c.submit_change_set("cs-1"),
    "preflight": lambda c: c.preflight_change_set("cs-1"),
    "page-submit": lambda c: c.submit_page("1"),
    "page-preflight": lambda c: c.preflight_page("1"),
}


def _answer(call: Call, status: int, head: dict[str, str], body: bytes) -> object:
    def reply(request: httpx.Request) -> httpx.Response:
        return httpx.Response(status, headers=head, content=body)

    http = httpx.Client(transport=httpx.MockTransport(reply))
    with ApprovalFlowClient(
        "https://af.example/api", "tok-0123456789", http=http, retry=RetryPolicy.no_backoff(2)
    ) as client:
        return call(client)


@FUZZ
@given(st.sampled_from(list(CALLS)), statuses | st.integers(200, 599), headers, bodies)
@example("list", 200, {"Content-Type": "application/json"}, b"[" * 100_000)
@example("detail", 200, {}, b'{"success": true, "changeSet": ' + b"[" * 5_000 + b"]" * 5_000 + b"}")
@example("create", 503, {"Retry-After": "Mon, 01 Jan 99999 00:00:00 GMT"}, b"{}")
def test_any_answer_gives_a_model_or_an_api_error(
    name: str, status: int, head: dict[str, str], body: bytes
) -> None:
    refused: APIError | None = None
    try:
        result = _answer(CALLS[name], status, head, body)
    except APIError as error:
        refused = error
    if refused is not None:
        assert str(refused).startswith("ApprovalFlow ")
        assert "tok-0123456789" not in str(refused)
        return
    if isinstance(result, list):
        assert all(isinstance(item, BaseModel) for item in result)
    elif name not in ("create", "update", "archive"):
        assert isinstance(result, BaseModel)
    else:  # a write's answer need not carry the change set
        assert result is None or isinstance(result, BaseModel)


@pytest.mark.parametrize("name", list(CALLS))
def test_a_documented_failure_answer_is_an_api_error_for_every_endpoint(name: str) -> None:
    """A sanity check of the harness above: the fuzz does reach the error paths."""
    with pytest.raises(APIError, match="Invalid"):
        _answer(CALLS[name], 400, {}, b'{"success": false, "error": "Invalid id"}')
