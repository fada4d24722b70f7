"""The action's inputs: ``INPUT_*`` variables and the runner's ``GITHUB_*`` ones, read once.

The runner sets ``INPUT_<NAME>`` for JavaScript and Docker actions with the input's name
upper-cased and hyphens kept (``INPUT_MAPPING-FILE``); the composite step sets the same names in
``env:``, so one program serves every kind of action and can be run by hand. Everything is
validated here into one frozen :class:`ActionSettings`; nothing downstream reads the environment.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path

from approvalflow_sync.approvalflow.base_url import build_base_url, check_url
from approvalflow_sync.errors import ConfigError

SECRET_INPUTS = ("access-token", "github-token", "client-secret", "refresh-token", "secrets-token")
"""Inputs whose values are masked before anything else is printed."""


class Mode(str, Enum):
    """What the run does; ``auto`` picks from the event."""

    AUTO = "auto"
    SYNC = "sync"
    SUBMIT = "submit"
    ARCHIVE = "archive"


@dataclass(frozen=True)
class ActionSettings:
    """Every input and runner variable the program uses, validated."""

    base_url: str
    access_token: str = field(repr=False)
    github_token: str = field(repr=False)
    mapping_file: str
    mode: Mode
    status_context: str
    comment: bool
    fail_on_blocked: bool
    archive_on_close: bool
    title_template: str | None
    confluence_url: str | None
    dry_run: bool
    event_name: str
    event_path: str
    repository: str
    api_url: str
    server_url: str
    workspace: Path
    run_url: str | None


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


def parse_mode(env: Mapping[str, str]) -> Mode:
    """The ``mode`` input."""
    value = input_value(env, "mode").lower() or Mode.AUTO.value
    try:
        return Mode(value)
    except ValueError:
        choices = ", ".join(mode.value for mode in Mode)
        raise ConfigError(
            f"input mode: {input_value(env, 'mode')!r} is not a mode; use one of {choices}"
        ) from None


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


def load_settings(env: Mapping[str, str]) -> ActionSettings:
    """Every setting, validated; the first problem raises :class:`ConfigError`."""
    github_token = input_value(env, "github-token") or env.get("GITHUB_TOKEN", "").strip()
    access_token = input_value(env, "access-token")
    if not access_token:
        raise ConfigError(
            "input access-token: empty; pass the ApprovalFlow token from a secret "
            "(access-token: ${{ secrets.APPROVALFLOW_TOKEN }})"
        )
    server_url = env.get("GITHUB_SERVER_URL", "https://github.com").strip().rstrip("/")
    repository = env.get("GITHUB_REPOSITORY", "").strip()
    confluence_url = input_value(env, "confluence-url")
    return ActionSettings(
        base_url=_base_url(env),
        access_token=access_token,
        github_token=github_token,
        mapping_file=input_value(env, "mapping-file") or ".github/approvalflow.yml",
        mode=parse_mode(env),
        status_context=input_value(env, "status-context")
        if "INPUT_STATUS-CONTEXT" in env or "INPUT_STATUS_CONTEXT" in env
        else "ApprovalFlow / preflight",
        comment=parse_bool(env, "comment", True),
        fail_on_blocked=parse_bool(env, "fail-on-blocked", False),
        archive_on_close=parse_bool(env, "archive-on-close", True),
        title_template=input_value(env, "title-template") or None,
        confluence_url=check_url(confluence_url, "input confluence-url")
        if confluence_url
        else None,
        dry_run=parse_bool(env, "dry-run", False),
        event_name=env.get("GITHUB_EVENT_NAME", "").strip(),
        event_path=env.get("GITHUB_EVENT_PATH", "").strip(),
        repository=repository,
        api_url=check_url(env.get("GITHUB_API_URL", "https://api.github.com"), "GITHUB_API_URL"),
        server_url=server_url,
        workspace=Path(env.get("GITHUB_WORKSPACE", "").strip() or "."),
        run_url=_run_url(env, server_url, repository),
    )
