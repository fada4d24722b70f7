"""The retry policy's pure parts: reading Retry-After and deciding whether to retry."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timezone

import pytest

from approvalflow_sync.errors import (
    APIConnectionError,
    APIError,
    APIResponseError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    NotFoundError,
    OAuthConnectionError,
    OAuthError,
    PermissionDeniedError,
    RateLimitError,
    ServerError,
)
from approvalflow_sync.github.ratelimit import read_limit
from approvalflow_sync.retry import (
    Verdict,
    parse_retry_after,
    should_retry,
    status_verdict,
    verdict_of,
)

NOW = datetime(2015, 10, 21, 7, 27, 30, tzinfo=timezone.utc)
METHOD, PATH = "POST", "/changeSets"


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


def rate_limited() -> APIError:
    return RateLimitError("slow down", status=429, method=METHOD, path=PATH)


def server_error() -> APIError:
    return ServerError("boom", status=500, method=METHOD, path=PATH)


def refused() -> APIError:
    return APIConnectionError("refused", maybe_applied=False, method=METHOD, path=PATH)


def dropped() -> APIError:
    return APIConnectionError("dropped", maybe_applied=True, method=METHOD, path=PATH)


def read_timeout() -> APIError:
    return APITimeoutError("read timeout", maybe_applied=True, method=METHOD, path=PATH)


def connect_timeout() -> APIError:
    return APITimeoutError("connect timeout", maybe_applied=False, method=METHOD, path=PATH)


@pytest.mark.parametrize(
    ("make_error", "retry_safe_call", "retry_write"),
    [
        (rate_limited, True, True),
        (server_error, True, False),
        (refused, True, True),
        (connect_timeout, True, True),
        (dropped, True, False),
        (read_timeout, True, False),
        (lambda: BadRequestError("bad", status=400, method=METHOD, path=PATH), False, False),
        (
            lambda: AuthenticationError("expired", status=401, method=METHOD, path=PATH),
            False,
            False,
        ),
        (lambda: PermissionDeniedError("no", status=403, method=METHOD, path=PATH), False, False),
        (lambda: NotFoundError("gone", status=404, method=METHOD, path=PATH), False, False),
        (lambda: APIStatusError("conflict", status=409, method=METHOD, path=PATH), False, False),
        (lambda: APIResponseError("html", status=200, method=METHOD, path=PATH), False, False),
    ],
)
def test_should_retry_decision_table(
    make_error: Callable[[], APIError], retry_safe_call: bool, retry_write: bool
) -> None:
    assert should_retry(make_error(), idempotent=True) is retry_safe_call
    assert should_retry(make_error(), idempotent=False) is retry_write


def test_a_bug_in_our_code_is_never_retried() -> None:
    assert should_retry(ValueError("bug"), idempotent=True) is False


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


@pytest.mark.parametrize(
    ("error", "retry_refresh", "retry_code"),
    [
        (OAuthConnectionError("busy", status=429, retry_after=3.0), True, True),
        (OAuthConnectionError("failing", status=503), True, False),
        (OAuthConnectionError("refused", maybe_applied=False), True, True),
        (OAuthConnectionError("dropped"), True, False),
        (OAuthError("invalid_grant", status=400), False, False),
    ],
)
def test_token_requests_follow_the_same_table(
    error: OAuthError, retry_refresh: bool, retry_code: bool
) -> None:
    """A refresh may be repeated (same token, same effect); a single-use code only if unsent."""
    assert should_retry(error, idempotent=True) is retry_refresh
    assert should_retry(error, idempotent=False) is retry_code
    if error.status == 429:
        assert verdict_of(error) == Verdict("rate limited", 3.0)
