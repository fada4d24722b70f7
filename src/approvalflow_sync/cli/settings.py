"""Connection settings: flags first, then the environment (``os.environ``, passed in)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from approvalflow_sync.approvalflow.base_url import build_base_url, check_url
from approvalflow_sync.errors import ConfigError

ENV_PREFIX = "APPROVALFLOW_"
PARTS = ("base_url", "cloud_id", "site", "app_id", "environment_id")
TOKEN_VARIABLE = ENV_PREFIX + "TOKEN"
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


def base_url_from(args: object, env: Mapping[str, str]) -> str | None:
    """The API base URL from the flags (``args.base_url`` ...) over ``env``; None: no part given."""
    values = {
        part: getattr(args, part, None) or env.get(ENV_PREFIX + part.upper()) for part in PARTS
    }
    if not any(values.values()):
        return None
    return build_base_url(**values, name_prefix="--")


def connection_of(args: object, env: Mapping[str, str]) -> Connection:
    """The connection from the command's connection flags over the environment."""
    base_url = base_url_from(args, env) or build_base_url(name_prefix="--")  # says what to give
    token = getattr(args, "token", None) or env.get(TOKEN_VARIABLE)
    if not token or not token.strip():
        raise ConfigError(
            f"--token: not set; put the ApprovalFlow access token in {TOKEN_VARIABLE} "
            "(for the sandbox: sandbox-token)"
        )
    return Connection(base_url=base_url, token=token.strip())
