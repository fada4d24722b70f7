"""The event the Actions runner hands us, parsed; its texts are carried as data, never obeyed."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from approvalflow_sync.errors import ConfigError

PR_EVENTS = ("pull_request", "pull_request_target")
SYNC_ACTIONS = ("opened", "reopened", "synchronize", "edited", "ready_for_review")


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
    """``open`` or ``closed``; a listed pull request says it, an event's action does too."""
    merge_commit_sha: str | None = None
    """Where a merged pull request landed: the approval status goes on it."""
    updated_at: str = ""
    """ISO time of the last change: listing by it newest first lets reconcile stop early."""

    @property
    def is_fork(self) -> bool:
        return self.head_repo != self.repo


@dataclass(frozen=True)
class Event:
    name: str
    action: str
    pull_request: PullRequest | None


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
        merged=pr.get("merged") is True or bool(pr.get("merged_at")),  # a listed PR: merged_at
        changed_files=changed if isinstance(changed, int) else None,
        state=pr.get("state") if isinstance(pr.get("state"), str) else "open",
        merge_commit_sha=_optional_text(pr, "merge_commit_sha"),
        updated_at=_optional_text(pr, "updated_at") or "",
    )


def _optional_text(data: dict[str, Any], key: str) -> str | None:
    value = data.get(key)
    return value if isinstance(value, str) and value else None


def parse_event(name: str | None, payload: dict[str, Any]) -> Event:
    """The typed event; a pull request is parsed only for the two pull-request events."""
    if not name:
        raise ConfigError("GITHUB_EVENT_NAME: not set; run inside GitHub Actions or set it")
    action = payload.get("action")
    action = action if isinstance(action, str) else ""
    pull_request = parse_pull_request(payload) if name in PR_EVENTS else None
    return Event(name=name, action=action, pull_request=pull_request)
