"""The retry policy: reading Retry-After and deciding whether to retry."""

from __future__ import annotations

import json
from datetime import datetime, timezone

import httpx
import pytest

from approvalflow_sync.approvalflow.oauth import exchange_code, exchange_refresh_token
from approvalflow_sync.errors import (
    APIConnectionError,
    BadRequestError,
    OAuthConnectionError,
    OAuthError,
    TransientAnswer,
)
from approvalflow_sync.github.ratelimit import read_limit
from approvalflow_sync.retry import (
    RetryPolicy,
    Verdict,
    parse_retry_after,
    should_retry,
    status_verdict,
)

NOW = datetime(2015, 10, 21, 7, 27, 30, tzinfo=timezone.utc)
METHOD, PATH = "POST", "/changeSets"
TOKEN_URL = "https://auth.example.test/oauth/token"


@pytest.mark.parametrize(
    ("header", "seconds"),
    [("5", 5.0), ("0", 0.0), (" 120 ", 120.0), ("2.5", 2.5)],
)
def test_retry_after_in_seconds(header: str, seconds: float) -> None:
    assert parse_retry_after(header) == seconds


def test_negative_retry_after_never_means_a_negative_wait() -> None:
    assert parse_retry_after("-3") == 0.0


def test_retry_after_as_http_date_is_seconds_from_now() -> None:
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=NOW) == 30.0


def test_retry_after_as_http_date_without_zone_is_utc() -> None:
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 -0000", now=NOW) == 30.0


def test_retry_after_date_in_the_past_means_now() -> None:
    assert parse_retry_after("Wed, 21 Oct 2015 07:00:00 GMT", now=NOW) == 0.0


@pytest.mark.parametrize(
    "header", [None, "", "   ", "soon", "Wed, 99 Foo 2015 07:28:00 GMT", "5 seconds"]
)
def test_missing_or_garbage_retry_after_is_none(header: str | None) -> None:
    assert parse_retry_after(header, now=NOW) is None


@pytest.mark.parametrize(
    ("kind", "retry_safe_call", "retry_write"),
    [
        ("rate limited", True, True),
        ("not sent", True, True),
        ("server error", True, False),
        ("maybe sent", True, False),
    ],
)
def test_should_retry_decision_table(kind: str, retry_safe_call: bool, retry_write: bool) -> None:
    failure = TransientAnswer("failed", kind, answer=None)
    assert should_retry(failure, idempotent=True) is retry_safe_call
    assert should_retry(failure, idempotent=False) is retry_write


@pytest.mark.parametrize(
    "error",
    [
        ValueError("bug"),
        BadRequestError("bad", status=400, method=METHOD, path=PATH),
        APIConnectionError("dropped", maybe_applied=False, method=METHOD, path=PATH),
        OAuthError("invalid_grant", status=400),
    ],
)
def test_only_a_transient_answer_is_ever_retried(error: Exception) -> None:
    assert should_retry(error, idempotent=True) is False


@pytest.mark.parametrize(
    ("status", "headers", "verdict"),
    [
        (429, {}, Verdict("rate limited")),
        (429, {"retry-after": "7"}, Verdict("rate limited", 7.0)),
        (403, {}, None),  # a refusal, or a limit: GitHub's limiter reads those
        (502, {}, Verdict("server error")),
        (503, {"retry-after": "4"}, Verdict("server error", 4.0)),
        (404, {"retry-after": "4"}, None),
        (200, {}, None),
    ],
)
def test_status_verdicts(status: int, headers: dict[str, str], verdict: Verdict | None) -> None:
    assert status_verdict(status, headers) == verdict


@pytest.mark.parametrize(
    ("headers", "limited"),
    [
        ({"retry-after": "Wed, 21 Oct 2015 07:28:00 GMT"}, 0.0),  # a date passed: at once
        ({}, None),  # a refusal, not a limit
        ({"x-ratelimit-remaining": "12"}, None),
    ],
)
def test_githubs_403_is_a_limit_only_when_it_says_so(
    headers: dict[str, str], limited: float | None
) -> None:
    limit = read_limit(403, headers, "{}")
    assert (limit.wait if limit else None) == limited


def test_an_exhausted_primary_rate_limit_waits_until_its_reset() -> None:
    reset = str(int(datetime.now(timezone.utc).timestamp()) + 20)
    limit = read_limit(403, {"x-ratelimit-remaining": "0", "x-ratelimit-reset": reset}, "{}")
    assert limit is not None
    assert limit.primary
    assert 15.0 < limit.wait <= 21.0  # until the reset, and a second for the clocks


def token_endpoint(
    failure: httpx.Response | httpx.RequestError,
) -> tuple[httpx.Client, list[str]]:
    """An httpx client whose token endpoint fails every time, and the grant types it was sent."""
    seen: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(json.loads(request.content)["grant_type"])
        if isinstance(failure, Exception):
            raise failure
        return failure

    return httpx.Client(transport=httpx.MockTransport(answer)), seen


def exchange(http: httpx.Client, grant: str) -> None:
    if grant == "refresh_token":
        exchange_refresh_token(http, TOKEN_URL, "c", "s", "r", retry=RetryPolicy.no_backoff(3))
    else:
        exchange_code(
            http, TOKEN_URL, "c", "s", "x", redirect_uri="u", retry=RetryPolicy.no_backoff(3)
        )


@pytest.mark.parametrize(
    ("failure", "tries_of_a_refresh", "tries_of_a_code"),
    [
        (httpx.Response(429, headers={"Retry-After": "0"}), 3, 3),
        (httpx.Response(503), 3, 1),
        (httpx.ConnectError("refused"), 3, 3),
        (httpx.ReadError("dropped"), 3, 1),
    ],
)
def test_token_requests_follow_the_same_table(
    failure: httpx.Response | httpx.RequestError, tries_of_a_refresh: int, tries_of_a_code: int
) -> None:
    """A refresh may be repeated (same token, same effect); a single-use code only if unsent."""
    for grant, tries in (
        ("refresh_token", tries_of_a_refresh),
        ("authorization_code", tries_of_a_code),
    ):
        http, seen = token_endpoint(failure)
        with pytest.raises(OAuthConnectionError):
            exchange(http, grant)
        assert seen == [grant] * tries


def test_a_refused_token_request_is_not_retried() -> None:
    http, seen = token_endpoint(httpx.Response(400, json={"error": "invalid_grant"}))
    with pytest.raises(OAuthError):
        exchange(http, "refresh_token")
    assert seen == ["refresh_token"]
