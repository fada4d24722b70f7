"""The event the Actions runner hands us, parsed; its texts are carried as data, never obeyed."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from approvalflow_sync.errors import ConfigError

PR_EVENTS = ("pull_request", "pull_request_target")
SYNC_ACTIONS = ("opened", "reopened", "synchronize", "edited", "ready_for_review")
MERGE_QUEUE_REF = re.compile(r"refs/heads/gh-readonly-queue/.+/pr-([1-9][0-9]{0,9})-[0-9a-f]{40}")
"""A merge group's ``head_ref``: GitHub names it after the pull request at the group's tip."""
_SHA = re.compile(r"[0-9a-f]{40}")


@dataclass(frozen=True)
class ChangedFile:
    path: str
    status: str = "modified"
    previous_path: str | None = None


@dataclass(frozen=True)
class PullRequest:
    repo: str
    """``owner/name`` of the base repository."""
    number: int
    title: str
    body: str
    html_url: str
    head_sha: str
    head_ref: str
    head_repo: str
    base_ref: str
    base_sha: str
    merged: bool
    changed_files: int | None
    state: str = "open"
    """``open`` or ``closed``: a pull request fetched or listed has no event action to go by."""
    merge_commit_sha: str | None = None
    """Where a merged pull request landed: the approval status goes on it."""
    updated_at: str = ""
    """ISO time of the last change: listing by it newest first lets reconcile stop early."""

    @property
    def is_fork(self) -> bool:
        return self.head_repo != self.repo


@dataclass(frozen=True)
class MergeGroup:
    """A merge queue's group: its commit gets the status of the pull request at its tip."""

    head_sha: str
    number: int


@dataclass(frozen=True)
class Event:
    name: str
    action: str
    pull_request: PullRequest | None
    numbers: tuple[int, ...] = ()
    """The pull requests the event names: its own, workflow_run's list, the merge group's."""
    merge_group: MergeGroup | None = None
    run_head: tuple[str, str] | None = None
    """A ``workflow_run``'s head commit and repository: its ``pr-number`` must name them."""


def read_event(path: str | None) -> dict[str, Any]:
    if not path:
        raise ConfigError(
            "GITHUB_EVENT_PATH: not set; run inside GitHub Actions, or set it to a "
            "pull_request event payload file"
        )
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(
            f"GITHUB_EVENT_PATH: cannot read {path!r} ({exc.strerror}); point it at the "
            "event payload file"
        ) from None
    except ValueError as exc:
        raise ConfigError(
            f"GITHUB_EVENT_PATH: {path!r} is not JSON ({exc}); point it at the event payload file"
        ) from None
    if not isinstance(data, dict):
        raise ConfigError(f"GITHUB_EVENT_PATH: {path!r} holds no JSON object")
    return data


def _field(data: Any, path: str) -> Any:
    for key in path.split("."):
        if not isinstance(data, dict) or key not in data:
            raise ConfigError(
                f"event payload: field {path!r} is missing; the program needs a "
                "pull_request event payload as GitHub sends it"
            )
        data = data[key]
    return data


def _text(data: Any, path: str) -> str:
    value = _field(data, path)
    if not isinstance(value, str):
        raise ConfigError(f"event payload: field {path!r} is not text")
    return value


def _object(value: Any) -> dict[str, Any]:
    """``value`` where it is a JSON object; an optional field of another type is left out."""
    return value if isinstance(value, dict) else {}


def _optional_text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def parse_pull_request(payload: dict[str, Any]) -> PullRequest:
    pr = _field(payload, "pull_request")
    number = _field(pr, "number")
    if not isinstance(number, int) or isinstance(number, bool):
        raise ConfigError("event payload: field 'pull_request.number' is not a number")
    merged = pr.get("merged")  # a listed pull request has only ``merged_at``
    changed = pr.get("changed_files")
    return PullRequest(
        repo=_text(payload, "repository.full_name"),
        number=number,
        title=_text(pr, "title"),
        body=_optional_text(pr.get("body")),
        html_url=_text(pr, "html_url"),
        head_sha=_text(pr, "head.sha"),
        head_ref=_text(pr, "head.ref"),
        head_repo=_object(_object(pr.get("head")).get("repo")).get("full_name") or "",
        base_ref=_text(pr, "base.ref"),
        base_sha=_text(pr, "base.sha"),
        merged=merged if isinstance(merged, bool) else bool(pr.get("merged_at")),
        changed_files=changed if isinstance(changed, int) else None,
        state="closed" if pr.get("state") == "closed" else "open",
        merge_commit_sha=_optional_text(pr.get("merge_commit_sha")) or None,
        updated_at=_optional_text(pr.get("updated_at")),
    )


def parse_merge_group(payload: dict[str, Any]) -> MergeGroup:
    """The merge group of a ``checks_requested`` event; its pull request's number from its ref."""
    head_sha = _text(payload, "merge_group.head_sha")
    number = MERGE_QUEUE_REF.fullmatch(_text(payload, "merge_group.head_ref"))
    if not _SHA.fullmatch(head_sha) or number is None:
        raise ConfigError(
            "event payload: field 'merge_group' holds no merge queue commit and ref "
            "(refs/heads/gh-readonly-queue/<base>/pr-<number>-<sha>)"
        )
    return MergeGroup(head_sha=head_sha, number=int(number[1]))


def _workflow_run(name: str, action: str, payload: dict[str, Any]) -> Event:
    """The pull requests of this repository a ``workflow_run`` names (none for a fork's: the
    list also holds other repositories' whose head is a branch of this one), and its head."""
    run = _object(payload.get("workflow_run"))
    repo_id = _object(payload.get("repository")).get("id")
    listed = run.get("pull_requests")
    numbers = tuple(
        entry["number"]
        for entry in (listed if isinstance(listed, list) else [])
        if isinstance(entry, dict)
        and isinstance(entry.get("number"), int)
        and _object(_object(entry.get("base")).get("repo")).get("id") == repo_id
    )
    head_repo = _object(run.get("head_repository")).get("full_name")
    head = (_optional_text(run.get("head_sha")), _optional_text(head_repo))
    return Event(name, action, None, numbers=numbers, run_head=head)


def parse_event(name: str | None, payload: dict[str, Any]) -> Event:
    """The typed event: the pull request of the two pull-request events, the pull requests a
    ``workflow_run`` names, the group of a merge queue's ``checks_requested``."""
    if not name:
        raise ConfigError("GITHUB_EVENT_NAME: not set; run inside GitHub Actions or set it")
    action = _optional_text(payload.get("action"))
    if name in PR_EVENTS:
        pull_request = parse_pull_request(payload)
        return Event(name, action, pull_request, numbers=(pull_request.number,))
    if name == "workflow_run":
        return _workflow_run(name, action, payload)
    if name == "merge_group" and action == "checks_requested":
        group = parse_merge_group(payload)
        return Event(name, action, None, numbers=(group.number,), merge_group=group)
    return Event(name=name, action=action, pull_request=None)
