"""GitHub's rate limits: what an answer says about them, what a run used, when everyone waits
(requests sent while limited may get an integration banned)."""

from __future__ import annotations

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
"""GitHub requests in flight at once (GitHub allows 100; requests keeps 10 connections a host)."""
SECONDARY_WAIT = 60.0
"""GitHub: without ``retry-after``, wait "at least one minute"."""
SECONDARY_DOCS = (
    "https://docs.github.com/rest/using-the-rest-api/rate-limits-for-the-rest-api"
    "#about-secondary-rate-limits"
)


@dataclass(frozen=True)
class Usage:
    """What the run's GitHub requests cost: every answer but a 304 counts against the limit;
    ``remaining`` and ``resets_at`` (epoch seconds) as GitHub last said."""

    counted: int = 0
    not_modified: int = 0
    remaining: int | None = None
    resets_at: int | None = None

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
    """A rate-limited answer: which limit, how long GitHub asks everyone to wait, until when
    (epoch seconds)."""

    primary: bool
    wait: float
    resets_at: float

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
    """The limit a 403 or 429 answer reports, or None (a 403 without one is a refusal). GitHub:
    ``x-ratelimit-remaining: 0`` is the primary limit; any 429, or a 403 saying "secondary rate
    limit", is a secondary one: wait ``retry-after``, else a minute, longer each time."""
    if status not in (403, 429):
        return None
    retry_after = parse_retry_after(headers.get("retry-after"))
    if retry_after is None:
        if primary := _used_up(headers):
            return primary
        if status == 403 and "secondary rate limit" not in body.lower():
            return None
    wait = retry_after if retry_after is not None else SECONDARY_WAIT * 2**strikes
    return Limit(primary=False, wait=wait, resets_at=time.time() + wait)


def _used_up(headers: Mapping[str, str]) -> Limit | None:
    """The primary limit, when an answer says none is left until the reset."""
    reset = headers.get("x-ratelimit-reset", "")
    if headers.get("x-ratelimit-remaining") != "0" or not reset.isdigit():
        return None
    return Limit(primary=True, wait=max(0.0, int(reset) - time.time()) + 1.0, resets_at=int(reset))


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
        """A turn to send, after any pause, and when the attempt must end. A secondary limit
        must end by the call's ``deadline``, a primary one by the run's end (the attempt then
        gets a call's time again); a longer pause is an error instead."""
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
            pause = limit or _used_up(headers)  # a good answer may leave nothing for the next
            until = self._policy.clock() + pause.wait if pause else 0.0
            if pause and until > self._until:
                self._pause, self._until = pause, until
            return limit

    def _count(self, status: int, headers: Mapping[str, str]) -> None:
        usage, free = self._usage, status == 304
        usage = replace(
            usage, counted=usage.counted + (not free), not_modified=usage.not_modified + free
        )
        remaining = headers.get("x-ratelimit-remaining", "")
        reset = headers.get("x-ratelimit-reset", "")
        if remaining.isdigit() and reset.isdigit():  # the latest window, the fewest left in it
            seen = (int(reset), -int(remaining))
            if usage.resets_at is None or seen > (usage.resets_at, -(usage.remaining or 0)):
                usage = replace(usage, remaining=int(remaining), resets_at=int(reset))
        self._usage = usage
