"""The GitHub REST calls the action makes, through PyGithub; the only module that imports it.

PyGithub throttles itself by default (0.25 s between requests, 1 s between writes) to stay clear
of GitHub's secondary rate limits, which trip on bursts of content creation. One run of the
action makes at most three writes and a handful of reads, so the throttle would only add wall
time: it is turned off, and PyGithub's own retry still waits on a 403/429 that carries
``retry-after``. That retry covers PATCH too (PyGithub leaves it out by default): editing the
sticky comment is the write most likely to meet the secondary limit, and it is idempotent.
"""

from __future__ import annotations

import base64
import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import github
from github import Auth, Github, GithubException, GithubRetry
from github.File import File
from github.IssueComment import IssueComment
from github.PaginatedList import PaginatedList
from urllib3.exceptions import MaxRetryError
from urllib3.util.retry import Retry

from approvalflow_sync.errors import GitHubError
from approvalflow_sync.github.event import ChangedFile, PullRequest

# PyGithub gives its logger a console handler at INFO when imported, which would print every
# expected refusal (GET /user answers 403 to an Actions token). Hand its records to the
# program's own logging configuration instead.
_pygithub_log = logging.getLogger("github")
_pygithub_log.handlers.clear()
_pygithub_log.setLevel(logging.NOTSET)

PER_PAGE = 100
FILES_CAP = 3000
NOT_ACCESSIBLE = "Resource not accessible by integration"
RETRIED_METHODS = Retry.DEFAULT_ALLOWED_METHODS | {"GET", "POST", "PATCH"}
"""Methods PyGithub's retry repeats on 5xx and waits on for a rate limit (it omits PATCH)."""
_TOO_MANY = re.compile(r"too many (\d{3}) error responses")


@dataclass(frozen=True)
class Comment:
    """An issue comment on the pull request's conversation."""

    id: int
    body: str
    author: str
    author_type: str
    html_url: str


@dataclass(frozen=True)
class Status:
    """The latest commit status of one context."""

    state: str
    description: str
    target_url: str | None


ACTIONS_BOT = "github-actions[bot]"
"""Who writes with the workflow's ``GITHUB_TOKEN``."""


@dataclass(frozen=True)
class Identity:
    """The login the token writes comments as: a person's, or a bot's (``name[bot]``).

    Logins are unique and no person's login can hold ``[bot]``, so a comment by another app
    or person never counts as ours, whatever marker it carries.
    """

    login: str

    def wrote(self, comment: Comment) -> bool:
        """Whether ``comment`` was written by this identity."""
        return comment.author == self.login


PERMISSIONS = {
    "list pull request files": "pull-requests: read",
    "list comments": "pull-requests: read",
    "create comment": "pull-requests: write",
    "update comment": "pull-requests: write",
    "set commit status": "statuses: write",
    "read commit statuses": "statuses: read",
    "read file": "contents: read",
}


def _explain(operation: str, error: GithubException) -> GitHubError:
    data: Any = error.data
    message = data.get("message") if isinstance(data, dict) else None
    text = str(message or "no message")
    if error.status == 403 and NOT_ACCESSIBLE in text:
        permission = PERMISSIONS.get(operation, "the matching permission")
        text += (
            f" (the token lacks {permission}: add `{permission}` under `permissions:` in the "
            "workflow; a pull request from a fork gets a read-only token)"
        )
    elif error.status == 401:
        text += " (check the github-token input)"
    elif error.status == 404 and operation == "update comment":
        text += " (the comment was deleted; the next run posts a new one)"
    return GitHubError(operation, text, status=error.status)


@contextmanager
def _github_errors(operation: str) -> Iterator[None]:
    try:
        yield
    except GithubException as exc:
        raise _explain(operation, exc) from None
    except OSError as exc:
        raise _no_answer(operation, exc) from None


def _no_answer(operation: str, error: OSError) -> GitHubError:
    """A transport failure, or GitHub answering 5xx on every attempt (PyGithub retried)."""
    reason = error.args[0] if error.args else None
    if isinstance(reason, MaxRetryError):
        found = _TOO_MANY.search(str(reason.reason))
        if found:
            return GitHubError(
                operation,
                "failed on every attempt; GitHub is having trouble: run the job again later "
                "(https://www.githubstatus.com)",
                status=int(found.group(1)),
            )
    return GitHubError(
        operation, f"no answer ({error.__class__.__name__}); run the job again later"
    )


def _comment(raw: IssueComment) -> Comment:
    return Comment(
        id=raw.id,
        body=raw.body or "",
        author=raw.user.login if raw.user else "",
        author_type=raw.user.type if raw.user else "",
        html_url=raw.html_url,
    )


class GitHubGateway:
    """Files, comments, statuses and file contents of one repository."""

    def __init__(self, api_url: str, token: str, *, retry_wait: float = 60.0) -> None:
        self._github = Github(
            auth=Auth.Token(token),
            base_url=api_url.rstrip("/"),
            per_page=PER_PAGE,
            seconds_between_requests=0,
            seconds_between_writes=0,
            retry=GithubRetry(
                total=4,
                max_rate_limit_wait=retry_wait,
                secondary_rate_wait=5,
                allowed_methods=RETRIED_METHODS,
            ),
            lazy=True,
        )
        self._requester = self._github.requester

    def __repr__(self) -> str:
        return "GitHubGateway(<token hidden>)"

    def close(self) -> None:
        """Close the connection pool."""
        self._github.close()

    def identity(self) -> Identity:
        """The token's user; for an integration token (no user: 403), ``github-actions[bot]``.

        A GitHub App's installation token has no user either and writes as ``<slug>[bot]``:
        the ``comment-author`` input names it (see the README), as ``GET /app`` needs the app's
        own key.
        """
        try:
            _headers, data = self._requester.requestJsonAndCheck("GET", "/user")
        except GithubException as exc:
            if exc.status == 403:
                return Identity(ACTIONS_BOT)
            raise _explain("read token identity", exc) from None
        return Identity(str(data.get("login")))

    def list_files(self, pr: PullRequest) -> list[ChangedFile]:
        """Every file of the pull request, every page of them (GitHub stops at 3,000)."""
        pages: PaginatedList[File] = PaginatedList(
            github.File.File, self._requester, f"/repos/{pr.repo}/pulls/{pr.number}/files", None
        )
        with _github_errors("list pull request files"):
            return [
                ChangedFile(
                    path=f.filename, status=f.status, previous_path=f.previous_filename or None
                )
                for f in pages
            ]

    def list_comments(self, pr: PullRequest) -> list[Comment]:
        """Every comment of the pull request's conversation, oldest first."""
        pages: PaginatedList[IssueComment] = PaginatedList(
            github.IssueComment.IssueComment,
            self._requester,
            f"/repos/{pr.repo}/issues/{pr.number}/comments",
            None,
        )
        with _github_errors("list comments"):
            return [_comment(raw) for raw in pages]

    def create_comment(self, pr: PullRequest, body: str) -> Comment:
        """Post a new comment on the pull request."""
        with _github_errors("create comment"):
            headers, data = self._requester.requestJsonAndCheck(
                "POST", f"/repos/{pr.repo}/issues/{pr.number}/comments", input={"body": body}
            )
        return _comment(github.IssueComment.IssueComment(self._requester, headers, data))

    def update_comment(self, pr: PullRequest, comment_id: int, body: str) -> Comment:
        """Replace a comment's body."""
        with _github_errors("update comment"):
            headers, data = self._requester.requestJsonAndCheck(
                "PATCH", f"/repos/{pr.repo}/issues/comments/{comment_id}", input={"body": body}
            )
        return _comment(github.IssueComment.IssueComment(self._requester, headers, data))

    def latest_status(self, pr: PullRequest, context: str) -> Status | None:
        """The newest status of ``context`` on the head commit, to skip rewriting it."""
        with _github_errors("read commit statuses"):
            _headers, data = self._requester.requestJsonAndCheck(
                "GET",
                f"/repos/{pr.repo}/commits/{pr.head_sha}/statuses",
                parameters={"per_page": PER_PAGE},
            )
        for raw in data if isinstance(data, list) else []:
            if raw.get("context") == context:
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
        with _github_errors("set commit status"):
            self._requester.requestJsonAndCheck(
                "POST", f"/repos/{pr.repo}/statuses/{pr.head_sha}", input=body
            )

    def read_file(self, repo: str, path: str, ref: str) -> str | None:
        """A file's text at ``ref`` (the base commit under pull_request_target), or None."""
        try:
            _headers, data = self._requester.requestJsonAndCheck(
                "GET", f"/repos/{repo}/contents/{path}", parameters={"ref": ref}
            )
        except GithubException as exc:
            if exc.status == 404:
                return None
            raise _explain("read file", exc) from None
        content = data.get("content") if isinstance(data, dict) else None
        if not isinstance(content, str):
            return None
        return base64.b64decode(content).decode("utf-8")
