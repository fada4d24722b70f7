"""``approvalflow-sync demo``: a pull request's whole life against a sandbox in this process.

No site, token or network: the real sync logic runs between the sandbox and an in-memory GitHub.
"""

from __future__ import annotations

import argparse
import textwrap
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from typing import TextIO

import httpx

from approvalflow_sync.action.inputs import DEFAULT_STATUS_CONTEXT, instance_context, parse_instance
from approvalflow_sync.action.runner import Runner
from approvalflow_sync.action.sync import Options, Run
from approvalflow_sync.approvalflow.client import ApprovalFlowClient
from approvalflow_sync.core.mapping import DEFAULT_MAPPING_FILE, compile_mapping, load_mapping
from approvalflow_sync.core.plan import changed_paths
from approvalflow_sync.core.title_template import DEFAULT_TITLE_TEMPLATE
from approvalflow_sync.github.event import ChangedFile, PullRequest
from approvalflow_sync.github.gateway import ACTIONS_BOT, Comment, Identity, Status
from approvalflow_sync.sandbox import DEFAULT_TOKEN, SandboxServer

MAPPING = """\
space: "12345"
confluence-url: https://acme.atlassian.net/wiki
pages:
  - path: docs/auth/**
    page: "67890"
  - path: ["docs/api/*.md", "!docs/api/draft-*.md"]
    page: ["67891", "67892"]
  - path: docs/drafts/**
    page: "88800"            # a space with no approval workflow: blocked
    space: "99999"
  - path: handbook/onboarding.md
    page: 76540
    space: "54321"
"""

PULL_REQUEST = PullRequest(
    repo="acme/docs",
    number=184,
    title="Auth docs: token refresh flow",
    body="Documents the new refresh flow.\n\n<!-- PR template hint, stripped -->",
    html_url="https://github.com/acme/docs/pull/184",
    head_sha="5f1c0de",
    head_ref="auth-refresh",
    head_repo="acme/docs",
    base_ref="main",
    base_sha="a11ce00",
    merged=False,
    changed_files=None,
)


@dataclass
class DemoGitHub:
    """GitHub in memory: the same calls as the real gateway, kept in lists for printing."""

    files: list[ChangedFile] = field(default_factory=list)
    comments: list[Comment] = field(default_factory=list)
    statuses: list[Status] = field(default_factory=list)

    def identity(self) -> Identity:
        return Identity(login=ACTIONS_BOT)

    def list_files(self, pr: PullRequest) -> list[ChangedFile]:
        return list(self.files)

    def list_comments(self, pr: PullRequest) -> list[Comment]:
        return list(self.comments)

    def create_comment(self, pr: PullRequest, body: str) -> Comment:
        number = len(self.comments) + 1  # none is ever deleted
        comment = Comment(number, body, ACTIONS_BOT, f"{pr.html_url}#issuecomment-{number}")
        self.comments.append(comment)
        return comment

    def update_comment(self, pr: PullRequest, comment_id: int, body: str) -> Comment:
        index = next(i for i, c in enumerate(self.comments) if c.id == comment_id)
        self.comments[index] = replace(self.comments[index], body=body)
        return self.comments[index]

    def latest_status(self, pr: PullRequest, context: str) -> Status | None:
        return self.statuses[-1] if self.statuses else None

    def set_status(
        self, pr: PullRequest, *, state: str, context: str, description: str, target_url: str | None
    ) -> None:
        self.statuses.append(Status(state, description, target_url))


def _show(out: TextIO, title: str, github: DemoGitHub, shown: dict[int, str]) -> None:
    """The status and each comment, in full only when it changed since last shown."""
    status = github.statuses[-1] if github.statuses else None
    print(f"\n{'=' * 78}\n{title}\n{'=' * 78}", file=out)
    if status:
        print(f"commit status: {status.state}: {status.description}", file=out)
    for comment in github.comments:
        if shown.get(comment.id) == comment.body:
            print(f"\n--- PR comment #{comment.id}: unchanged ---", file=out)
            continue
        shown[comment.id] = comment.body
        print(f"\n--- PR comment #{comment.id} ---\n{comment.body.strip()}", file=out)


def run(args: argparse.Namespace, env: Mapping[str, str], out: TextIO) -> int:
    """Open a pull request, push more docs, merge it; print what the action posts each time."""
    instance = parse_instance(args.instance, "--instance")
    mapping = load_mapping(MAPPING, DEFAULT_MAPPING_FILE)
    matcher = compile_mapping(mapping)
    github = DemoGitHub()
    shown: dict[int, str] = {}
    options = Options(
        title_template=mapping.title_template or DEFAULT_TITLE_TEMPLATE,
        status_context=instance_context(DEFAULT_STATUS_CONTEXT, instance),
        comment=True,
        dry_run=False,
        archive_on_close=True,
        confluence_url=mapping.confluence_url,
        run_url=None,
        instance=instance,
    )
    print("The mapping (.github/approvalflow.yml):\n" + textwrap.indent(MAPPING, "  "), file=out)
    with (
        SandboxServer(host="127.0.0.1", port=0, answers="reference") as sandbox,
        httpx.Client(trust_env=False) as http,
        ApprovalFlowClient(sandbox.base_url, DEFAULT_TOKEN, http=http) as af,
        ThreadPoolExecutor(max_workers=8) as pool,
        Runner(out, {}) as runner,
    ):
        print(f"ApprovalFlow sandbox on {sandbox.base_url}", file=out)

        def step(pr: PullRequest, title: str, files: list[str], flow: str) -> None:
            github.files = [ChangedFile(path) for path in files]
            print(f"\n>>> {title}: {', '.join(files)}", file=out)
            sync = Run(
                pr,
                af=af,
                gh=github,
                reporter=runner,
                options=options,
                spaces={rule.space for rule in mapping.rules},
                match=lambda files: matcher.match(changed_paths(files)),
                pool=pool,
            )
            getattr(sync, flow)()
            _show(out, f"After: {title}", github, shown)

        opened = ["docs/auth/login.md", "docs/api/tokens.md", "docs/api/draft-v2.md"]
        step(PULL_REQUEST, "pull_request opened", opened, "sync")
        pushed = [*opened, "handbook/onboarding.md", "docs/drafts/ideas.md"]
        step(PULL_REQUEST, "pull_request synchronize (a push)", pushed, "sync")
        http.post(f"{sandbox.admin_url}/approve", json={"pageId": "67890"})
        merged = replace(PULL_REQUEST, merged=True)
        step(merged, "pull_request closed, merged", pushed, "submit")
        step(merged, "the merge event again (a rerun)", pushed, "submit")
    return 0
