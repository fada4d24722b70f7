"""Reconcile: every pull request of one repository brought to where its events would have left it.

Each gets the single run's flow that :func:`core.reconcile.step` picks, or has its approval
progress followed; none is started after the time budget, and ``resume-file`` keeps where the
next run starts.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, timezone
from pathlib import Path

from approvalflow_sync.action.file_pages import pages_for
from approvalflow_sync.action.inputs import ActionSettings, MissingCredentials
from approvalflow_sync.action.run import (
    RUN_SECONDS,
    connected,
    fail,
    github_gateway,
    workspace_mapping,
)
from approvalflow_sync.action.runner import Runner
from approvalflow_sync.action.sync import Options, Run, options_for, own_comment, recorded_ids
from approvalflow_sync.approvalflow import models
from approvalflow_sync.approvalflow.client import ApprovalFlowClient
from approvalflow_sync.atomic_file import write_atomically
from approvalflow_sync.core import markdown as md
from approvalflow_sync.core import plan as planning
from approvalflow_sync.core import report
from approvalflow_sync.core.mapping import Mapping, Matcher, compile_mapping
from approvalflow_sync.core.reconcile import NOT_SUBMITTED, Step, step
from approvalflow_sync.errors import ApprovalFlowSyncError, ConfigError, GitHubError
from approvalflow_sync.github.event import PullRequest
from approvalflow_sync.github.gateway import GitHubGateway, Identity, Status

PR_WORKERS = 4
"""Pull requests reconciled at once; each runs its own reads in the shared pool."""
GRACE_SECONDS = RUN_SECONDS / 3
"""After the time budget, the pull requests under way get this long to finish."""


class Quiet:
    """The single runs' reporter: log lines and warnings pass; each pull request's summary,
    outputs and file annotations do not (reconcile writes its own)."""

    def __init__(self, runner: Runner) -> None:
        self.runner = runner

    def info(self, message: str) -> None:
        self.runner.info(message)

    def warning(self, message: str, *, file: str | None = None, title: str | None = None) -> None:
        if file is None:
            self.runner.warning(message, title=title)

    def append_summary(self, markdown: str) -> None:
        pass

    def set_output(self, name: str, value: str) -> None:
        pass


@dataclass(frozen=True)
class Done:
    """What reconcile did to one pull request."""

    pr: PullRequest
    step: Step
    note: str = ""


class Reconcile:
    """One repository's pull requests, each given the step it needs."""

    def __init__(
        self,
        settings: ActionSettings,
        runner: Runner,
        *,
        gh: GitHubGateway,
        af: ApprovalFlowClient,
        pool: ThreadPoolExecutor,
        options: Options,
        mapping: Mapping,
        matcher: Matcher,
        spaces: Sequence[str],
    ) -> None:
        self.settings, self.runner, self.gh, self.af, self.pool = settings, runner, gh, af, pool
        self.options, self.spaces = options, sorted(set(spaces))
        self.mapping, self.matcher = mapping, matcher
        self.me = Identity(options.comment_author or "")
        self.listed: dict[str, list[models.ChangeSet]] = {}
        self.change_sets: list[models.ChangeSet] = []
        self.failed: list[tuple[PullRequest, ApprovalFlowSyncError]] = []

    def pull_requests(self) -> list[PullRequest]:
        """Open ones, and closed ones updated within ``since`` days, by number from the cursor."""
        since = datetime.now(timezone.utc) - timedelta(days=self.settings.since_days)
        repo = self.settings.reconcile_repository
        closed = self.gh.pull_requests(repo, "closed", since.strftime("%Y-%m-%dT%H:%M:%SZ"))
        prs = sorted(self.gh.pull_requests(repo, "open") + closed, key=lambda pr: pr.number)
        cursor = read_cursor(self.settings)
        return [pr for pr in prs if pr.number >= cursor] + [pr for pr in prs if pr.number < cursor]

    def run(self, prs: Sequence[PullRequest], stop_at: float) -> tuple[list[Done], int | None]:
        """Every pull request in order until ``stop_at``; what was done, and where it stopped."""
        self.listed = {space: self.af.list_change_sets(space) for space in self.spaces}
        self.change_sets = [cs for listed in self.listed.values() for cs in listed]

        def in_time(pr: PullRequest) -> tuple[bool, Done | None]:
            """Whether ``pr`` was started (the clock is read as a worker takes it), and how."""
            return (False, None) if time.monotonic() >= stop_at else (True, self.one(pr))

        with ThreadPoolExecutor(PR_WORKERS, "pr") as workers:
            results = list(workers.map(in_time, prs))
        left = [pr.number for pr, (started, _) in zip(prs, results, strict=True) if not started]
        return [done for _, done in results if done is not None], (left[0] if left else None)

    def one(self, pr: PullRequest) -> Done | None:
        """The step ``pr`` needs, taken; a failure is kept and the others go on."""
        link = planning.reference_url(pr.html_url, self.options.instance)
        try:
            linked = planning.linked_open(self.change_sets, link)
            needed = self._step(pr, linked)
            merge = self._merge_status(pr) if needed is Step.FOLLOW else None
            if merge and merge[1].state in report.FINAL_STATES:
                return None  # followed no further: not even its comments are read
            if needed not in (Step.NONE, Step.SYNC):  # only what our comment records counts
                ours = recorded_ids(self.gh.list_comments(pr), self.me, self.options)
                linked = planning.linked_open(linked, link, ours)
                needed = self._step(pr, linked)
            return self._do(pr, needed, linked, merge)
        except ApprovalFlowSyncError as error:
            self.failed.append((pr, error))
            return Done(pr, Step.NONE, "failed, see the error")

    def _step(self, pr: PullRequest, linked: list[models.ChangeSet]) -> Step:
        unsubmitted = [cs for cs in linked if cs.rollupState in NOT_SUBMITTED]
        submittable = 0
        if pr.merged and unsubmitted:
            checks = [self.af.preflight_change_set(cs.id) for cs in unsubmitted]
            submittable = sum(1 for check in checks for page in check.results if page.canSubmit)
        rollups = [cs.rollupState for cs in linked]
        return step(pr, rollups, submittable, archive_on_close=self.options.archive_on_close)

    def _do(
        self,
        pr: PullRequest,
        needed: Step,
        linked: list[models.ChangeSet],
        merge: tuple[PullRequest | None, Status] | None,
    ) -> Done | None:
        if needed is Step.NONE:
            return None
        if needed is Step.FOLLOW:
            state = self.follow(pr, linked, merge or self._merge_status(pr))
            return Done(pr, needed, state) if state else None
        single = self._single(pr)
        single.flow(needed)
        for failure in single.github_failures:
            self.failed.append((pr, failure))
        wrote = ", ".join(f"{d.action} {d.change_set_id}" for d in single.done)
        return Done(pr, needed, wrote) if wrote or needed is not Step.SYNC else None

    def follow(
        self,
        pr: PullRequest,
        linked: list[models.ChangeSet],
        merge_status: tuple[PullRequest | None, Status],
    ) -> str | None:
        """Approval progress onto the merge commit's status (read once, by the caller) and the
        sticky comment; None once the status is final: the pull request is no longer followed."""
        context = self.settings.approval_context
        merge, current = merge_status
        if current.state in report.FINAL_STATES:
            return None
        approvals = list(self.pool.map(self.approval, linked))
        state, description = report.approval_status(approvals)
        if self.options.dry_run:
            return state
        if merge and (current.state, current.description) != (state, description):
            self.gh.set_status(
                merge, state=state, context=context, description=description,
                target_url=self.options.run_url,
            )  # fmt: skip
        if self.options.comment:
            self.sticky(pr, approvals)
        return state

    def _merge_status(self, pr: PullRequest) -> tuple[PullRequest | None, Status]:
        """The merge commit, and its approval status (empty when there is none)."""
        merge = replace(pr, head_sha=pr.merge_commit_sha) if pr.merge_commit_sha else None
        current = self.gh.latest_status(merge, self.settings.approval_context) if merge else None
        return merge, current or Status("", "", None)

    def approval(self, change_set: models.ChangeSet) -> report.Approval:
        """A change set's state; with rejections, the pages rejected: never approved and
        submittable again (one still in review is blocked by its pending approval)."""
        found = report.Approval(change_set.spaceId or "", change_set.id, change_set.rollupState)
        if change_set.rollupState != "has_rejections":
            return found
        detail = self.af.get_change_set(change_set.id)
        checks = self.af.preflight_change_set(change_set.id).results
        again = {check.pageId for check in checks if check.canSubmit}
        rejected = [r.pageId for r in detail.pageRefs if r.approvedAtVersion is None]
        return replace(found, rejected=tuple(page for page in rejected if page in again))

    def sticky(self, pr: PullRequest, approvals: Sequence[report.Approval]) -> None:
        """The sticky comment with the approval section; posted if there is none."""
        instance = self.options.instance
        existing = own_comment(self.gh.list_comments(pr), self.me, report.STICKY, instance)
        section = report.approval_section(approvals, self.options.confluence_url)
        base = existing.body if existing else md.comment_marker(report.STICKY, instance)
        self._single(pr).put_sticky(report.with_approval(base, section), existing, self.me)

    def _single(self, pr: PullRequest) -> Run:
        """The single run's flows for ``pr``, reporting through :class:`Quiet`."""
        quiet = Quiet(self.runner)
        pages = pages_for(self.settings, pr, self.mapping, self.matcher, self.gh, quiet, self.pool)
        return Run(
            pr, af=self.af, gh=self.gh, reporter=quiet, options=self.options,
            spaces=self.spaces, match=pages, pool=self.pool, listed=self.listed,
        )  # fmt: skip


def read_cursor(settings: ActionSettings) -> int:
    """The pull request number a stopped run asked to start from; 0 when none."""
    path = _resume_path(settings)
    text = path.read_text(encoding="utf-8").strip() if path and path.is_file() else ""
    return int(text) if text.isdigit() else 0


def write_cursor(settings: ActionSettings, number: int | None) -> None:
    path = _resume_path(settings)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomically(path, f"{number or ''}\n")


def _resume_path(settings: ActionSettings) -> Path | None:
    name = settings.resume_file
    return settings.workspace / name if name else None


def summary(repo: str, done: Sequence[Done], total: int, stopped: int | None) -> str:
    """The job summary: what was done to which pull request, and where a stopped run resumes."""
    parts = [f"### ApprovalFlow: reconciled {md.text(repo)}"]
    if done:
        lines = [
            f"- {md.link(f'#{d.pr.number}', d.pr.html_url)} {md.text(d.pr.title)}: "
            f"{d.step.value}{': ' + md.text(d.note) if d.note else ''}"
            for d in done
        ]
        parts.append("\n".join(lines))
    else:
        parts.append(f"Nothing to do: {report.plural(total, 'pull request')} up to date.")
    if stopped is not None:
        parts.append(
            f"Stopped at the time budget; the next run resumes at pull request #{stopped}."
        )
    return "\n\n".join(parts) + "\n"


def reconcile(settings: ActionSettings, runner: Runner, *, debug: bool) -> int:
    """The reconcile run: set up as a single run, then every pull request of the repository."""
    if settings.credentials.missing:
        if settings.credentials.on_missing is MissingCredentials.SKIP:
            runner.notice("Skipped, nothing written: no ApprovalFlow credentials.")
            return 0
        raise ConfigError(
            "inputs access-token and refresh-token: both empty; pass the ApprovalFlow "
            "secrets to the reconcile step (scheduled runs get the repository's secrets)"
        )
    if not settings.reconcile_repository or not settings.github_token:
        raise ConfigError(
            "inputs repository and github-token: reconcile needs both; run it in GitHub "
            "Actions (they default to this repository and its token)"
        )
    stop_at = time.monotonic() + settings.time_budget
    run_ends = stop_at + GRACE_SECONDS
    etags = settings.workspace / settings.etag_file if settings.etag_file else None
    gh = github_gateway(settings, run_ends, etags)
    mapping = workspace_mapping(settings)  # the default branch's: no pull request's code
    login = settings.comment_author or gh.identity().login
    options = options_for(settings, mapping, login)
    with connected(settings, runner, gh, run_ends) as (af, pool):
        work = Reconcile(
            settings, runner, gh=gh, af=af, pool=pool, options=options,
            mapping=mapping, matcher=compile_mapping(mapping),
            spaces=[rule.space for rule in mapping.rules],
        )  # fmt: skip
        try:
            prs = work.pull_requests()
            done, stopped = work.run(prs, stop_at)
        except ApprovalFlowSyncError as error:
            return fail(runner, error, debug=debug)
        write_cursor(settings, stopped)
        runner.append_summary(summary(settings.reconcile_repository, done, len(prs), stopped))
    for pr, failure in work.failed:
        kind = " (the ApprovalFlow work was done)" if isinstance(failure, GitHubError) else ""
        runner.error(f"pull request #{pr.number}: {failure}{kind}", title="approvalflow-sync")
    return 1 if work.failed else 0
