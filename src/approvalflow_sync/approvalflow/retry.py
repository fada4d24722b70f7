"""When and how long to retry a call to ApprovalFlow.

The rules follow Atlassian's advice (retry idempotent calls, honour ``Retry-After``, back off
exponentially with jitter, cap the attempts) and one of our own: a write is repeated only when it
surely did not take effect (connection refused, 429), because repeating a create that did take
effect would make a second change set.
"""

from __future__ import annotations

import email.utils
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone

import tenacity

from approvalflow_sync.errors import (
    APIConnectionError,
    APIError,
    RateLimitError,
    ServerError,
)

log = logging.getLogger("approvalflow_sync.retry")


@dataclass(frozen=True)
class RetryPolicy:
    """How many times and how long to retry; ``no_backoff()`` is for tests."""

    attempts: int = 5
    """Attempts in all, the first one included."""
    total_seconds: float = 60.0
    """No retry starts once this much time has passed since the first attempt."""
    initial_backoff: float = 0.5
    max_backoff: float = 8.0
    max_retry_after: float = 30.0
    """A server's ``Retry-After`` is honoured up to this many seconds, then the call fails."""
    sleep: Callable[[float], None] = field(default=time.sleep, compare=False)

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


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header: delta-seconds or an HTTP date."""
    if value is None or not value.strip():
        return None
    text = value.strip()
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


def should_retry(error: BaseException, *, idempotent: bool) -> bool:
    """Whether ``error`` is worth another attempt of a call.

    Safe calls (GETs, preflights) are retried on 429, 5xx, timeouts and broken connections.
    Writes only on 429 and when the request never left (connection refused).
    """
    if isinstance(error, RateLimitError):
        return True
    if isinstance(error, APIConnectionError):
        return idempotent or not error.maybe_applied
    if isinstance(error, ServerError):
        return idempotent
    return False


def _server_advice(error: BaseException | None) -> float | None:
    if isinstance(error, RateLimitError | ServerError):
        return error.retry_after
    return None


class _Wait(tenacity.wait.wait_base):
    """``Retry-After`` when the server gave it, else exponential backoff with full jitter."""

    def __init__(self, policy: RetryPolicy) -> None:
        self._policy = policy
        self._backoff = tenacity.wait_random_exponential(
            multiplier=policy.initial_backoff, max=policy.max_backoff
        )

    def __call__(self, retry_state: tenacity.RetryCallState) -> float:
        outcome = retry_state.outcome
        advice = _server_advice(outcome.exception() if outcome else None)
        if advice is not None:
            return advice
        if self._policy.max_backoff <= 0:
            return 0.0
        return float(self._backoff(retry_state))


def _stop(policy: RetryPolicy) -> Callable[[tenacity.RetryCallState], bool]:
    attempts = tenacity.stop_after_attempt(policy.attempts)
    deadline = tenacity.stop_before_delay(policy.total_seconds)

    def stop(state: tenacity.RetryCallState) -> bool:
        outcome = state.outcome
        advice = _server_advice(outcome.exception() if outcome else None)
        too_long = advice is not None and advice > policy.max_retry_after
        return too_long or attempts(state) or deadline(state)

    return stop


def _log_retry(state: tenacity.RetryCallState) -> None:
    error = state.outcome.exception() if state.outcome else None
    wait = state.next_action.sleep if state.next_action else 0.0
    log.warning("retrying in %.1fs (attempt %d): %s", wait, state.attempt_number + 1, error)


def retrying(policy: RetryPolicy, *, idempotent: bool) -> tenacity.Retrying:
    """A tenacity controller applying :func:`should_retry` under ``policy``."""

    def retry_if(state: tenacity.RetryCallState) -> bool:
        error = state.outcome.exception() if state.outcome else None
        return isinstance(error, APIError) and should_retry(error, idempotent=idempotent)

    return tenacity.Retrying(
        sleep=policy.sleep,
        stop=_stop(policy),
        wait=_Wait(policy),
        retry=retry_if,
        before_sleep=_log_retry,
        reraise=True,
    )
