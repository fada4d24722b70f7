"""Connection settings: flags first, then the environment, validated once into a frozen object.

Nothing downstream reads the environment; the command line passes ``os.environ`` in here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from approvalflow_sync.approvalflow.base_url import build_base_url, check_url
from approvalflow_sync.errors import ConfigError

ENV_PREFIX = "APPROVALFLOW_"
PARTS = ("base_url", "cloud_id", "site", "app_id", "environment_id")
SANDBOX_VARIABLE = ENV_PREFIX + "SANDBOX"
"""The environment form of ``--sandbox URL`` (``auth``, ``plan``)."""


@dataclass(frozen=True)
class Connection:
    """Where ApprovalFlow is and the token to call it with; the token never shows in ``repr``."""

    base_url: str
    token: str = field(repr=False)


def sandbox_url(flag: str | None, env: Mapping[str, str]) -> str | None:
    """The sandbox named by ``--sandbox URL``, else by ``APPROVALFLOW_SANDBOX``; or None."""
    url = flag or env.get(SANDBOX_VARIABLE, "").strip()
    return check_url(url, "--sandbox" if flag else SANDBOX_VARIABLE) if url else None


def _env_name(part: str) -> str:
    return ENV_PREFIX + part.upper()


def base_url_from(args: object, env: Mapping[str, str]) -> str | None:
    """The API base URL from the flags (``args.base_url``, ``args.cloud_id`` ...) over ``env``.

    None when neither gives any part of it; else the parts are validated together.
    """
    values = {part: getattr(args, part, None) or env.get(_env_name(part)) for part in PARTS}
    if not any(values.values()):
        return None
    return build_base_url(
        base_url=values["base_url"],
        cloud_id=values["cloud_id"],
        site=values["site"],
        app_id=values["app_id"],
        environment_id=values["environment_id"],
        name_prefix="--",
    )


def connection_of(args: object, env: Mapping[str, str]) -> Connection:
    """The connection from the command's connection flags over the environment."""
    base_url = base_url_from(args, env) or build_base_url(name_prefix="--")  # says what to give
    token = getattr(args, "token", None) or env.get(_env_name("token"))
    if not token or not token.strip():
        raise ConfigError(
            f"--token: not set; put the ApprovalFlow access token in {_env_name('token')} "
            "(for the sandbox: sandbox-token)"
        )
    return Connection(base_url=base_url, token=token.strip())
