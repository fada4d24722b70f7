"""A local ApprovalFlow on loopback, so users and tests need no Confluence site.

Standard library only (and PyYAML for seed files, loaded when one is read): it must start fast and
stay off the action's path, so it imports neither httpx nor pydantic.
"""

from approvalflow_sync.sandbox.seed import DEFAULT_SEED, load_seed, validate_seed
from approvalflow_sync.sandbox.server import SandboxServer
from approvalflow_sync.sandbox.state import ALL_SCOPES, DEFAULT_TOKEN

__all__ = [
    "ALL_SCOPES",
    "DEFAULT_SEED",
    "DEFAULT_TOKEN",
    "SandboxServer",
    "load_seed",
    "validate_seed",
]
