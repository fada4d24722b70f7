"""Every error class from a real answer: statuses, broken transport, answers that are not usable."""

from __future__ import annotations

import json
from collections.abc import Callable

import httpx
import pytest
from approvalflow_fakes import FakeApprovalFlow, change_set, fail, make_client, ok

from approvalflow_sync.approvalflow.client import ApprovalFlowClient
from approvalflow_sync.approvalflow.scopes import (
    PRODUCT_SCOPE,
    READ_APPROVAL,
    READ_CHANGE_SET,
    WRITE_CHANGE_SET,
)
from approvalflow_sync.errors import (
    APIConnectionError,
    APIError,
    APIResponseError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    PermissionDeniedError,
    RateLimitError,
    ServerError,
)
from approvalflow_sync.retry import RetryPolicy

HTML = "<!DOCTYPE html><html><body><h1>Bad gateway</h1></body></html>"


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (400, BadRequestError),
        (401, AuthenticationError),
        (403, PermissionDeniedError),
        (404, APIStatusError),
        (429, RateLimitError),
        (500, ServerError),
        (502, ServerError),
        (503, ServerError),
    ],
)
def test_error_status_raises_its_class_with_method_path_status_and_text(
    status: int, cls: type[APIError]
) -> None:
    server = FakeApprovalFlow(fail(status, "spaceId is invalid"))

    with pytest.raises(cls) as caught:
        make_client(server).list_change_sets("12345")

    error = caught.value
    assert type(error) is cls
    assert error.status == status
    assert error.error == "spaceId is invalid"
    assert str(error).startswith(f"ApprovalFlow GET /changeSets answered {status}: ")
    assert "spaceId is invalid" in str(error)


def test_status_error_of_a_write_names_the_write() -> None:
    server = FakeApprovalFlow(fail(400, "title is required"))

    with pytest.raises(BadRequestError, match=r"^ApprovalFlow POST /changeSets answered 400: "):
        make_client(server).create_change_set("1", "", ["2"])

    assert len(server.requests) == 1


def test_rate_limit_error_says_so_once_retries_are_spent() -> None:
    server = FakeApprovalFlow(fail(429, "Rate limit exceeded", **{"Retry-After": "2"}))

    with pytest.raises(RateLimitError, match="Rate limit exceeded"):
        make_client(server, retry=RetryPolicy.no_backoff(attempts=3)).list_change_sets("1")

    assert len(server.requests) == 3


def test_503_once_retries_are_spent_is_a_server_error() -> None:
    server = FakeApprovalFlow(fail(503, "Maintenance", **{"Retry-After": "1"}))

    with pytest.raises(ServerError, match="Maintenance"):
        make_client(server, retry=RetryPolicy.no_backoff(attempts=2)).get_change_set("cs-1")

    assert len(server.requests) == 2


def test_403_about_the_licence() -> None:
    server = FakeApprovalFlow(fail(403, "ApprovalFlow license is not active"))

    with pytest.raises(PermissionDeniedError) as caught:
        make_client(server).submit_change_set("cs-1")

    assert "Manage apps" in str(caught.value)


@pytest.mark.parametrize(
    ("call", "scope"),
    [
        (lambda c: c.list_change_sets("1"), READ_CHANGE_SET),
        (lambda c: c.submit_change_set("cs-1"), WRITE_CHANGE_SET),
        (lambda c: c.preflight_page("1"), READ_APPROVAL),
    ],
    ids=["list", "submit", "preflight page"],
)
def test_403_about_a_scope_names_the_endpoint_scope(
    call: Callable[[ApprovalFlowClient], object], scope: str
) -> None:
    server = FakeApprovalFlow(fail(403, "Insufficient scope for this action"))

    with pytest.raises(PermissionDeniedError) as caught:
        call(make_client(server))

    assert f"needs the scope {scope}" in str(caught.value)


def test_403_that_does_not_say_why_lists_what_to_check() -> None:
    server = FakeApprovalFlow(fail(403, "Forbidden"))

    with pytest.raises(PermissionDeniedError) as caught:
        make_client(server).create_change_set("1", "T", ["2"])

    message = str(caught.value)
    assert PRODUCT_SCOPE in message
    assert WRITE_CHANGE_SET in message
    assert "licence" in message
    assert "'App REST APIs'" in message


def test_error_status_without_a_body_still_says_what_happened() -> None:
    server = FakeApprovalFlow(httpx.Response(404))

    with pytest.raises(APIStatusError) as caught:
        make_client(server).get_change_set("cs-1")

    assert "empty body" in str(caught.value)
    assert "check the base URL" in str(caught.value)


# -- transport errors -------------------------------------------------------------------------


def test_connect_error_is_a_connection_error_that_surely_did_not_apply() -> None:
    server = FakeApprovalFlow(httpx.ConnectError("[Errno 111] Connection refused"))

    with pytest.raises(APIConnectionError) as caught:
        make_client(server, retry=RetryPolicy.no_backoff(attempts=2)).list_change_sets("1")

    error = caught.value
    assert not isinstance(error, APITimeoutError)
    assert error.maybe_applied is False
    assert error.status is None
    assert str(error).startswith("ApprovalFlow GET /changeSets: could not connect (ConnectError)")
    assert isinstance(error.__cause__, httpx.ConnectError)


def test_connect_timeout_is_a_timeout_that_surely_did_not_apply() -> None:
    server = FakeApprovalFlow(httpx.ConnectTimeout("timed out"))

    with pytest.raises(APITimeoutError) as caught:
        make_client(server, retry=RetryPolicy.no_backoff(attempts=1)).list_change_sets("1")

    assert caught.value.maybe_applied is False
    assert "timed out connecting" in str(caught.value)


def test_read_timeout_is_a_timeout_that_may_have_applied() -> None:
    server = FakeApprovalFlow(httpx.ReadTimeout("timed out"))

    with pytest.raises(APITimeoutError) as caught:
        make_client(server).create_change_set("1", "T", ["2"])

    assert caught.value.maybe_applied is True
    assert "may have taken effect" in str(caught.value)
    assert isinstance(caught.value.__cause__, httpx.ReadTimeout)


def test_dropped_connection_is_a_connection_error_that_may_have_applied() -> None:
    server = FakeApprovalFlow(httpx.RemoteProtocolError("Server disconnected without response"))

    with pytest.raises(APIConnectionError) as caught:
        make_client(server).archive_change_set("cs-1")

    assert not isinstance(caught.value, APITimeoutError)
    assert caught.value.maybe_applied is True
    assert "RemoteProtocolError" in str(caught.value)
    assert "may have taken effect" in str(caught.value)


# -- answers that cannot be used --------------------------------------------------------------


def test_html_page_under_200_is_a_response_error_pointing_at_the_base_url() -> None:
    server = FakeApprovalFlow(httpx.Response(200, html=HTML))

    with pytest.raises(APIResponseError) as caught:
        make_client(server).list_change_sets("1")

    message = str(caught.value)
    assert caught.value.status == 200
    assert "HTML page" in message
    assert "check the base URL" in message
    assert "<html" not in message


def test_html_page_under_502_is_a_server_error() -> None:
    server = FakeApprovalFlow(httpx.Response(502, html=HTML))

    with pytest.raises(ServerError) as caught:
        make_client(server, retry=RetryPolicy.no_backoff(attempts=2)).list_change_sets("1")

    assert caught.value.status == 502
    assert "HTML page" in str(caught.value)
    assert caught.value.error is None


def test_empty_200_to_a_read_is_a_response_error_naming_what_is_missing() -> None:
    server = FakeApprovalFlow(httpx.Response(200, content=b""))

    with pytest.raises(APIResponseError, match="changeSets: Field required"):
        make_client(server).list_change_sets("1")


def test_a_redirect_is_a_response_error_not_a_success() -> None:
    server = FakeApprovalFlow(httpx.Response(302, headers={"Location": "https://login.example"}))

    with pytest.raises(
        APIResponseError,
        match=r"answered 302 instead of a 2xx answer: a redirect to .*not followed",
    ):
        make_client(server).archive_change_set("cs-1")


def test_json_array_is_a_response_error_that_says_so() -> None:
    server = FakeApprovalFlow(httpx.Response(200, json=[change_set("cs-1")]))

    with pytest.raises(APIResponseError) as caught:
        make_client(server).list_change_sets("1")

    assert "JSON array" in str(caught.value)
    assert "JSON object" in str(caught.value)


def test_truncated_json_is_a_response_error_not_a_decode_error() -> None:
    server = FakeApprovalFlow(
        httpx.Response(200, content=b'{"success": tr', headers={"Content-Type": "application/json"})
    )

    with pytest.raises(APIResponseError) as caught:
        make_client(server).list_change_sets("1")

    assert not isinstance(caught.value.__cause__, json.JSONDecodeError)
    assert not isinstance(caught.value.__context__, json.JSONDecodeError)
    assert "application/json" in str(caught.value)


def test_undecodable_bytes_are_a_response_error() -> None:
    server = FakeApprovalFlow(
        httpx.Response(200, content=b"\xff\xfe\x00{", headers={"Content-Type": "application/json"})
    )

    with pytest.raises(APIResponseError):
        make_client(server).list_change_sets("1")


def test_success_false_under_200_is_a_response_error_with_the_server_text() -> None:
    server = FakeApprovalFlow(
        httpx.Response(200, json={"success": False, "error": "Change set is archived"})
    )

    with pytest.raises(APIResponseError) as caught:
        make_client(server).update_change_set("cs-1", title="T")

    assert caught.value.error == "Change set is archived"
    assert caught.value.status == 200
    assert "success false: Change set is archived" in str(caught.value)


def test_success_false_without_text_says_so() -> None:
    server = FakeApprovalFlow(httpx.Response(200, json={"success": False}))

    with pytest.raises(APIResponseError, match="no error text"):
        make_client(server).preflight_change_set("cs-1")


def test_answer_missing_a_needed_field_names_it() -> None:
    server = FakeApprovalFlow(ok(results=[{"success": True}]))

    with pytest.raises(APIResponseError) as caught:
        make_client(server).submit_change_set("cs-1")

    message = str(caught.value)
    assert message.startswith("ApprovalFlow POST /changeSets/submit answered 200: ")
    assert "not as documented: results.0.pageId: Field required" in message
    assert caught.value.__cause__ is None


def test_answer_with_a_wrong_nested_field_names_its_place() -> None:
    server = FakeApprovalFlow(ok(changeSets=[{"spaceId": "1"}]))

    with pytest.raises(APIResponseError, match=r"changeSets\.0\.id: Field required"):
        make_client(server).list_change_sets("1")


def test_unusable_answers_are_not_retried() -> None:
    server = FakeApprovalFlow(httpx.Response(200, html=HTML))

    with pytest.raises(APIResponseError):
        make_client(server).list_change_sets("1")

    assert len(server.requests) == 1
