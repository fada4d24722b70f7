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
    value = data
    for key in path.split("."):
        if not isinstance(value, dict) or key not in value:
            raise ConfigError(
                f"event payload: field {path!r} is missing; the program needs a "
                "pull_request event payload as GitHub sends it"
            )
        value = value[key]
    return value


def _text(data: Any, path: str) -> str:
    value = _field(data, path)
    if not isinstance(value, str):
        raise ConfigError(f"event payload: field {path!r} is not text")
    return value


def parse_pull_request(payload: dict[str, Any]) -> PullRequest:
    pr = _field(payload, "pull_request")
    number = _field(pr, "number")
    if not isinstance(number, int) or isinstance(number, bool):
        raise ConfigError("event payload: field 'pull_request.number' is not a number")
    head_repo = pr.get("head", {}).get("repo") or {}
    changed = pr.get("changed_files")
    return PullRequest(
        repo=_text(payload, "repository.full_name"),
        number=number,
        title=_text(pr, "title"),
        body=pr.get("body") if isinstance(pr.get("body"), str) else "",
        html_url=_text(pr, "html_url"),
        head_sha=_text(pr, "head.sha"),
        head_ref=_text(pr, "head.ref"),
        head_repo=head_repo.get("full_name") or "",
        base_ref=_text(pr, "base.ref"),
        base_sha=_text(pr, "base.sha"),
        merged=_merged(pr),
        changed_files=changed if isinstance(changed, int) else None,
        state="closed" if pr.get("state") == "closed" else "open",
        merge_commit_sha=_optional_text(pr, "merge_commit_sha"),
        updated_at=_optional_text(pr, "updated_at") or "",
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


def _workflow_run_numbers(payload: dict[str, Any]) -> tuple[int, ...]:
    """The numbers in ``workflow_run.pull_requests`` of this repository (empty for forks).

    The list also holds other repositories' pull requests whose head is a branch of this one.
    """
    run = payload.get("workflow_run")
    listed = run.get("pull_requests") if isinstance(run, dict) else None
    repo_id = (payload.get("repository") or {}).get("id")
    return tuple(
        entry["number"]
        for entry in (listed if isinstance(listed, list) else [])
        if isinstance(entry, dict)
        and isinstance(entry.get("number"), int)
        and ((entry.get("base") or {}).get("repo") or {}).get("id") == repo_id
    )


def _merged(pr: dict[str, Any]) -> bool:
    """``merged`` where the answer has it; a listed pull request has only ``merged_at``."""
    merged = pr.get("merged")
    return merged if isinstance(merged, bool) else bool(pr.get("merged_at"))


def _optional_text(data: dict[str, Any], key: str) -> str | None:
    value = data.get(key)
    return value if isinstance(value, str) and value else None


def _run_head(payload: dict[str, Any]) -> tuple[str, str]:
    """``workflow_run.head_sha`` and ``head_repository.full_name`` ("" where missing)."""
    run = payload.get("workflow_run")
    run = run if isinstance(run, dict) else {}
    repo = run.get("head_repository")
    name = repo.get("full_name") if isinstance(repo, dict) else None
    sha = run.get("head_sha")
    return (sha if isinstance(sha, str) else "", name if isinstance(name, str) else "")


def parse_event(name: str | None, payload: dict[str, Any]) -> Event:
    """The typed event: the pull request of the two pull-request events, the pull requests a
    ``workflow_run`` names, the group of a merge queue's ``checks_requested``."""
    if not name:
        raise ConfigError("GITHUB_EVENT_NAME: not set; run inside GitHub Actions or set it")
    action = payload.get("action")
    action = action if isinstance(action, str) else ""
    if name in PR_EVENTS:
        pull_request = parse_pull_request(payload)
        return Event(name, action, pull_request, numbers=(pull_request.number,))
    if name == "workflow_run":
        numbers = _workflow_run_numbers(payload)
        return Event(name, action, None, numbers=numbers, run_head=_run_head(payload))
    if name == "merge_group" and action == "checks_requested":
        group = parse_merge_group(payload)
        return Event(name, action, None, numbers=(group.number,), merge_group=group)
    return Event(name=name, action=action, pull_request=None)
