"""The OAuth scopes, and which each command needs: one table for help texts, auth init and check.

Free of imports, so ``--help`` names scopes without loading the API client.
"""

from __future__ import annotations

PRODUCT_SCOPE = "read:forge-app:confluence"
READ_CHANGE_SET = "read:change-set:custom"
WRITE_CHANGE_SET = "write:change-set:custom"
READ_APPROVAL = "read:approval:custom"
WRITE_APPROVAL = "write:approval:custom"
OFFLINE_ACCESS = "offline_access"

API_SCOPES = (PRODUCT_SCOPE, READ_CHANGE_SET, WRITE_CHANGE_SET, READ_APPROVAL, WRITE_APPROVAL)
"""Every scope ApprovalFlow's API knows: the product scope and the four custom ones."""
PAGE_SCOPES = (READ_APPROVAL, WRITE_APPROVAL)
"""Only the single-page calls (the ``pages`` commands) need these."""

COMMAND_SCOPES: dict[str, tuple[str, ...]] = {
    "run": (PRODUCT_SCOPE, READ_CHANGE_SET, WRITE_CHANGE_SET),
    "change-sets list": (PRODUCT_SCOPE, READ_CHANGE_SET),
    "change-sets show": (PRODUCT_SCOPE, READ_CHANGE_SET),
    "change-sets preflight": (PRODUCT_SCOPE, READ_CHANGE_SET),
    "change-sets create": (PRODUCT_SCOPE, WRITE_CHANGE_SET),
    "change-sets update": (PRODUCT_SCOPE, WRITE_CHANGE_SET),
    "change-sets archive": (PRODUCT_SCOPE, WRITE_CHANGE_SET),
    "change-sets submit": (PRODUCT_SCOPE, WRITE_CHANGE_SET),
    "pages preflight": (PRODUCT_SCOPE, READ_APPROVAL),
    "pages submit": (PRODUCT_SCOPE, WRITE_APPROVAL),
    "record": (PRODUCT_SCOPE, READ_CHANGE_SET, READ_APPROVAL),
}
"""The scopes each command calls with (``run`` is the GitHub Action)."""

CONSENT_SCOPES = (*COMMAND_SCOPES["run"], OFFLINE_ACCESS)
"""What ``auth init`` asks for by default: the action's scopes and a refresh token."""


def scope_help(command: str) -> str:
    """The sentence each command's ``--help`` ends with."""
    return f"Needs the OAuth scopes {', '.join(COMMAND_SCOPES[command])}."
