"""GitHub's rate limits: what an answer says about them, what a run used, when everyone waits.

GitHub's rules (docs.github.com, "Rate limits for the REST API"): a 403 or 429 with
``x-ratelimit-remaining: 0`` is the primary limit, over until ``x-ratelimit-reset``; a 403 or
429 that says "secondary rate limit" (or any 429) is a secondary one: wait ``retry-after``
seconds, else at least a minute, longer each time it repeats. Requests sent while limited may
get an integration banned, so one limit pauses every thread of the run, and a bounded number of
requests is ever in flight.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime, timezone

from approvalflow_sync.errors import GitHubRateLimitError
from approvalflow_sync.retry import RetryPolicy, parse_retry_after

log = logging.getLogger("approvalflow_sync.github")

CONCURRENCY = 10
"""GitHub requests in flight at once, whatever the pools above ask (GitHub's secondary limits
allow 100; requests keeps 10 connections per host)."""
SECONDARY_WAIT = 60.0
"""GitHub: without ``retry-after``, wait "at least one minute", doubling when it repeats."""
SECONDARY_DOCS = (
    "https://docs.github.com/rest/using-the-rest-api/rate-limits-for-the-rest-api"
    "#about-secondary-rate-limits"
)


@dataclass(frozen=True)
class Usage:
    """What the run's GitHub requests cost; ``remaining`` and ``resets_at`` as GitHub last said."""

    counted: int = 0
    """Answers that count against the primary rate limit (everything but 304)."""
    not_modified: int = 0
    """Conditional GETs answered 304, which do not count."""
    remaining: int | None = None
    resets_at: int | None = None
    """Epoch seconds."""

    def describe(self) -> str:
        text = (
            f"GitHub requests: {self.counted} counted against the rate limit, "
            f"{self.not_modified} answered 304 Not Modified (not counted)"
        )
        if self.remaining is not None and self.resets_at is not None:
            text += f"; {self.remaining} left until {_clock_time(self.resets_at)}"
        return text + "."


@dataclass(frozen=True)
class Limit:
    """A rate-limited answer: which limit, and how long GitHub asks everyone to wait."""

    primary: bool
    wait: float
    resets_at: float
    """Epoch seconds."""

    def explain(self) -> str:
        if self.primary:
            return (
                f"the token's primary rate limit is used up until {_clock_time(self.resets_at)}, "
                "after this run's time ends; run the job again after then"
            )
        return (
            f"GitHub's secondary rate limit asks to wait {self.wait:.0f} s, longer than this "
            f"request may; run the job again in a few minutes ({SECONDARY_DOCS})"
        )


def read_limit(
    status: int, headers: Mapping[str, str], body: str, *, strikes: int = 0
) -> Limit | None:
    """The limit a 403 or 429 answer reports, or None (a 403 without one is a refusal)."""
    if status not in (403, 429):
        return None
    now = time.time()
    retry_after = parse_retry_after(headers.get("retry-after"))
    reset = headers.get("x-ratelimit-reset", "")
    if retry_after is None and headers.get("x-ratelimit-remaining") == "0" and reset.isdigit():
        return Limit(primary=True, wait=max(0.0, int(reset) - now) + 1.0, resets_at=int(reset))
    if retry_after is None and not (status == 429 or "secondary rate limit" in _message(body)):
        return None
    wait = retry_after if retry_after is not None else SECONDARY_WAIT * 2**strikes
    return Limit(primary=False, wait=wait, resets_at=now + wait)


def _message(body: str) -> str:
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):
        return ""
    return str(data.get("message", "")).lower() if isinstance(data, dict) else ""


def _clock_time(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, timezone.utc).strftime("%H:%M:%S UTC")


class Limiter:
    """One requester's slots, count and pause, shared by the threads that send through it."""

    def __init__(self, policy: RetryPolicy, concurrency: int = CONCURRENCY) -> None:
        self._policy = policy
        self._slots = threading.BoundedSemaphore(concurrency)
        self._lock = threading.Lock()
        self._usage = Usage()
        self._pause: Limit | None = None
        self._until = 0.0
        self._strikes = 0

    def usage(self) -> Usage:
        with self._lock:
            return self._usage

    @contextmanager
    def slot(self, where: str, deadline: float) -> Iterator[float]:
        """A turn to send, after any pause, and when the attempt must end; a pause past its
        deadline is an error instead.

        A secondary limit must end by the call's ``deadline``, a primary one by the run's end:
        after waiting one out, the attempt gets a call's time again (within the run).
        """
        with self._lock:
            pause, left = self._pause, self._until - self._policy.clock()
        if pause is not None and left > 0:
            ends = (self._policy.run_ends or deadline) if pause.primary else deadline
            if self._policy.clock() + left > ends:
                raise GitHubRateLimitError(where, pause.explain(), resets_at=pause.resets_at)
            kind = "primary" if pause.primary else "secondary"
            log.warning("GitHub's %s rate limit: waiting %.0f s before %s", kind, left, where)
            self._policy.sleep(left)
            if pause.primary:
                deadline = max(deadline, self._policy.deadline())
        with self._slots:
            yield deadline

    def observe(self, status: int, headers: Mapping[str, str], body: str) -> Limit | None:
        """Count an answer and read its limit; a limit (or nothing left) pauses every thread."""
        with self._lock:
            limit = read_limit(status, headers, body, strikes=self._strikes)
            self._count(status, headers)
            self._strikes = self._strikes + 1 if limit and not limit.primary else 0
            reset = self._usage.resets_at
            if limit is not None:
                self._set_pause(limit)
            elif headers.get("x-ratelimit-remaining") == "0" and reset is not None:
                # this answer is good, the next request would not be
                wait = max(0.0, reset - time.time()) + 1.0
                self._set_pause(Limit(primary=True, wait=wait, resets_at=reset))
            return limit

    def _set_pause(self, limit: Limit) -> None:
        until = self._policy.clock() + limit.wait
        if until > self._until:
            self._pause, self._until = limit, until

    def _count(self, status: int, headers: Mapping[str, str]) -> None:
        usage, free = self._usage, status == 304
        usage = replace(
            usage, counted=usage.counted + (not free), not_modified=usage.not_modified + free
        )
        remaining = headers.get("x-ratelimit-remaining", "")
        reset = headers.get("x-ratelimit-reset", "")
        if remaining.isdigit() and reset.isdigit():
            later = usage.resets_at is None or int(reset) > usage.resets_at
            fewer = usage.remaining is None or int(remaining) < usage.remaining
            if later or (int(reset) == usage.resets_at and fewer):
                usage = replace(usage, remaining=int(remaining), resets_at=int(reset))
        self._usage = usage
