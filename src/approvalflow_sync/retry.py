"""The one retry engine (ApprovalFlow, the token endpoint, GitHub), deadlines, reading answers.

A write is retried only when it surely did not take effect; every call has a total deadline.
"""

from __future__ import annotations

import email.utils
import json
import logging
import ssl
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import Future, wait
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, Literal, TypeVar, cast
from urllib.parse import quote, quote_plus

import httpcore
import httpx
import tenacity

if TYPE_CHECKING:
    from pydantic import ValidationError

from approvalflow_sync.errors import TransientAnswer

log = logging.getLogger("approvalflow_sync.retry")
T = TypeVar("T")

Kind = Literal["rate limited", "not sent", "server error", "maybe sent"]
WRITES_RETRIED_AFTER: frozenset[Kind] = frozenset({"rate limited", "not sent"})
"""The policy table. Every kind of transient failure is retried for an idempotent call; a write
only after these two, which prove it did not take effect. Anything else is never retried."""
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "PUT", "PATCH"})
"""Methods whose repetition does no more than one call: we PUT and PATCH whole values only."""


@dataclass(frozen=True)
class RetryPolicy:
    """How many times and how long to retry; ``no_backoff()`` is the switch for fast tests."""

    attempts: int = 5
    total_seconds: float = 60.0
    """A call's deadline: its attempts, waits and reads all end this long after it starts."""
    initial_backoff: float = 0.5
    max_backoff: float = 8.0
    max_retry_after: float = 30.0
    """A longer ``Retry-After`` fails the call instead."""
    run_ends: float | None = None
    """The run's deadline on ``clock``: no call continues past it."""
    sleep: Callable[[float], None] = field(default=time.sleep, compare=False)
    clock: Callable[[], float] = field(default=time.monotonic, compare=False)

    @classmethod
    def no_backoff(cls, attempts: int = 5) -> RetryPolicy:
        """A policy that retries at once: the same decisions, no waiting."""
        return cls(
            attempts=attempts,
            initial_backoff=0.0,
            max_backoff=0.0,
            max_retry_after=3600.0,
            sleep=lambda _seconds: None,
        )

    def deadline(self) -> float:
        ends = self.clock() + self.total_seconds
        return ends if self.run_ends is None else min(ends, self.run_ends)


@dataclass(frozen=True)
class Verdict:
    kind: Kind
    retry_after: float | None = None


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header: delta-seconds or an HTTP date."""
    text = (value or "").strip()
    if not text:
        return None
    try:
        return max(0.0, float(text))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    now = now or datetime.now(timezone.utc)
    return max(0.0, (when - now).total_seconds())


def status_verdict(status: int, headers: Mapping[str, str]) -> Verdict | None:
    """The verdict on an HTTP status: 429 and 5xx (GitHub's 403 limits are the limiter's)."""
    retry_after = parse_retry_after(headers.get("retry-after"))
    if status == 429:
        return Verdict("rate limited", retry_after)
    if status >= 500:
        return Verdict("server error", retry_after)
    return None


def should_retry(error: BaseException, *, idempotent: bool) -> bool:
    """Whether to try again: the call is idempotent, or the failure proves it had no effect."""
    return isinstance(error, TransientAnswer) and (idempotent or error.kind in WRITES_RETRIED_AFTER)


def _advice(state: tenacity.RetryCallState) -> float | None:
    error = state.outcome.exception() if state.outcome else None
    return error.retry_after if isinstance(error, TransientAnswer) else None


def _log_retry(state: tenacity.RetryCallState) -> None:
    error = state.outcome.exception() if state.outcome else None
    wait = state.next_action.sleep if state.next_action else 0.0
    log.warning("retrying in %.1fs (attempt %d): %s", wait, state.attempt_number + 1, error)


def retrying(policy: RetryPolicy, *, idempotent: bool, deadline: float) -> tenacity.Retrying:
    """A tenacity controller applying :func:`should_retry` under ``policy`` until ``deadline``:
    waits are ``Retry-After``'s (a longer one than allowed stops) or jittered exponential."""
    backoff = tenacity.wait_random_exponential(policy.initial_backoff, max=policy.max_backoff)

    def wait(state: tenacity.RetryCallState) -> float:
        advice = _advice(state)
        return advice if advice is not None else float(backoff(state))

    def stop(state: tenacity.RetryCallState) -> bool:
        advice = _advice(state)
        return (
            state.attempt_number >= policy.attempts
            or (advice is not None and advice > policy.max_retry_after)
            or policy.clock() + state.upcoming_sleep >= deadline
        )

    return tenacity.Retrying(
        sleep=policy.sleep,
        stop=stop,
        wait=wait,
        retry=tenacity.retry_if_exception(lambda error: should_retry(error, idempotent=idempotent)),
        before_sleep=_log_retry,
        reraise=True,
    )


def within(deadline: float, clock: Callable[[], float], work: Callable[[], T]) -> T:
    """``work()``'s result, or :class:`TimeoutError` once ``deadline`` passes: the work runs in a
    thread left to end (a server sending a byte a second outlasts every read timeout)."""
    left = deadline - clock()
    if left <= 0:
        raise TimeoutError("the deadline passed before the request was sent")
    done: Future[T] = Future()

    def run() -> None:
        try:
            done.set_result(work())
        except BaseException as error:  # handed to the caller, whatever it is
            done.set_exception(error)

    threading.Thread(target=run, name="http-call", daemon=True).start()
    if not wait([done], timeout=left).done:
        raise TimeoutError("the deadline passed before the answer came")
    return done.result()


_TIME_LEFT: ContextVar[Callable[[], float] | None] = ContextVar("time_left", default=None)
"""Seconds left until the deadline of the call :func:`send_retried` is sending, if any."""


def _bounded(timeout: float | None, late: type[httpcore.TimeoutException]) -> float | None:
    """``timeout`` cut to the time left before the call's deadline; ``late`` once it passed."""
    time_left = _TIME_LEFT.get()
    if time_left is None:
        return timeout
    left = time_left()
    if left <= 0:
        raise late("the deadline passed")
    return left if timeout is None else min(timeout, left)


class _DeadlineStream(httpcore.NetworkStream):
    """A connection each read and write of which ends by the current call's deadline."""

    def __init__(self, inner: httpcore.NetworkStream) -> None:
        self._inner = inner

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._inner.read(max_bytes, _bounded(timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, _bounded(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._inner.close()

    def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.NetworkStream:
        bounded = _bounded(timeout, httpcore.ConnectTimeout)
        return _DeadlineStream(self._inner.start_tls(ssl_context, server_hostname, bounded))

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


class _DeadlineBackend(httpcore.NetworkBackend):
    """httpcore's network, its connections bounded by :class:`_DeadlineStream`."""

    def __init__(self, inner: httpcore.NetworkBackend) -> None:
        self._inner = inner

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        bounded = _bounded(timeout, httpcore.ConnectTimeout)
        inner = self._inner.connect_tcp(host, port, bounded, local_address, socket_options)
        return _DeadlineStream(inner)

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


def _bind_to_deadlines(http: httpx.Client, url: httpx.URL) -> None:
    """Give the pool serving ``url`` connections bounded by the call's deadline: httpx has no
    public hook for a network backend, so it is set on its pool (a test double has none)."""
    pool = getattr(http._transport_for_url(url), "_pool", None)
    if isinstance(pool, httpcore.ConnectionPool) and not isinstance(
        pool._network_backend, _DeadlineBackend
    ):
        pool._network_backend = _DeadlineBackend(pool._network_backend)


def send_retried(
    http: httpx.Client,
    build: Callable[[], httpx.Request],
    policy: RetryPolicy,
    *,
    idempotent: bool,
    unsent: Callable[[httpx.RequestError], Exception],
    busy: Callable[[httpx.Response], Exception],
) -> httpx.Response:
    """The answer to the request ``build`` makes, redirects not followed, all attempts and reads
    by one deadline; no answer (``unsent``'s error), 429 and 5xx (``busy``'s) are retried as the
    table says, else raised. No thread: each read waits at most the time left."""
    deadline = policy.deadline()

    def send(request: httpx.Request) -> httpx.Response:
        left = deadline - policy.clock()
        if left <= 0:
            said = "the deadline passed before the request was sent"
            raise httpx.ConnectTimeout(said, request=request)
        _bind_to_deadlines(http, request.url)
        time_left = _TIME_LEFT.set(lambda: deadline - policy.clock())
        try:
            return http.send(request, follow_redirects=False)
        except httpx.TimeoutException as exc:
            if policy.clock() < deadline:
                raise
            said = f"the deadline passed {left:.3g} s after the request started"
            raise type(exc)(said, request=request) from None
        finally:
            _TIME_LEFT.reset(time_left)

    def attempt() -> httpx.Response:
        try:
            response = send(build())
        except httpx.RequestError as exc:
            kind: Kind = "maybe sent" if maybe_sent(exc) else "not sent"
            error = unsent(exc)
            error.__cause__ = exc
            raise TransientAnswer(str(error), kind, answer=error) from None
        verdict = status_verdict(response.status_code, response.headers)
        if verdict is None:
            return response
        error = busy(response)
        raise TransientAnswer(
            str(error), verdict.kind, retry_after=verdict.retry_after, answer=error
        )

    try:
        answer: httpx.Response = retrying(policy, idempotent=idempotent, deadline=deadline)(attempt)
    except TransientAnswer as last:
        error = cast(Exception, last.answer)
        raise error from error.__cause__
    return answer


def maybe_sent(error: httpx.RequestError) -> bool:
    """Whether a request that got no answer may have taken effect: unless it never connected."""
    return not isinstance(error, httpx.ConnectTimeout | httpx.ConnectError)


def no_answer(error: httpx.RequestError) -> str:
    """What a failed send says, and what to check."""
    if isinstance(error, httpx.ConnectTimeout):
        return f"timed out connecting ({error}); check the URL and the network"
    if isinstance(error, httpx.TimeoutException):
        return f"timed out waiting for the answer ({error}); the request may have taken effect"
    if isinstance(error, httpx.ConnectError):
        return f"could not connect ({type(error).__name__}); check the URL and the network"
    name = type(error).__name__
    return f"the connection broke before an answer ({name}); the request may have taken effect"


def json_of(response: httpx.Response) -> object:
    """An answer's JSON value; None when the body is empty or not JSON."""
    if not response.content.strip():
        return None
    try:
        return json.loads(response.content)
    except (ValueError, UnicodeDecodeError, RecursionError):  # nested too deep for the parser
        return None


def first_problem(error: ValidationError) -> str:
    """The first problem of a validation error, without the input (it may hold a token)."""
    problem = error.errors()[0]
    where = ".".join(str(part) for part in problem["loc"]) or "the answer"
    return f"{where}: {problem['msg']}"


def hidden(value: object, secrets: Iterable[str]) -> str | None:
    """The server's text with any secret it echoes (as is or URL-encoded) blanked out."""
    if not isinstance(value, str):
        return None
    for secret in (secret for secret in secrets if len(secret) >= 4):
        forms = {secret, quote(secret), quote(secret, safe=""), quote_plus(secret)}
        for form in sorted(forms, key=len, reverse=True):
            value = value.replace(form, "<hidden>")
    return value


def describe_body(response: httpx.Response) -> str:
    """What an answer's body is, in words for an error: never its text, which may echo a secret."""
    if not response.content.strip():
        return "an empty body"
    kind = response.headers.get("Content-Type", "unknown type").split(";")[0].strip()
    if "html" in kind:
        return "an HTML page"
    try:
        data = json.loads(response.content)
    except RecursionError:
        return "JSON nested too deeply to read"
    except (ValueError, UnicodeDecodeError):
        return f"{len(response.content)} bytes of {kind}"
    kinds = {dict: "object", list: "array", str: "string", bool: "boolean", type(None): "null"}
    return f"a JSON {kinds.get(type(data), 'number')}"
