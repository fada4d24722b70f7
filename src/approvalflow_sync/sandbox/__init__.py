"""A local ApprovalFlow on loopback, so users and tests need no Confluence site.

It answers like the vendor's reference by default, and richer (the change set in every answer)
with ``answers="rich"``; both are served at the root and under the two documented base URL paths.
"""

from approvalflow_sync.sandbox.app import APP_ID, ENVIRONMENT_ID, Answers
from approvalflow_sync.sandbox.oauth import CLOUD_ID
from approvalflow_sync.sandbox.seed import DEFAULT_SEED, load_seed, validate_seed
from approvalflow_sync.sandbox.server import SandboxServer
from approvalflow_sync.sandbox.state import ALL_SCOPES, DEFAULT_TOKEN

__all__ = [
    "ALL_SCOPES",
    "APP_ID",
    "CLOUD_ID",
    "DEFAULT_SEED",
    "DEFAULT_TOKEN",
    "ENVIRONMENT_ID",
    "Answers",
    "SandboxServer",
    "load_seed",
    "validate_seed",
]
