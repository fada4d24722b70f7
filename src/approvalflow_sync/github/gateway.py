"""The GitHub REST calls the action makes, through PyGithub with a requester of ours: under the
program's retry engine, and bound to the API host (PyGithub's own check is an ``assert``)."""

from __future__ import annotations

import base64
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from functools import partial
from itertools import takewhile
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import requests
from github import Auth, GithubException
from github.GithubObject import NonCompletableGithubObject
from github.PaginatedList import PaginatedList
from github.Requester import Requester

from approvalflow_sync.errors import GitHubError, TransientAnswer
from approvalflow_sync.github.conditional import ETagStore
from approvalflow_sync.github.event import ChangedFile, PullRequest, parse_pull_request
from approvalflow_sync.github.ratelimit import CONCURRENCY, Limiter, Usage
from approvalflow_sync.retry import (
    IDEMPOTENT_METHODS,
    RetryPolicy,
    Verdict,
    retrying,
    status_verdict,
    within,
)

# PyGithub gives its logger a console handler at INFO, which would print every expected refusal
# (GET /user answers 403 to an Actions token): its records go to the program's configuration.
_pygithub_log = logging.getLogger("github")
_pygithub_log.handlers.clear()
_pygithub_log.setLevel(logging.NOTSET)

PER_PAGE = 100
NOT_ACCESSIBLE = "Resource not accessible by integration"
GITHUB_RETRY = RetryPolicy(attempts=5, total_seconds=120.0, max_retry_after=60.0)
"""GitHub asks to wait out a secondary rate limit, typically a minute at most."""
READ_TIMEOUT = 15


@dataclass(frozen=True)
class Comment:
    id: int
    body: str
    author: str
    html_url: str


@dataclass(frozen=True)
class Status:
    state: str
    description: str
    target_url: str | None


ACTIONS_BOT = "github-actions[bot]"


@dataclass(frozen=True)
class Identity:
    """The login the token writes comments as: a comment by anyone else is never ours."""

    login: str

    def wrote(self, comment: Comment) -> bool:
        return comment.author == self.login


PERMISSIONS = {
    "read pull request": "pull-requests: read",
    "list pull request files": "pull-requests: read",
    "list comments": "pull-requests: read",
    "create comment": "pull-requests: write",
    "update comment": "pull-requests: write",
    "set commit status": "statuses: write",
    "read commit statuses": "statuses: read",
    "read file": "contents: read",
    "list pull requests": "pull-requests: read",
}


def github_message(error: GithubException) -> str:
    """The ``message`` of GitHub's refusal."""
    data: Any = error.data
    return str((data.get("message") if isinstance(data, dict) else None) or "no message")


def _explain(operation: str, error: GithubException) -> GitHubError:
    text = github_message(error)
    if error.status == 403 and NOT_ACCESSIBLE in text:
        permission = PERMISSIONS.get(operation, "the matching permission")
        text += (
            f" (the token lacks {permission}: add `{permission}` under `permissions:` in the "
            "workflow; a pull request from a fork gets a read-only token)"
        )
    elif error.status == 401:
        text += " (check the github-token input)"
    elif error.status >= 500:
        text += " (GitHub is having trouble: run the job again later, https://www.githubstatus.com)"
    elif error.status == 404 and operation == "update comment":
        text += " (the comment was deleted; the next run posts a new one)"
    return GitHubError(operation, text, status=error.status)


@contextmanager
def _github_errors(operation: str) -> Iterator[None]:
    try:
        yield
    except GithubException as exc:
        raise _explain(operation, exc) from None
    except OSError as exc:  # requests' errors are OSErrors
        raise GitHubError(
            operation, f"no answer ({exc.__class__.__name__}); run the job again later"
        ) from None


class HostBoundRequester(Requester):
    """PyGithub's requester, under our retry policy and bound to the configured API host; GETs
    are conditional, :data:`CONCURRENCY` requests in flight at most, a rate limit pauses all."""

    def __init__(
        self,
        api_url: str,
        token: str,
        retry: RetryPolicy = GITHUB_RETRY,
        etags: ETagStore | None = None,
    ) -> None:
        super().__init__(
            auth=Auth.Token(token),
            base_url=api_url.rstrip("/"),
            timeout=READ_TIMEOUT,
            user_agent="approvalflow-sync",
            per_page=PER_PAGE,
            verify=True,
            retry=None,  # the retry engine's, not urllib3's
            pool_size=CONCURRENCY,
            lazy=True,
        )
        self._origin = _origin(api_url)
        self._retry = retry
        self.limits = Limiter(retry)
        self.etags = etags or ETagStore()

    def __repr__(self) -> str:
        return f"HostBoundRequester({self.base_url!r}, <token hidden>)"

    def requestJsonAndCheck(  # noqa: N802 - PyGithub's name
        self, verb: str, url: str, *args: Any, **kwargs: Any
    ) -> tuple[dict[str, Any], Any]:
        self._refuse_other_hosts(verb, url)  # before PyGithub's own check, an ``assert``
        return super().requestJsonAndCheck(verb, url, *args, **kwargs)

    def requestJson(  # noqa: N802 - PyGithub's name
        self, verb: str, url: str, *args: Any, **kwargs: Any
    ) -> tuple[int, dict[str, Any], str]:
        """One call under the retry policy; a transient answer that outlasts it is returned."""
        self._refuse_other_hosts(verb, url)
        deadline = self._retry.deadline()
        call = retrying(self._retry, idempotent=verb in IDEMPOTENT_METHODS, deadline=deadline)
        try:
            return call(self._attempt, deadline, verb, url, *args, **kwargs)
        except TransientAnswer as last:
            if isinstance(last.answer, BaseException):
                raise last.answer from None
            answer: tuple[int, dict[str, Any], str] = last.answer  # type: ignore[assignment]
            return answer

    def _attempt(
        self,
        deadline: float,
        verb: str,
        url: str,
        parameters: dict[str, Any] | None = None,
        headers: dict[str, Any] | None = None,
        *args: Any,
        **kwargs: Any,
    ) -> tuple[int, dict[str, Any], str]:
        """One attempt: redirects refused; rate limits, 429 and 5xx raised for the retry engine."""
        request = f"{verb} {urlsplit(url).path[:200]}"
        key = self.add_parameters_to_url(url, parameters or {}) if verb == "GET" else None
        kept = self.etags.get(key) if key else None
        if kept:  # a copy: PyGithub adds the token to the dict it is given
            headers = {**(headers or {}), "If-None-Match": kept.etag}
        send = partial(super().requestJson, verb, url, parameters, headers, *args, **kwargs)
        status, answer_headers, output = answer = self._send(request, deadline, send)
        limited = self.limits.observe(status, answer_headers, output)
        if status == 304 and kept:
            return 200, {**answer_headers, **kept.headers}, kept.body
        if 300 <= status < 400 and status != 304:
            location = answer_headers.get("location", "?")[:200]
            raise _refused(request, f"a {status} redirect to {location!r}")
        # a rate limit's wait is the limiter's pause, before the next attempt
        verdict = (
            Verdict("rate limited", 0.0) if limited else status_verdict(status, answer_headers)
        )
        if verdict is not None:
            raise TransientAnswer(
                f"GitHub {request} answered {status}",
                verdict.kind,
                retry_after=verdict.retry_after,
                answer=answer,
            )
        if status == 200 and key:
            self.etags.put(key, answer_headers, output)
        return answer

    def _refuse_other_hosts(self, verb: str, url: str) -> None:
        if (url.startswith("/") and not url.startswith("//")) or _origin(url) == self._origin:
            return
        where = f"a link to {urlsplit(url).netloc[:200]!r}"
        raise _refused(f"{verb} {urlsplit(url).path[:200]}", where)

    def _send(
        self, request: str, deadline: float, send: Callable[[], tuple[int, Any, str]]
    ) -> tuple[int, dict[str, Any], str]:
        """``send()`` in a slot and by its deadline; no answer is a transient failure."""
        try:
            with self.limits.slot(request, deadline) as attempt_ends:
                return within(attempt_ends, self._retry.clock, send)
        except (requests.RequestException, TimeoutError) as exc:
            if isinstance(exc, TimeoutError):
                self.close()  # the abandoned attempt's connection then closes as it ends
            refused = isinstance(exc, requests.ConnectTimeout) or "NewConnectionError" in str(exc)
            kind = "not sent" if refused else "maybe sent"
            no_answer = f"GitHub {request}: no answer ({exc.__class__.__name__})"
            raise TransientAnswer(no_answer, kind, answer=exc) from None
        except RuntimeError as exc:  # PyGithub refusing a redirect to another host or scheme
            if "redirected" not in str(exc):
                raise
            raise _refused(request, "a redirect to another host") from None


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    default = {"https": 443, "http": 80}.get(parts.scheme.lower())
    return (parts.scheme.lower(), (parts.hostname or "").lower(), parts.port or default)


def _refused(request: str, what: str) -> GitHubError:
    return GitHubError(
        request,
        f"GitHub's answer pointed to {what}: not followed, the token goes to the API host only "
        "(check GITHUB_API_URL, or a proxy rewriting answers)",
    )


class _Raw(NonCompletableGithubObject):
    """A listed item kept as GitHub's JSON: PyGithub's own class would fetch each one again."""

    def _initAttributes(self) -> None:  # noqa: N802 - PyGithub's name
        pass

    def _useAttributes(self, attributes: dict[str, Any]) -> None:  # noqa: N802
        pass


def _comment(data: dict[str, Any]) -> Comment:
    user = data.get("user") or {}
    return Comment(
        id=data["id"],
        body=data.get("body") or "",
        author=user.get("login", ""),
        html_url=data.get("html_url", ""),
    )


class GitHubGateway:
    """Files, comments, statuses and file contents of one repository."""

    def __init__(
        self,
        api_url: str,
        token: str,
        *,
        retry: RetryPolicy = GITHUB_RETRY,
        run_ends: float | None = None,
        etag_file: Path | None = None,
    ) -> None:
        """``etag_file``: where the answers for conditional requests are kept between runs."""
        if run_ends is not None:
            retry = replace(retry, run_ends=run_ends)
        self._etag_file = etag_file
        etags = ETagStore.load(etag_file) if etag_file else None
        self._requester = HostBoundRequester(api_url, token, retry, etags)

    def __repr__(self) -> str:
        return "GitHubGateway(<token hidden>)"

    def usage(self) -> Usage:
        """The requests made so far, counted and answered 304, and what GitHub says is left."""
        return self._requester.limits.usage()

    def close(self) -> None:
        if self._etag_file:
            self._requester.etags.save(self._etag_file)
        self._requester.close()

    def _call(
        self, operation: str, verb: str, url: str, *, absent: int | None = None, **kwargs: Any
    ) -> Any:
        """GitHub's JSON answer; None when it answers ``absent``."""
        try:
            with _github_errors(operation):
                return self._requester.requestJsonAndCheck(verb, url, **kwargs)[1]
        except GitHubError as exc:
            if absent is None or exc.status != absent:
                raise
            return None

    def _list(
        self, operation: str, url: str, query: dict[str, Any] | None = None
    ) -> Iterator[dict[str, Any]]:
        """Every item of a listing, page after page, as GitHub's JSON."""
        pages: PaginatedList[_Raw] = PaginatedList(_Raw, self._requester, url, query)
        with _github_errors(operation):
            yield from (raw.raw_data for raw in pages)

    def identity(self) -> Identity:
        """The token's user; ``github-actions[bot]`` for an integration token (403). A GitHub
        App's token writes as ``<slug>[bot]``: the ``comment-author`` input names it."""
        data = self._call("read token identity", "GET", "/user", absent=403)
        return Identity(str(data.get("login")) if data is not None else ACTIONS_BOT)

    def pull_request(self, repo: str, number: int) -> PullRequest | None:
        """Pull request ``number`` as it is now (the ``pr-number`` input), or None: no such one."""
        url = f"/repos/{repo}/pulls/{number}"
        data = self._call("read pull request", "GET", url, absent=404)
        return None if data is None else _pull_request(repo, data)

    def list_files(self, pr: PullRequest) -> list[ChangedFile]:
        """Every file of the pull request, every page of them (GitHub stops at 3,000)."""
        url = f"/repos/{pr.repo}/pulls/{pr.number}/files"
        return [
            ChangedFile(f["filename"], f["status"], f.get("previous_filename") or None)
            for f in self._list("list pull request files", url)
        ]

    def pull_requests(self, repo: str, state: str, updated_since: str = "") -> list[PullRequest]:
        """The repository's pull requests in ``state``, last updated first; with
        ``updated_since`` (ISO time) the listing stops at the first older one."""
        query = {"state": state, "sort": "updated", "direction": "desc"}
        listed = self._list("list pull requests", f"/repos/{repo}/pulls", query)
        found = (_pull_request(repo, data) for data in listed)
        return list(takewhile(lambda pr: pr.updated_at >= updated_since, found))

    def list_comments(self, pr: PullRequest) -> list[Comment]:
        """Every comment of the pull request's conversation, oldest first."""
        url = f"/repos/{pr.repo}/issues/{pr.number}/comments"
        return [_comment(data) for data in self._list("list comments", url)]

    def create_comment(self, pr: PullRequest, body: str) -> Comment:
        url = f"/repos/{pr.repo}/issues/{pr.number}/comments"
        return _comment(self._call("create comment", "POST", url, input={"body": body}))

    def update_comment(self, pr: PullRequest, comment_id: int, body: str) -> Comment:
        url = f"/repos/{pr.repo}/issues/comments/{comment_id}"
        return _comment(self._call("update comment", "PATCH", url, input={"body": body}))

    def latest_status(self, pr: PullRequest, context: str, by: str | None = None) -> Status | None:
        """The newest status of ``context`` on the head commit (written by login ``by``)."""
        url = f"/repos/{pr.repo}/commits/{pr.head_sha}/statuses"
        data = self._call("read commit statuses", "GET", url, parameters={"per_page": PER_PAGE})
        for raw in data if isinstance(data, list) else []:
            creator = raw.get("creator") if isinstance(raw.get("creator"), dict) else {}
            if raw.get("context") == context and by in (None, creator.get("login")):
                return Status(
                    state=str(raw.get("state")),
                    description=str(raw.get("description") or ""),
                    target_url=raw.get("target_url"),
                )
        return None

    def set_status(
        self, pr: PullRequest, *, state: str, context: str, description: str, target_url: str | None
    ) -> None:
        """A commit status on the pull request's head commit (not the merge commit)."""
        body = {"state": state, "context": context, "description": description}
        if target_url:
            body["target_url"] = target_url
        url = f"/repos/{pr.repo}/statuses/{pr.head_sha}"
        self._call("set commit status", "POST", url, input=body)

    def read_file(self, repo: str, path: str, ref: str, *, errors: str = "strict") -> str | None:
        """A file's text at ``ref``, or None; the path is quoted: a file named ``a.md?ref=x``
        must not choose the commit read."""
        url = f"/repos/{repo}/contents/{quote(path)}"
        data = self._call("read file", "GET", url, absent=404, parameters={"ref": ref})
        content = data.get("content") if isinstance(data, dict) else None
        if not isinstance(content, str):
            return None
        return base64.b64decode(content).decode("utf-8", errors)


def _pull_request(repo: str, data: dict[str, Any]) -> PullRequest:
    """A REST answer has the shape of an event's ``pull_request``: the event's parser reads it."""
    return parse_pull_request({"pull_request": data, "repository": {"full_name": repo}})
