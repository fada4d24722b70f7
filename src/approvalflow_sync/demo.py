"""``approvalflow-sync demo``: a whole round against a sandbox started in this process.

It needs no Confluence site, token or network: the sandbox listens on a free loopback port and is
stopped at the end.
"""

from __future__ import annotations

from typing import TextIO

import httpx

from approvalflow_sync import terminal
from approvalflow_sync.approvalflow.client import ApprovalFlowClient
from approvalflow_sync.sandbox import DEFAULT_TOKEN, SandboxServer

SPACE = "12345"
PAGES = ["67890", "67891", "67892"]
REFERENCE = "https://github.com/acme/docs/pull/184"


def _step(out: TextIO, title: str, body: str) -> None:
    print(f"\n== {title}\n{body}", file=out)


def run(out: TextIO) -> int:
    """Create, update, preflight, submit, approve, go stale and archive one change set."""
    with (
        SandboxServer(host="127.0.0.1", port=0) as sandbox,
        httpx.Client(trust_env=False) as http,
        ApprovalFlowClient(sandbox.base_url, DEFAULT_TOKEN, http=http) as client,
    ):
        print(f"ApprovalFlow sandbox on {sandbox.base_url}", file=out)
        cs = client.create_change_set(
            SPACE, "PR-184 Auth docs update", PAGES[:2], reference_url=REFERENCE
        )
        _step(out, "change-sets create", terminal.change_set(cs))
        cs = client.update_change_set(
            cs.id, page_ids=PAGES, summary="Updated authentication pages."
        )
        _step(out, "change-sets update (a push touched one more page)", terminal.change_set(cs))
        _step(out, "change-sets preflight", terminal.preflight(client.preflight_change_set(cs.id)))
        _step(out, "change-sets submit", terminal.submit(client.submit_change_set(cs.id)))
        for page in PAGES:
            http.post(f"{sandbox.admin_url}/approve", json={"pageId": page}).raise_for_status()
        detail = client.get_change_set(cs.id)
        _step(out, "reviewers approve in Confluence", terminal.change_set(detail))
        http.post(f"{sandbox.admin_url}/edit-page", json={"pageId": PAGES[0]}).raise_for_status()
        detail = client.get_change_set(cs.id)
        _step(out, "a page is edited after approval", terminal.change_set(detail))
        client.archive_change_set(cs.id)
        _step(out, "change-sets archive", terminal.change_set_list(client.list_change_sets(SPACE)))
    return 0
