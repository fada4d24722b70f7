"""The action's inputs: ``INPUT_*`` variables and the runner's ``GITHUB_*`` ones, read once.

``INPUT_MAPPING-FILE`` as the runner names it, or as the composite step's ``env:`` does; all is
validated here into one frozen :class:`ActionSettings`: nothing downstream reads the environment.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import TypeVar

from approvalflow_sync.approvalflow.base_url import DEFAULT_TOKEN_URL, build_base_url, check_url
from approvalflow_sync.core.mapping.model import DEFAULT_MAPPING_FILE
from approvalflow_sync.core.title_template import template_problem
from approvalflow_sync.errors import ConfigError

DEFAULT_STATUS_CONTEXT = "ApprovalFlow / preflight"
DEFAULT_APPROVAL_CONTEXT = "ApprovalFlow / approval"
DEFAULT_SINCE_DAYS = 14
DEFAULT_TIME_BUDGET_MINUTES = 50
DEFAULT_GITHUB_API_URL = "https://api.github.com"

_LOGIN = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})(?:\[bot\])?")
_INSTANCE = re.compile(r"[a-z0-9][a-z0-9_-]{0,31}")
_PR_NUMBER = re.compile(r"[1-9][0-9]{0,9}")

E = TypeVar("E", bound=Enum)

SECRET_INPUTS = ("access-token", "github-token", "client-secret", "refresh-token", "secrets-token")
"""Inputs whose values are masked before anything else is printed."""


class Mode(str, Enum):
    """What the run does; ``auto`` picks from the event."""

    AUTO = "auto"
    SYNC = "sync"
    SUBMIT = "submit"
    ARCHIVE = "archive"
    RECONCILE = "reconcile"


class MissingCredentials(str, Enum):
    """What to do when no ApprovalFlow credentials reach the job; ``auto`` skips only where
    GitHub withholds secrets (a fork's pull request, a Dependabot run)."""

    AUTO = "auto"
    SKIP = "skip"
    FAIL = "fail"


@dataclass(frozen=True)
class Credentials:
    """An access token as is, or a refresh token to exchange (and hand on when it rotates)."""

    access_token: str = field(repr=False)
    client_id: str
    client_secret: str = field(repr=False)
    refresh_token: str = field(repr=False)
    token_url: str
    refresh_token_secret: str
    """Where to write the rotated refresh token: ``NAME``, ``env:ENV/NAME`` or ``org:ORG/NAME``."""
    secrets_token: str = field(repr=False)
    on_missing: MissingCredentials

    @property
    def missing(self) -> bool:
        """No token of either kind reached the job."""
        return not self.access_token and not self.refresh_token


@dataclass(frozen=True)
class ActionSettings:
    """Every input and runner variable the program uses, validated."""

    base_url: str
    credentials: Credentials
    github_token: str = field(repr=False)
    mapping_file: str
    mode: Mode
    instance: str
    """Empty, or the name that keeps this configuration's comments, status and change sets apart."""
    pr_number: int | None
    """The pull request to act on when the event carries none (workflow_run, workflow_dispatch)."""
    status_context: str
    comment: bool
    fail_on_blocked: bool
    archive_on_close: bool
    title_template: str | None
    comment_author: str | None
    confluence_url: str | None
    dry_run: bool
    page_ids_from_files: bool
    event_name: str
    event_path: str
    actor: str
    """Who started the run (``GITHUB_ACTOR``): Dependabot's runs get Dependabot secrets only."""
    repository: str
    api_url: str
    workspace: Path
    run_url: str | None
    approval_context: str = DEFAULT_APPROVAL_CONTEXT
    since_days: int = DEFAULT_SINCE_DAYS
    """Reconcile: how far back merged pull requests are submitted and followed."""
    time_budget: float = DEFAULT_TIME_BUDGET_MINUTES * 60.0
    """Reconcile: seconds after which it starts no further pull request."""
    reconcile_repository: str = ""
    """Reconcile: ``owner/name`` of the repository reconciled (a matrix job's), else this one."""
    resume_file: str | None = None
    """Reconcile: where the pull request to start from next time is kept (a cache restores it)."""
    etag_file: str | None = None
    """Reconcile: where GitHub's answers are kept for conditional requests (a cache restores it)."""


def input_value(env: Mapping[str, str], name: str) -> str:
    """An input's value, stripped; ``INPUT_MAPPING-FILE`` or ``INPUT_MAPPING_FILE``."""
    upper = name.upper()
    value = env.get(f"INPUT_{upper}")
    if value is None:
        value = env.get(f"INPUT_{upper.replace('-', '_')}", "")
    return value.strip()


def parse_bool(env: Mapping[str, str], name: str, default: bool) -> bool:
    """A boolean input: ``true`` or ``false`` (any case), empty for the default."""
    value = input_value(env, name).lower()
    if not value:
        return default
    if value in ("true", "false"):
        return value == "true"
    raise ConfigError(
        f"input {name}: {input_value(env, name)!r} is not a boolean; use true or false"
    )


def parse_choice(env: Mapping[str, str], name: str, choices: type[E], fix: str) -> E:
    """An input naming one of ``choices`` (any case); empty for the first."""
    value = input_value(env, name)
    try:
        return choices(value.lower() or next(iter(choices)).value)
    except ValueError:
        raise ConfigError(f"input {name}: {value!r} is not {fix}") from None


def parse_count(env: Mapping[str, str], name: str, default: int) -> int:
    """A whole number input of at least 1, empty for the default."""
    value = input_value(env, name) or str(default)
    if not value.isdigit() or int(value) < 1:
        raise ConfigError(f"input {name}: {value!r} is not a whole number of at least 1")
    return int(value)


def _run_url(env: Mapping[str, str], server_url: str, repository: str) -> str | None:
    run_id = env.get("GITHUB_RUN_ID", "").strip()
    if not run_id.isdigit() or not repository:
        return None
    return f"{server_url}/{repository}/actions/runs/{run_id}"


def _base_url(env: Mapping[str, str]) -> str:
    return build_base_url(
        base_url=input_value(env, "base-url") or None,
        cloud_id=input_value(env, "cloud-id") or None,
        site=input_value(env, "site") or None,
        app_id=input_value(env, "app-id") or None,
        environment_id=input_value(env, "environment-id") or None,
        name_prefix="input ",
    )


def checked(value: str, name: str, pattern: re.Pattern[str], fix: str) -> str:
    """``value`` when empty or matching ``pattern``; else an error naming ``name`` and ``fix``."""
    if value and not pattern.fullmatch(value):
        raise ConfigError(f"{name}: {value[:40]!r} is not {fix}")
    return value


def parse_instance(value: str, name: str = "input instance") -> str:
    """An instance name (``name`` says where it came from), or empty: none."""
    fix = (
        "an instance name; use up to 32 lower-case letters, digits, '-' or '_', starting with a "
        "letter or digit, such as handbook"
    )
    return checked(value, name, _INSTANCE, fix)


def instance_context(base: str, instance: str) -> str:
    """A default status context made the instance's own: ``ApprovalFlow / preflight (NAME)``."""
    return f"{base} ({instance})" if instance and base else base


def _status_context(env: Mapping[str, str], instance: str) -> str:
    """The ``status-context`` input; empty turns the status off. The default (which the
    composite step passes whenever the workflow sets none) gets the instance's name."""
    given = "INPUT_STATUS-CONTEXT" in env or "INPUT_STATUS_CONTEXT" in env
    context = input_value(env, "status-context") if given else DEFAULT_STATUS_CONTEXT
    return instance_context(context, instance) if context == DEFAULT_STATUS_CONTEXT else context


def parse_pr_number(env: Mapping[str, str]) -> int | None:
    """The ``pr-number`` input (under workflow_run, an artifact's data): a number, or None."""
    fix = "a pull request number; pass the number alone, such as 123"
    value = checked(input_value(env, "pr-number"), "input pr-number", _PR_NUMBER, fix)
    return int(value) if value else None


def parse_title_template(env: Mapping[str, str]) -> str | None:
    """The ``title-template`` input, checked (see :mod:`title_template`); None when not given."""
    template = input_value(env, "title-template")
    problem = template_problem(template) if template else None
    if problem:
        raise ConfigError(f"input {problem}")
    return template or None


def parse_comment_author(env: Mapping[str, str]) -> str | None:
    """The ``comment-author`` input: a GitHub login, ``name[bot]`` for an app; None if not given."""
    fix = (
        "a GitHub login; give the login that writes the comments, such as my-app[bot] for a "
        "GitHub App's token"
    )
    return checked(input_value(env, "comment-author"), "input comment-author", _LOGIN, fix) or None


def load_credentials(env: Mapping[str, str]) -> Credentials:
    """The ApprovalFlow credentials; conflicting or half-given ones are configuration errors."""
    fix = "a choice; use auto, skip or fail"
    on_missing = parse_choice(env, "on-missing-credentials", MissingCredentials, fix)
    credentials = Credentials(
        access_token=input_value(env, "access-token"),
        client_id=input_value(env, "client-id"),
        client_secret=input_value(env, "client-secret"),
        refresh_token=input_value(env, "refresh-token"),
        token_url=check_url(input_value(env, "token-url") or DEFAULT_TOKEN_URL, "input token-url"),
        refresh_token_secret=input_value(env, "refresh-token-secret"),
        secrets_token=input_value(env, "secrets-token"),
        on_missing=on_missing,
    )
    if credentials.access_token and credentials.refresh_token:
        raise ConfigError(
            "inputs access-token and refresh-token: both given; give one: an access token "
            "(lives one hour) or a refresh token with client-id and client-secret"
        )
    if credentials.refresh_token:
        missing = [n for n in ("client-id", "client-secret") if not input_value(env, n)]
        if missing:
            raise ConfigError(
                f"input {' and '.join(missing)}: needed to exchange the refresh token; pass the "
                "OAuth app's client id and secret (developer console > your app > Settings)"
            )
    if credentials.refresh_token_secret and not credentials.secrets_token:
        raise ConfigError(
            "input secrets-token: needed to write the rotated refresh token into "
            f"{credentials.refresh_token_secret!r}; the workflow's GITHUB_TOKEN cannot write "
            "secrets: pass a fine-grained token with 'Secrets: Read and write' on this repository "
            "(or a GitHub App token that may write secrets)"
        )
    return credentials


def load_settings(env: Mapping[str, str]) -> ActionSettings:
    """Every setting, validated; the first problem raises :class:`ConfigError`."""
    github_token = input_value(env, "github-token") or env.get("GITHUB_TOKEN", "").strip()
    server_url = env.get("GITHUB_SERVER_URL", "https://github.com").strip().rstrip("/")
    repository = env.get("GITHUB_REPOSITORY", "").strip()
    confluence_url = input_value(env, "confluence-url")
    instance = parse_instance(input_value(env, "instance"))
    return ActionSettings(
        base_url=_base_url(env),
        credentials=load_credentials(env),
        github_token=github_token,
        mapping_file=input_value(env, "mapping-file") or DEFAULT_MAPPING_FILE,
        mode=parse_choice(
            env, "mode", Mode, f"a mode; use one of {', '.join(m.value for m in Mode)}"
        ),
        instance=instance,
        status_context=_status_context(env, instance),
        pr_number=parse_pr_number(env),
        comment=parse_bool(env, "comment", True),
        fail_on_blocked=parse_bool(env, "fail-on-blocked", False),
        archive_on_close=parse_bool(env, "archive-on-close", True),
        title_template=parse_title_template(env),
        comment_author=parse_comment_author(env),
        confluence_url=check_url(confluence_url, "input confluence-url")
        if confluence_url
        else None,
        dry_run=parse_bool(env, "dry-run", False),
        page_ids_from_files=parse_bool(env, "page-ids-from-files", True),
        event_name=env.get("GITHUB_EVENT_NAME", "").strip(),
        event_path=env.get("GITHUB_EVENT_PATH", "").strip(),
        actor=env.get("GITHUB_ACTOR", "").strip(),
        repository=repository,
        api_url=check_url(env.get("GITHUB_API_URL", DEFAULT_GITHUB_API_URL), "GITHUB_API_URL"),
        workspace=Path(env.get("GITHUB_WORKSPACE", "").strip() or "."),
        run_url=_run_url(env, server_url, repository),
        approval_context=input_value(env, "approval-status-context")
        or instance_context(DEFAULT_APPROVAL_CONTEXT, instance),
        since_days=parse_count(env, "since", DEFAULT_SINCE_DAYS),
        time_budget=parse_count(env, "time-budget", DEFAULT_TIME_BUDGET_MINUTES) * 60.0,
        reconcile_repository=input_value(env, "repository") or repository,
        resume_file=input_value(env, "resume-file") or None,
        etag_file=input_value(env, "etag-file") or None,
    )
