"""Retries, waits, token refresh and token secrecy, against a scripted ApprovalFlow."""

from __future__ import annotations

import email.utils
import logging
import random
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import Any

import httpx
import pytest
from approvalflow_fakes import (
    BASE_URL,
    TOKEN,
    FakeApprovalFlow,
    Sleeps,
    change_set,
    fail,
    make_client,
    ok,
)

from approvalflow_sync.approvalflow import models
from approvalflow_sync.approvalflow.client import ApprovalFlowClient
from approvalflow_sync.errors import (
    APIConnectionError,
    APIError,
    APITimeoutError,
    AuthenticationError,
    RateLimitError,
    ServerError,
)
from approvalflow_sync.retry import RetryPolicy

Call = Callable[[ApprovalFlowClient], object]

LIST_OK = ok(changeSets=[change_set("cs-1")])
CS_OK = ok(changeSet=change_set("cs-1"))
SUBMIT_OK = ok(submittedCount=1, skippedCount=0, results=[{"pageId": "1", "success": True}])
PREFLIGHT_OK = ok(
    summary={"total": 1, "submittable": 1, "blocked": 0},
    results=[{"pageId": "1", "canSubmit": True}],
)


def request_error(cls: type[httpx.TransportError]) -> httpx.TransportError:
    return cls("transport failed", request=httpx.Request("GET", BASE_URL))


# -- which calls are retried -----------------------------------------------------------------


SAFE_CALLS: list[tuple[str, Call, httpx.Response]] = [
    ("list", lambda c: c.list_change_sets("1"), LIST_OK),
    ("detail", lambda c: c.get_change_set("cs-1"), CS_OK),
    ("preflight change set", lambda c: c.preflight_change_set("cs-1"), PREFLIGHT_OK),
    ("preflight page", lambda c: c.preflight_page("1"), ok(pageId="1", canSubmit=True)),
]

WRITES: list[tuple[str, Call, httpx.Response]] = [
    ("create", lambda c: c.create_change_set("1", "T", ["2"]), CS_OK),
    ("update", lambda c: c.update_change_set("cs-1", title="T"), CS_OK),
    ("archive", lambda c: c.archive_change_set("cs-1"), CS_OK),
    ("submit change set", lambda c: c.submit_change_set("cs-1"), SUBMIT_OK),
    ("submit page", lambda c: c.submit_page("1"), ok(pageId="1")),
]

UNSURE_FAILURES: list[tuple[str, Callable[[], httpx.Response | Exception], type[APIError]]] = [
    ("500", lambda: fail(500, "Invocation failed"), ServerError),
    ("502", lambda: fail(502, "Bad gateway"), ServerError),
    ("read timeout", lambda: request_error(httpx.ReadTimeout), APITimeoutError),
    ("dropped", lambda: request_error(httpx.RemoteProtocolError), APIConnectionError),
]

SURELY_NOT_APPLIED: list[tuple[str, Callable[[], httpx.Response | Exception]]] = [
    ("429", lambda: fail(429, "Rate limit exceeded")),
    ("connect error", lambda: request_error(httpx.ConnectError)),
    ("connect timeout", lambda: request_error(httpx.ConnectTimeout)),
]


def ids(cases: list[Any]) -> list[str]:
    return [case[0] for case in cases]


@pytest.mark.parametrize(("_name", "call", "success"), SAFE_CALLS, ids=ids(SAFE_CALLS))
@pytest.mark.parametrize(
    ("_failure_name", "failure"),
    [(name, make) for name, make, _ in UNSURE_FAILURES] + SURELY_NOT_APPLIED,
    ids=ids(UNSURE_FAILURES) + ids(SURELY_NOT_APPLIED),
)
def test_safe_calls_are_retried_after_any_transient_failure(
    _name: str,
    call: Call,
    success: httpx.Response,
    _failure_name: str,
    failure: Callable[[], httpx.Response | Exception],
) -> None:
    server = FakeApprovalFlow(failure(), failure(), success)

    call(make_client(server))

    assert len(server.requests) == 3


@pytest.mark.parametrize(("_name", "call", "_success"), WRITES, ids=ids(WRITES))
@pytest.mark.parametrize(
    ("_failure_name", "failure", "error_class"), UNSURE_FAILURES, ids=ids(UNSURE_FAILURES)
)
def test_writes_are_not_retried_when_they_may_have_applied(
    _name: str,
    call: Call,
    _success: httpx.Response,
    _failure_name: str,
    failure: Callable[[], httpx.Response | Exception],
    error_class: type[APIError],
) -> None:
    server = FakeApprovalFlow(failure(), CS_OK)

    with pytest.raises(error_class):
        call(make_client(server))

    assert len(server.requests) == 1


@pytest.mark.parametrize(("_name", "call", "success"), WRITES, ids=ids(WRITES))
@pytest.mark.parametrize(
    ("_failure_name", "failure"), SURELY_NOT_APPLIED, ids=ids(SURELY_NOT_APPLIED)
)
def test_writes_are_retried_when_they_surely_did_not_apply(
    _name: str,
    call: Call,
    success: httpx.Response,
    _failure_name: str,
    failure: Callable[[], httpx.Response | Exception],
) -> None:
    server = FakeApprovalFlow(failure(), success)

    call(make_client(server))

    assert len(server.requests) == 2
    assert server.requests[0].content == server.requests[1].content


@pytest.mark.parametrize("status", [400, 403, 404])
def test_client_errors_are_not_retried(status: int) -> None:
    server = FakeApprovalFlow(fail(status), LIST_OK)

    with pytest.raises(APIError):
        make_client(server).list_change_sets("1")

    assert len(server.requests) == 1


def test_attempts_are_capped() -> None:
    server = FakeApprovalFlow(fail(500, "Invocation failed"))

    with pytest.raises(ServerError, match="Invocation failed"):
        make_client(server, retry=RetryPolicy.no_backoff(attempts=3)).list_change_sets("1")

    assert len(server.requests) == 3


def test_one_attempt_means_no_retry() -> None:
    server = FakeApprovalFlow(request_error(httpx.ConnectError), LIST_OK)

    with pytest.raises(APIConnectionError):
        make_client(server, retry=RetryPolicy.no_backoff(attempts=1)).list_change_sets("1")

    assert len(server.requests) == 1


def test_each_retry_is_logged_with_its_reason(caplog: pytest.LogCaptureFixture) -> None:
    server = FakeApprovalFlow(fail(503, "Maintenance"), LIST_OK)

    with caplog.at_level(logging.WARNING, logger="approvalflow_sync.retry"):
        make_client(server).list_change_sets("1")

    [record] = [r for r in caplog.records if r.name == "approvalflow_sync.retry"]
    assert record.levelno == logging.WARNING
    assert "retrying" in record.getMessage()
    assert "(attempt 2)" in record.getMessage()
    assert "GET /changeSets answered 503: Maintenance" in record.getMessage()


# -- how long to wait --------------------------------------------------------------------------


def test_retry_after_seconds_are_honoured() -> None:
    sleeps = Sleeps()
    server = FakeApprovalFlow(
        fail(429, "Rate limit exceeded", **{"Retry-After": "7"}),
        fail(429, "Rate limit exceeded", **{"Retry-After": "2"}),
        LIST_OK,
    )

    make_client(server, retry=RetryPolicy(sleep=sleeps)).list_change_sets("1")

    assert sleeps.waits == [7.0, 2.0]
    assert len(server.requests) == 3


def test_retry_after_http_date_is_honoured() -> None:
    sleeps = Sleeps()
    when = datetime.now(timezone.utc).replace(microsecond=0) + timedelta(seconds=20)
    header = email.utils.format_datetime(when, usegmt=True)
    server = FakeApprovalFlow(fail(429, "slow down", **{"Retry-After": header}), LIST_OK)

    make_client(server, retry=RetryPolicy(sleep=sleeps)).list_change_sets("1")

    [wait] = sleeps.waits
    assert 15.0 < wait <= 20.0


def test_retry_after_on_503_is_honoured() -> None:
    sleeps = Sleeps()
    server = FakeApprovalFlow(fail(503, "Maintenance", **{"Retry-After": "4"}), LIST_OK)

    make_client(server, retry=RetryPolicy(sleep=sleeps)).list_change_sets("1")

    assert sleeps.waits == [4.0]


def test_retry_after_at_the_limit_is_still_honoured() -> None:
    sleeps = Sleeps()
    server = FakeApprovalFlow(fail(429, "slow down", **{"Retry-After": "30"}), LIST_OK)

    make_client(server, retry=RetryPolicy(max_retry_after=30.0, sleep=sleeps)).list_change_sets("1")

    assert sleeps.waits == [30.0]


@pytest.mark.parametrize(("status", "error_class"), [(429, RateLimitError), (503, ServerError)])
def test_retry_after_above_the_limit_fails_at_once(
    status: int, error_class: type[RateLimitError | ServerError]
) -> None:
    sleeps = Sleeps()
    server = FakeApprovalFlow(fail(status, "come back later", **{"Retry-After": "31"}), LIST_OK)
    policy = RetryPolicy(max_retry_after=30.0, sleep=sleeps)

    with pytest.raises(error_class) as caught:
        make_client(server, retry=policy).list_change_sets("1")

    assert len(server.requests) == 1
    assert sleeps.waits == []
    assert "come back later" in str(caught.value)


def test_backoff_grows_exponentially_up_to_its_bound(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(random, "uniform", lambda _low, high: high)
    sleeps = Sleeps()
    server = FakeApprovalFlow(fail(500, "Invocation failed"))
    policy = RetryPolicy(attempts=6, initial_backoff=0.5, max_backoff=2.0, sleep=sleeps)

    with pytest.raises(ServerError):
        make_client(server, retry=policy).list_change_sets("1")

    assert sleeps.waits == [0.5, 1.0, 2.0, 2.0, 2.0]


def test_backoff_is_jittered_within_its_window() -> None:
    sleeps = Sleeps()
    server = FakeApprovalFlow(request_error(httpx.ReadTimeout))
    policy = RetryPolicy(attempts=8, initial_backoff=0.5, max_backoff=4.0, sleep=sleeps)

    with pytest.raises(APITimeoutError):
        make_client(server, retry=policy).list_change_sets("1")

    windows = [min(4.0, 0.5 * 2**n) for n in range(7)]
    assert len(sleeps.waits) == 7
    assert all(0.0 <= wait <= window for wait, window in zip(sleeps.waits, windows, strict=True))


def test_429_without_retry_after_backs_off() -> None:
    sleeps = Sleeps()
    server = FakeApprovalFlow(fail(429, "slow down"), LIST_OK)

    make_client(
        server, retry=RetryPolicy(initial_backoff=1.0, max_backoff=1.0, sleep=sleeps)
    ).list_change_sets("1")

    [wait] = sleeps.waits
    assert 0.0 <= wait <= 1.0


def test_no_retry_starts_when_its_wait_would_pass_the_total_time() -> None:
    sleeps = Sleeps()
    server = FakeApprovalFlow(fail(429, "slow down", **{"Retry-After": "10"}), LIST_OK)
    policy = RetryPolicy(total_seconds=5.0, max_retry_after=30.0, sleep=sleeps)

    with pytest.raises(RateLimitError):
        make_client(server, retry=policy).list_change_sets("1")

    assert len(server.requests) == 1
    assert sleeps.waits == []


class Clock:
    """A monotonic clock that moves only when the client sleeps or the server is slow."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.waits: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.waits.append(seconds)
        self.now += seconds


def test_total_time_counts_waits_and_slow_answers() -> None:
    clock = Clock()

    def slow_rate_limit(_request: httpx.Request) -> httpx.Response:
        clock.now += 2.0
        return fail(429, "slow down", **{"Retry-After": "3"})

    server = FakeApprovalFlow(slow_rate_limit)
    policy = RetryPolicy(attempts=100, total_seconds=12.0, sleep=clock.sleep, clock=clock.monotonic)

    with pytest.raises(RateLimitError):
        make_client(server, retry=policy).list_change_sets("1")

    # attempts end at 2, 7 and 12 seconds; 2+3 and 7+3 start before 12, 12+3 would not
    assert len(server.requests) == 3
    assert clock.waits == [3.0, 3.0]


# -- token refresh -----------------------------------------------------------------------------


class RotatingToken:
    """A token source that hands out the next token on each refresh."""

    def __init__(self, *tokens: str, can_refresh: bool = True) -> None:
        self.tokens = list(tokens)
        self.refreshes = 0
        self.can_refresh = can_refresh

    def current(self) -> str:
        return self.tokens[min(self.refreshes, len(self.tokens) - 1)]

    def refresh(self) -> bool:
        self.refreshes += 1
        return self.can_refresh


def auth_of(server: FakeApprovalFlow) -> list[str]:
    return [r.headers["Authorization"] for r in server.requests]


def test_401_refreshes_the_token_once_and_retries_with_the_new_one() -> None:
    token = RotatingToken("old-token", "new-token")
    server = FakeApprovalFlow(fail(401, "Unauthorized"), LIST_OK)

    found = make_client(server, token=token).list_change_sets("1")

    assert [cs.id for cs in found] == ["cs-1"]
    assert token.refreshes == 1
    assert auth_of(server) == ["Bearer old-token", "Bearer new-token"]


def test_401_on_a_write_is_retried_after_refresh() -> None:
    token = RotatingToken("old-token", "new-token")
    server = FakeApprovalFlow(fail(401, "Unauthorized"), CS_OK)

    cs = make_client(server, token=token).create_change_set("1", "T", ["2"])

    assert cs is not None
    assert cs.id == "cs-1"
    assert token.refreshes == 1
    assert auth_of(server) == ["Bearer old-token", "Bearer new-token"]


def test_401_after_a_refresh_fails_without_refreshing_again() -> None:
    token = RotatingToken("old-token", "new-token", "newer-token")
    server = FakeApprovalFlow(fail(401, "Unauthorized"))

    with pytest.raises(AuthenticationError):
        make_client(server, token=token).list_change_sets("1")

    assert token.refreshes == 1
    assert auth_of(server) == ["Bearer old-token", "Bearer new-token"]


def test_401_when_the_source_cannot_refresh_fails_at_once() -> None:
    token = RotatingToken("only-token", can_refresh=False)
    server = FakeApprovalFlow(fail(401, "Unauthorized"), LIST_OK)

    with pytest.raises(AuthenticationError):
        make_client(server, token=token).list_change_sets("1")

    assert token.refreshes == 1
    assert len(server.requests) == 1


def test_401_with_a_static_token_fails_at_once() -> None:
    server = FakeApprovalFlow(fail(401, "Unauthorized"), LIST_OK)

    with pytest.raises(AuthenticationError, match="expired or revoked"):
        make_client(server).list_change_sets("1")

    assert len(server.requests) == 1


# -- the token stays secret --------------------------------------------------------------------


def test_repr_of_client_and_token_hides_the_token() -> None:
    client = make_client(FakeApprovalFlow(LIST_OK))

    assert TOKEN not in repr(client)
    assert BASE_URL in repr(client)


FAILURES: list[tuple[str, httpx.Response | Exception]] = [
    ("400", fail(400, "bad")),
    ("401", fail(401, "Unauthorized")),
    ("403", fail(403, "Forbidden")),
    ("404", httpx.Response(404)),
    ("429", fail(429, "slow", **{"Retry-After": "1"})),
    ("500", fail(500, "Invocation failed")),
    ("502 html", httpx.Response(502, html="<html>Bad gateway</html>")),
    ("200 html", httpx.Response(200, html="<html>Log in</html>")),
    ("success false", httpx.Response(200, json={"success": False, "error": "no"})),
    ("missing field", ok()),
    ("connect", request_error(httpx.ConnectError)),
    ("read timeout", request_error(httpx.ReadTimeout)),
    ("dropped", request_error(httpx.RemoteProtocolError)),
]


@pytest.mark.parametrize(("_name", "answer"), FAILURES, ids=ids(FAILURES))
def test_no_raised_error_shows_the_token(_name: str, answer: httpx.Response | Exception) -> None:
    server = FakeApprovalFlow(answer)

    with pytest.raises(APIError) as caught:
        make_client(server, retry=RetryPolicy.no_backoff(attempts=2)).list_change_sets("1")

    assert TOKEN not in str(caught.value)
    assert TOKEN not in repr(caught.value)
    assert server.last.headers["Authorization"] == f"Bearer {TOKEN}"


@pytest.mark.parametrize("status", [200, 401, 403])
def test_a_server_echoing_the_token_does_not_leak_it(status: int) -> None:
    def echo(request: httpx.Request) -> httpx.Response:
        text = f"Invalid credentials: {request.headers['Authorization']}"
        return httpx.Response(status, json={"success": False, "error": text})

    server = FakeApprovalFlow(echo)

    with pytest.raises(APIError) as caught:
        make_client(server).list_change_sets("1")

    assert TOKEN not in str(caught.value)
    assert TOKEN not in (caught.value.error or "")
    assert "Invalid credentials: Bearer <hidden>" in str(caught.value)


def test_no_log_record_shows_the_token(caplog: pytest.LogCaptureFixture) -> None:
    server = FakeApprovalFlow(
        fail(503, "Maintenance"),
        request_error(httpx.ReadTimeout),
        request_error(httpx.RemoteProtocolError),
        fail(500, "Invocation failed"),
    )

    with caplog.at_level(logging.DEBUG), pytest.raises(ServerError):
        make_client(server, retry=RetryPolicy.no_backoff(attempts=4)).list_change_sets("1")

    assert len(caplog.records) >= 3, "the retries must have been logged"
    for record in caplog.records:
        assert TOKEN not in record.getMessage()
        assert TOKEN not in repr(record.args)
        assert TOKEN not in (record.exc_text or "")
    assert TOKEN not in caplog.text


def test_results_are_the_parsed_models() -> None:
    server = FakeApprovalFlow(request_error(httpx.ReadTimeout), PREFLIGHT_OK)

    answer = make_client(server).preflight_change_set("cs-1")

    assert isinstance(answer, models.PreflightAnswer)
    assert answer.summary.submittable == 1
