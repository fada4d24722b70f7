"""GitHub's rate limits through the gateway: conditional requests, counting, waits, concurrency.

Against the fake GitHub (ETags, 304s that cost nothing, primary and secondary limits on demand)
with a fake clock: a wait is recorded, not slept, and the fake's limit is reset when it ends.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from reliability_support import MAPPING, Harness

from action_harness import harness, load_payload
from approvalflow_sync.errors import GitHubRateLimitError
from approvalflow_sync.github.conditional import ETagStore
from approvalflow_sync.github.event import ChangedFile, PullRequest
from approvalflow_sync.github.gateway import Comment, GitHubGateway, Status
from approvalflow_sync.github.ratelimit import CONCURRENCY, SECONDARY_WAIT
from approvalflow_sync.retry import RetryPolicy
from approvalflow_sync.sandbox import SandboxServer
from fakes.github import ACTIONS_TOKEN, GITHUB_ACTIONS_BOT, FakeGitHub

REPO = "Codertocat/Hello-World"
FILES = [f"docs/page-{n:03}.md" for n in range(250)]  # three pages of 100


@dataclass
class Clock:
    """The policy's clock and sleep: a wait moves time on and, if asked, resets the fake's limit."""

    now: float = 1000.0
    sleeps: list[float] = field(default_factory=list)
    on_sleep: list[FakeGitHub] = field(default_factory=list)

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            self.sleeps.append(seconds)
            self.now += seconds
            for fake in self.on_sleep:
                fake.reset_rate_limits()

    def policy(self) -> RetryPolicy:
        return RetryPolicy(
            attempts=5,
            total_seconds=120.0,
            max_retry_after=60.0,
            clock=lambda: self.now,
            sleep=self.sleep,
        )


@pytest.fixture
def fake() -> Iterator[FakeGitHub]:
    with FakeGitHub() as server:
        yield server
        assert server.errors == []


@pytest.fixture
def pr(fake: FakeGitHub) -> PullRequest:
    stored = fake.add_pull_request(load_payload("opened"), files=FILES)
    fake.add_issue_comment(REPO, 2, "a comment")
    fake.add_status(REPO, stored["head"]["sha"], "success", context="ApprovalFlow / preflight")
    return PullRequest(
        repo=REPO,
        number=2,
        title="t",
        body="",
        html_url="",
        head_sha=stored["head"]["sha"],
        head_ref="h",
        head_repo=REPO,
        base_ref="main",
        base_sha=stored["base"]["sha"],
        merged=False,
        changed_files=len(FILES),
    )


def read_everything(
    gh: GitHubGateway, pr: PullRequest
) -> tuple[list[ChangedFile], list[Comment], Status | None]:
    return (
        gh.list_files(pr),
        gh.list_comments(pr),
        gh.latest_status(pr, "ApprovalFlow / preflight"),
    )


# -- conditional requests ---------------------------------------------------------------------


def test_a_warm_store_makes_unchanged_reads_free_304s(
    fake: FakeGitHub, pr: PullRequest, tmp_path: Path
) -> None:
    store = tmp_path / "cache" / "etags.json"
    cold = GitHubGateway(fake.api_url, ACTIONS_TOKEN, etag_file=store)
    first = read_everything(cold, pr)
    cold.close()
    used = fake.rate_limit_used(ACTIONS_TOKEN)
    fake.clear_calls()

    saved = store.read_bytes()
    store.touch()
    written = store.stat().st_mtime_ns

    warm = GitHubGateway(fake.api_url, ACTIONS_TOKEN, etag_file=store)
    again = read_everything(warm, pr)
    warm.close()

    assert again == first
    assert [c.status for c in fake.calls] == [304] * 5  # 3 pages of files, comments, statuses
    assert all(c.request_headers.get("If-None-Match") for c in fake.calls)
    assert fake.rate_limit_used(ACTIONS_TOKEN) == used, "a 304 costs nothing"
    assert store.stat().st_mtime_ns == written, "nothing new: the file is not rewritten"
    assert store.read_bytes() == saved
    usage = warm.usage()
    assert (usage.counted, usage.not_modified) == (0, 5)
    assert cold.usage().counted == 5
    assert usage.describe().startswith(
        "GitHub requests: 0 counted against the rate limit, 5 answered 304"
    )


def test_a_changed_resource_is_read_again(fake: FakeGitHub, pr: PullRequest) -> None:
    gh = GitHubGateway(fake.api_url, ACTIONS_TOKEN)
    read_everything(gh, pr)
    fake.set_pull_request_files(REPO, 2, ["docs/new.md"])
    fake.add_issue_comment(REPO, 2, "a second comment")

    files, comments, _status = read_everything(gh, pr)

    assert [f.path for f in files] == ["docs/new.md"]
    assert [c.body for c in comments] == ["a comment", "a second comment"]
    assert [c.status for c in fake.calls[-3:]] == [200, 200, 304]


def test_the_store_file_keeps_answers_but_never_the_token(
    fake: FakeGitHub, pr: PullRequest, tmp_path: Path
) -> None:
    store = tmp_path / "etags.json"
    gh = GitHubGateway(fake.api_url, ACTIONS_TOKEN, etag_file=store)
    read_everything(gh, pr)
    gh.close()

    text = store.read_text()
    assert "a comment" in text
    assert ACTIONS_TOKEN not in text
    assert "authorization" not in text.lower()
    assert [p.name for p in tmp_path.iterdir()] == ["etags.json"], "no temporary file left"


@pytest.mark.parametrize(
    "content",
    [
        "{not json",
        '{"version": 99, "entries": []}',
        '{"version": 1, "entries": [{"url": 1, "etag": 2, "headers": {}, "body": 3}]}',
        "[]",
        "\x00\xff",
    ],
    ids=["not-json", "another-version", "not-text", "a-list", "binary"],
)
def test_an_unusable_store_file_starts_cold_with_one_warning(
    fake: FakeGitHub,
    pr: PullRequest,
    tmp_path: Path,
    content: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    store = tmp_path / "etags.json"
    store.write_text(content, encoding="latin-1")

    with caplog.at_level(logging.WARNING):
        gh = GitHubGateway(fake.api_url, ACTIONS_TOKEN, etag_file=store)
        read_everything(gh, pr)
        gh.close()

    (warning,) = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert "could not be read" in warning.getMessage()
    assert gh.usage().counted == 5
    assert len(json.loads(store.read_text())["entries"]) == 5, "saved afresh"


def test_the_store_stays_within_its_size_keeping_the_latest_answers(tmp_path: Path) -> None:
    store = ETagStore(max_bytes=10_000)
    for n in range(100):
        store.put(f"/r/{n}", {"etag": f'"{n}"', "authorization": "x"}, "x" * 990)
    store.get("/r/91")  # used again: now newer than 92
    for n in (100, 101):  # 10 entries of 998 bytes fit: 90 goes, then 92
        store.put(f"/r/{n}", {"etag": f'"{n}"'}, "x" * 989)
    store.put("/huge", {"etag": '"h"'}, "x" * 20_000)  # bigger than the whole store

    assert len(store) == 10
    assert store.get("/r/90") is None
    assert store.get("/r/92") is None
    assert store.get("/r/91") is not None
    assert store.get("/huge") is None
    kept = store.get("/r/99")
    assert kept is not None
    assert kept.headers == {"etag": '"99"'}, "only the headers a reader needs"
    store.save(tmp_path / "s.json")
    assert len(ETagStore.load(tmp_path / "s.json")) == 10


# -- primary and secondary rate limits --------------------------------------------------------


def test_a_primary_limit_is_waited_out_when_it_resets_within_the_run(
    fake: FakeGitHub, pr: PullRequest
) -> None:
    clock = Clock(on_sleep=[fake])
    gh = GitHubGateway(fake.api_url, ACTIONS_TOKEN, retry=clock.policy(), run_ends=clock.now + 600)
    fake.exhaust_rate_limit(ACTIONS_TOKEN, resets_in=300, status=429)

    comments = gh.list_comments(pr)

    assert [c.body for c in comments] == ["a comment"]
    (waited,) = clock.sleeps
    assert 299 <= waited <= 302, "until x-ratelimit-reset, though 5 min is past one call's 2"
    assert [c.status for c in fake.calls] == [429, 200]


def test_a_primary_limit_past_the_run_stops_it_with_one_line_naming_the_reset(
    fake: FakeGitHub, pr: PullRequest
) -> None:
    clock = Clock()
    gh = GitHubGateway(fake.api_url, ACTIONS_TOKEN, retry=clock.policy(), run_ends=clock.now + 600)
    fake.exhaust_rate_limit(ACTIONS_TOKEN, resets_in=1800)
    reset = int(time.time()) + 1800

    with pytest.raises(GitHubRateLimitError) as caught:
        gh.list_comments(pr)
    with pytest.raises(GitHubRateLimitError):  # the pause holds every later request
        gh.list_files(pr)

    message = str(caught.value)
    assert "\n" not in message
    assert "primary rate limit is used up until" in message
    assert time.strftime("%H:%M", time.gmtime(reset)) in message
    assert "run the job again after then" in message
    assert abs(caught.value.resets_at - reset) <= 2
    assert clock.sleeps == []
    assert len(fake.calls) == 1, "no request sent into a spent limit"


def test_an_answer_that_leaves_nothing_holds_the_next_request_back(
    fake: FakeGitHub, pr: PullRequest
) -> None:
    fake.add_token("ghs_tiny", GITHUB_ACTIONS_BOT, rate_limit=2)
    clock = Clock()
    gh = GitHubGateway(fake.api_url, "ghs_tiny", retry=clock.policy(), run_ends=clock.now + 600)
    gh.list_comments(pr)
    gh.latest_status(pr, "ApprovalFlow / preflight")  # x-ratelimit-remaining: 0

    with pytest.raises(GitHubRateLimitError, match="primary rate limit is used up"):
        gh.list_comments(pr)

    assert gh.usage().remaining == 0
    assert [c.status for c in fake.calls] == [200, 200], "the third was never sent"


@pytest.mark.parametrize(
    ("retry_after", "status", "waits"),
    [(7, 403, [7.0]), (None, 403, [SECONDARY_WAIT]), (None, 429, [SECONDARY_WAIT])],
    ids=["retry-after", "403-without-it", "429-without-it"],
)
def test_a_secondary_limit_waits_as_github_asks(
    fake: FakeGitHub, pr: PullRequest, retry_after: int | None, status: int, waits: list[float]
) -> None:
    clock = Clock()
    gh = GitHubGateway(fake.api_url, ACTIONS_TOKEN, retry=clock.policy())
    fake.inject_secondary_rate_limit("POST", r"/comments$", retry_after=retry_after, status=status)

    gh.create_comment(pr, "after the wait")

    assert clock.sleeps == waits
    assert [c.status for c in fake.calls] == [status, 201]
    assert gh.usage().counted == 2


def test_a_secondary_limit_longer_than_the_call_may_wait_is_an_error(
    fake: FakeGitHub, pr: PullRequest
) -> None:
    clock = Clock()
    gh = GitHubGateway(fake.api_url, ACTIONS_TOKEN, retry=clock.policy())
    fake.inject_secondary_rate_limit("GET", r"/comments$", retry_after=None, count=2)

    with pytest.raises(GitHubRateLimitError, match="secondary rate limit asks to wait 120 s"):
        gh.list_comments(pr)

    assert clock.sleeps == [SECONDARY_WAIT], "a minute, then twice that: past the deadline"
    assert len(fake.calls) == 2


def test_a_refusal_is_not_mistaken_for_a_rate_limit(fake: FakeGitHub, pr: PullRequest) -> None:
    clock = Clock()
    gh = GitHubGateway(fake.api_url, "ghs_actions_readonly", retry=clock.policy())

    with pytest.raises(Exception, match="Resource not accessible by integration"):
        gh.create_comment(pr, "no")

    assert clock.sleeps == []
    assert len(fake.calls) == 1


# -- concurrency --------------------------------------------------------------------------------


def test_parallel_callers_share_a_bounded_number_of_requests_in_flight(
    fake: FakeGitHub, pr: PullRequest
) -> None:
    gh = GitHubGateway(fake.api_url, ACTIONS_TOKEN)
    fake.latency = 0.05

    with ThreadPoolExecutor(max_workers=40) as pool:
        results = list(pool.map(lambda _n: gh.list_comments(pr), range(40)))

    assert all([c.body for c in r] == ["a comment"] for r in results)
    edges = sorted([(c.started, 1) for c in fake.calls] + [(c.ended, -1) for c in fake.calls])
    in_flight, most = 0, 0
    for _when, step in edges:
        in_flight += step
        most = max(most, in_flight)
    assert 2 <= most <= CONCURRENCY


# -- the job summary ------------------------------------------------------------------------------


def test_a_run_reports_its_github_requests_in_the_job_summary(
    tmp_path: Path, sandbox: SandboxServer
) -> None:
    with harness(tmp_path, sandbox, MAPPING, Harness) as h:
        event = h.opened(["docs/auth/login.md"])
        run = h.run(event)

    assert run.returncode == 0, run.describe()
    counted = len(h.github.calls)
    assert counted >= 4
    assert f"GitHub requests: {counted} counted against the rate limit, 0 answered 304" in (
        run.summary
    )
