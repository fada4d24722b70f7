"""error_for_status: the one place HTTP statuses become error classes and messages."""

from __future__ import annotations

import pytest

from approvalflow_sync.approvalflow.client import error_for_status
from approvalflow_sync.approvalflow.scopes import PRODUCT_SCOPE, READ_APPROVAL, WRITE_CHANGE_SET
from approvalflow_sync.errors import (
    EXIT_CONFIG,
    EXIT_FAILURE,
    APIError,
    APIStatusError,
    ApprovalFlowSyncError,
    AuthenticationError,
    BadRequestError,
    ConfigError,
    PermissionDeniedError,
    RateLimitError,
    ServerError,
)


def mapped(
    status: int,
    error: str | None = "server says no",
    *,
    scope: str = WRITE_CHANGE_SET,
    non_json: str | None = None,
) -> APIError:
    return error_for_status(
        status,
        method="POST",
        path="/changeSets/submit",
        error=error,
        scope=scope,
        non_json=non_json,
    )


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
        (504, ServerError),
    ],
)
def test_each_status_maps_to_its_class(status: int, cls: type[APIError]) -> None:
    error = mapped(status)

    assert type(error) is cls
    assert isinstance(error, APIStatusError)
    assert error.status == status


def test_an_undocumented_status_is_a_plain_status_error() -> None:
    error = mapped(409)

    assert type(error) is APIStatusError
    assert error.status == 409


@pytest.mark.parametrize("status", [400, 401, 403, 404, 409, 429, 500, 503])
def test_message_carries_method_path_status_and_server_text(status: int) -> None:
    error = mapped(status, "Invalid changeSetId")

    text = str(error)
    assert text.startswith(f"ApprovalFlow POST /changeSets/submit answered {status}: ")
    assert "Invalid changeSetId" in text
    assert (error.method, error.path, error.error) == (
        "POST",
        "/changeSets/submit",
        "Invalid changeSetId",
    )


def test_non_json_description_stands_in_for_missing_server_text() -> None:
    error = mapped(502, None, non_json="answered with an HTML page")

    assert "answered with an HTML page" in str(error)
    assert error.error is None


def test_no_text_at_all_is_said_so() -> None:
    assert "no error text" in str(mapped(500, None))


def test_401_says_to_get_a_new_token() -> None:
    assert "expired or revoked" in str(mapped(401, "Unauthorized"))


def test_404_points_at_the_base_url() -> None:
    assert "check the base URL" in str(mapped(404, "Not Found"))


def test_429_and_5xx_say_to_try_again_later() -> None:
    limited = mapped(429, "Too many requests")
    unavailable = mapped(503, "Service unavailable")

    assert isinstance(limited, RateLimitError)
    assert "rate limited" in str(limited)
    assert isinstance(unavailable, ServerError)
    assert "try again later" in str(unavailable)


@pytest.mark.parametrize(
    "text", ["License is not active", "Licence not active for this site", "APP LICENSE EXPIRED"]
)
def test_403_about_the_licence_says_to_activate_it(text: str) -> None:
    error = mapped(403, text)

    assert isinstance(error, PermissionDeniedError)
    assert "licence is not active" in str(error)
    assert "Manage apps" in str(error)
    assert text in str(error)


def test_403_about_a_scope_names_the_scope_of_this_endpoint() -> None:
    error = mapped(403, "Token is missing a required scope", scope=READ_APPROVAL)

    assert isinstance(error, PermissionDeniedError)
    assert READ_APPROVAL in str(error)
    assert WRITE_CHANGE_SET not in str(error)
    assert "consent again" in str(error)


@pytest.mark.parametrize("text", ["Forbidden", None])
def test_403_without_a_reason_says_everything_to_check(text: str | None) -> None:
    error = mapped(403, text, scope=WRITE_CHANGE_SET)

    assert isinstance(error, PermissionDeniedError)
    message = str(error)
    assert PRODUCT_SCOPE in message
    assert WRITE_CHANGE_SET in message
    assert "licence" in message
    assert "'App REST APIs'" in message


def test_api_errors_belong_to_the_one_tree_and_exit_with_failure() -> None:
    error = mapped(500)

    assert isinstance(error, ApprovalFlowSyncError)
    assert error.exit_code == EXIT_FAILURE


def test_config_errors_exit_with_the_config_code() -> None:
    assert ConfigError("bad").exit_code == EXIT_CONFIG
    assert EXIT_CONFIG != EXIT_FAILURE
