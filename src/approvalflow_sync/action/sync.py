"""Gather, plan, apply, report: one pull request's run against ApprovalFlow and GitHub.

Independent requests run at once in the shared pool, and each is waited for before an error
leaves the run. Spaces get a pool of their own: their tasks wait on the shared one.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import KW_ONLY, dataclass, field, replace
from typing import TYPE_CHECKING, Any, Protocol

from approvalflow_sync.action.file_pages import Reporter
from approvalflow_sync.approvalflow import models
from approvalflow_sync.approvalflow.client import ApprovalFlowClient
from approvalflow_sync.core import markdown as md
from approvalflow_sync.core import plan as planning
from approvalflow_sync.core import report
from approvalflow_sync.core.mapping import MatchResult, PageKey
from approvalflow_sync.core.plan import SpacePlan
from approvalflow_sync.core.report import Done, Kind, Outcome, PageRow, SpaceOutcome
from approvalflow_sync.core.title_template import DEFAULT_TITLE_TEMPLATE
from approvalflow_sync.errors import (
    APIConnectionError,
    ApprovalFlowSyncError,
    BadRequestError,
    GitHubError,
)
from approvalflow_sync.github.event import ChangedFile, PullRequest
from approvalflow_sync.github.gateway import Comment, Identity, Status
from approvalflow_sync.github.git_files import needs_git_fallback

if TYPE_CHECKING:
    from approvalflow_sync.action.inputs import ActionSettings
    from approvalflow_sync.core.mapping import Mapping as MappingFile

_COUNT = re.compile(r"[0-9]{1,9}")

SPACE_WORKERS = 16


class GitHub(Protocol):
    def identity(self) -> Identity: ...
    def list_files(self, pr: PullRequest) -> list[ChangedFile]: ...
    def list_comments(self, pr: PullRequest) -> list[Comment]: ...
    def create_comment(self, pr: PullRequest, body: str) -> Comment: ...
    def update_comment(self, pr: PullRequest, comment_id: int, body: str) -> Comment: ...
    def latest_status(self, pr: PullRequest, context: str) -> Status | None: ...
    def set_status(
        self, pr: PullRequest, *, state: str, context: str, description: str, target_url: str | None
    ) -> None: ...


class Report(Reporter, Protocol):
    def info(self, message: str) -> None: ...
    def set_output(self, name: str, value: str) -> None: ...


@dataclass(frozen=True)
class Options:
    title_template: str
    status_context: str
    comment: bool
    dry_run: bool
    archive_on_close: bool
    confluence_url: str | None
    run_url: str | None
    comment_author: str | None = None  # our comments' login, when the token cannot tell
    instance: str = ""  # names this configuration's comments and change sets apart


def options_for(
    settings: ActionSettings, mapping: MappingFile | None, comment_author: str | None
) -> Options:
    """The options of a run (single or reconcile): the inputs first, then the mapping file."""
    return Options(
        title_template=settings.title_template
        or (mapping.title_template if mapping else DEFAULT_TITLE_TEMPLATE),
        status_context=settings.status_context,
        comment=settings.comment,
        dry_run=settings.dry_run,
        archive_on_close=settings.archive_on_close,
        confluence_url=settings.confluence_url or (mapping.confluence_url if mapping else None),
        run_url=settings.run_url,
        comment_author=comment_author,
        instance=settings.instance,
    )


@dataclass(frozen=True)
class Gathered:
    comments: list[Comment]
    identity: Identity
    change_sets: dict[str, list[models.ChangeSet]]
    status: Status | None
    match: MatchResult
    ours: frozenset[str] | None = None
    """The change sets our sticky comment records (see ``plan.recorded``)."""

    def own(self, kind: str, instance: str) -> Comment | None:
        return own_comment(self.comments, self.identity, kind, instance)


def own_comment(
    comments: Iterable[Comment], me: Identity, kind: str, instance: str
) -> Comment | None:
    """Our comment of ``kind``: marker first, written by ``me``, oldest."""
    return next(
        (c for c in comments if me.wrote(c) and md.has_marker(c.body, kind, instance)), None
    )


def recorded_ids(
    comments: Iterable[Comment], me: Identity, options: Options
) -> frozenset[str] | None:
    """The change sets our sticky comment records. Without comments there is nowhere to
    record: the link decides, as before. If the comment write fails after a create, the next
    run names that change set as not ours and creates another (accepted: rare, and visible)."""
    if not options.comment:
        return None
    sticky = own_comment(comments, me, report.STICKY, options.instance)
    data = md.extract_json(sticky.body, report.OURS, options.instance) if sticky else None
    return planning.recorded(data, has_sticky=sticky is not None)


@dataclass
class Run:
    """One pull request's flows; the clients, the reporter and the pool are passed in."""

    pr: PullRequest
    _: KW_ONLY
    af: ApprovalFlowClient
    gh: GitHub
    reporter: Report
    options: Options
    spaces: Iterable[str]
    match: Callable[[list[ChangedFile]], MatchResult]
    pool: ThreadPoolExecutor
    files_from_git: Callable[[PullRequest], list[ChangedFile]] | None = None  # past 3,000 files
    listed: Mapping[str, list[models.ChangeSet]] = field(default_factory=dict)  # read by reconcile
    github_failures: list[GitHubError] = field(default_factory=list, init=False)
    done: list[Done] = field(default_factory=list, init=False)  # every write, for a stopped run

    def __post_init__(self) -> None:
        self.spaces = sorted(set(self.spaces))

    def gather(self) -> Gathered:
        """The reads that depend on nothing: files, comments, identity, change sets, status."""
        pr = self.pr
        file_list = self.pool.submit(self.gh.list_files, pr)
        comments = self.pool.submit(self.gh.list_comments, pr)
        identity = self.pool.submit(self._identity)
        unread = [s for s in self.spaces if s not in self.listed]
        change_sets = {s: self.pool.submit(self.af.list_change_sets, s) for s in unread}
        context = self.options.status_context
        status = self.pool.submit(self.gh.latest_status, pr, context) if context else None
        pending: list[Future[Any] | None] = [file_list, comments, identity, status]
        wait([future for future in [*pending, *change_sets.values()] if future is not None])
        match = self.match(self._all_files(file_list.result()))
        listed = {s: self.listed[s] for s in self.spaces if s in self.listed}
        listed |= {space: found.result() for space, found in change_sets.items()}
        # spaces only a file names: their change sets too
        more = {s: self.pool.submit(self.af.list_change_sets, s)
                for s in match.pages_by_space if s not in listed}  # fmt: skip
        wait(more.values())
        listed |= {space: found.result() for space, found in more.items()}
        gathered = Gathered(
            comments=comments.result(),
            identity=identity.result(),
            change_sets=listed,
            status=status.result() if status else None,
            match=match,
        )
        return replace(gathered, ours=self._ours(gathered))

    def _ours(self, gathered: Gathered) -> frozenset[str] | None:
        """The recorded ids; each linked change set someone else made is named, left alone."""
        ours = recorded_ids(gathered.comments, gathered.identity, self.options)
        link = self._fields().reference_url
        for space, found in sorted(gathered.change_sets.items()):
            for stranger in planning.strangers(found, link, ours):
                message = (
                    f"Change set {stranger} of space {space} links to this pull request but was "
                    "not made by this action (its comment does not record it): left alone; "
                    "check who made it"
                )
                self.reporter.warning(message, title="ApprovalFlow change set not ours")
                self.reporter.append_summary(
                    f"- Change set {md.code(stranger)} of space {md.code(space)} links to this "
                    "pull request but was not made by this action: left alone.\n"
                )
        return ours

    def _fields(self) -> planning.Fields:
        return planning.desired_fields(self.pr, self.options.title_template, self.options.instance)

    def _identity(self) -> Identity:
        named = self.options.comment_author
        return Identity(named) if named else self.gh.identity()

    def _all_files(self, listed: list[ChangedFile]) -> list[ChangedFile]:
        """GitHub's list, or the checkout's own diff when the list was cut at 3,000 files."""
        if not needs_git_fallback(len(listed), self.pr.changed_files):
            return listed
        if self.files_from_git is None:
            raise ApprovalFlowSyncError(
                f"GitHub lists only {len(listed)} of the pull request's {self.pr.changed_files} "
                "files and no checkout was given to read the rest from"
            )
        self.reporter.info(
            f"GitHub lists {len(listed)} of {self.pr.changed_files} files; reading them all "
            "from the checkout's history (git diff)."
        )
        return self.files_from_git(self.pr)

    def _create(self, plan: SpacePlan, fields: planning.Fields) -> models.ChangeSet:
        created = None
        try:
            created = self.af.create_change_set(
                plan.space,
                fields.title,
                list(plan.pages),
                summary=fields.summary,
                reference_url=fields.reference_url,
            )
        except APIConnectionError as error:
            if not error.maybe_applied:
                raise
        keep = self._settle_duplicates(plan, fields, created)
        self.done.append(Done(plan.space, "created", keep.id))
        return keep

    def _settle_duplicates(
        self, plan: SpacePlan, fields: planning.Fields, created: models.ChangeSet | None
    ) -> models.ChangeSet:
        """After a create, exactly one open change set links to the pull request: the listed
        oldest of those not listed before it (the answer only while the list lags); racing
        runs both archive the rest. One someone else makes in between would count as ours."""
        linked = planning.linked_open(self.af.list_change_sets(plan.space), fields.reference_url)
        mine = [cs for cs in linked if cs.id not in plan.others]
        if not mine and created is not None and created.is_open:
            mine = [created]
        if not mine:
            raise ApprovalFlowSyncError(
                f"ApprovalFlow POST /changeSets for space {plan.space}: the change set is not "
                "listed yet and the answer did not name it (the create may still take effect); "
                "run the job again: it then names that change set as not made by it (it could "
                "not record it) and makes another; archive the first by hand"
            )
        keep, *extra = mine
        for duplicate in extra:
            archived = self._archive(plan.space, duplicate.id, "archived duplicate")
            self.reporter.warning(
                f"{'Archived duplicate' if archived else 'Duplicate'} change set {duplicate.id} "
                f"of space {plan.space} (another run created it at the same time)"
                f"{'' if archived else ' was archived by that run'}; kept {keep.id}."
            )
        return keep

    def _archive(self, space: str, change_set_id: str, action: str = "archived") -> bool:
        """Archive a change set; false when another run archived it first (400: read-only)."""
        try:
            self.af.archive_change_set(change_set_id)
        except BadRequestError:
            if self.af.get_change_set(change_set_id).is_open:
                raise
            return False
        self.done.append(Done(space, action, change_set_id))
        return True

    def apply_space(self, plan: SpacePlan, fields: planning.Fields) -> SpaceOutcome:
        """The writes of one space; a dry run makes none and reports what it would do."""
        dry = self.options.dry_run
        current = plan.keep
        if plan.create and not dry:
            current = self._create(plan, fields)
        elif plan.changes and current is not None and not dry:
            self.af.update_change_set(current.id, **plan.changes)  # type: ignore[arg-type]
            self.done.append(Done(plan.space, "updated", current.id))
        if not dry:
            for change_set_id in plan.archive:
                self._archive(plan.space, change_set_id)
        return SpaceOutcome(
            space=plan.space,
            change_set_id=current.id if current else None,
            title=fields.title if plan.pages else None,
            created=plan.create,
            updated=tuple(sorted(_field_names(plan.changes))),
            archived=plan.archive,
            duplicates=plan.duplicates,
        )

    def rows(self, space: SpaceOutcome, pages: Sequence[str], match: MatchResult) -> list[PageRow]:
        """The page rows of a space with preflight and detail, read at the same time; nothing is
        known before the change set exists (a dry run): a single page's preflight is stricter."""
        files = match.files_by_page
        base = [PageRow(space.space, p, files.get(PageKey(space.space, p), ())) for p in pages]
        if space.change_set_id is None:
            return [replace(row, reason=report.NOT_KNOWN_YET) for row in base]
        preflight = self.pool.submit(self.af.preflight_change_set, space.change_set_id)
        detail = self.pool.submit(self.af.get_change_set, space.change_set_id)
        both: list[Future[Any]] = [preflight, detail]
        wait(both)
        checks = {r.pageId: r for r in preflight.result().results}
        versions = {ref.pageId: ref for ref in detail.result().pageRefs}
        unknown = report.NOT_KNOWN_YET if self.options.dry_run else None
        return [
            _with_checks(replace(row, reason=unknown), checks.get(row.page), versions.get(row.page))
            for row in base
        ]

    def publish(self, outcome: Outcome, gathered: Gathered, *, sticky_needed: bool) -> None:
        """Status, sticky comment, summary, annotations and outputs, written together."""
        jobs: list[Future[None]] = []
        wants_status = outcome.kind is not Kind.ARCHIVE and bool(self.options.status_context)
        if wants_status and not self.options.dry_run:
            jobs.append(self.pool.submit(self._write_status, outcome, gathered.status))
        if self.options.comment and not self.options.dry_run:
            existing = gathered.own(report.STICKY, self.options.instance)
            if existing is not None or sticky_needed:
                ours = gathered.ours or ()
                text = report.sticky_comment(outcome, self.options.confluence_url, ours)
                jobs.append(self.pool.submit(self.put_sticky, text, existing, gathered.identity))
        confluence = self.options.confluence_url
        self.reporter.append_summary(report.summary(outcome, confluence))
        for path, message in report.file_warnings(outcome):
            self.reporter.warning(message, file=path, title="ApprovalFlow page blocked")
        for name, value in report.outputs(outcome).items():
            self.reporter.set_output(name, value)
        wait(jobs)
        # a failed comment or status never undoes the ApprovalFlow work; it fails the run later
        for error in (job.exception() for job in jobs):
            if isinstance(error, GitHubError):
                self.github_failures.append(error)
            elif error is not None:
                raise error

    def _write_status(self, outcome: Outcome, current: Status | None) -> None:
        state, description = report.status(outcome)
        if current and (current.state, current.description) == (state, description):
            return
        self.gh.set_status(
            self.pr,
            state=state,
            context=self.options.status_context,
            description=description,
            target_url=self.options.run_url,
        )

    def put_sticky(self, text: str, existing: Comment | None, me: Identity) -> None:
        """Write ``text`` as the sticky comment: edit it when it differs, post it if missing."""
        if existing is not None and existing.body.strip() == text.strip():
            return
        if existing is not None:
            try:
                self.gh.update_comment(self.pr, existing.id, text)
            except GitHubError as error:
                if error.status != 404:
                    raise
            else:
                return
        posted = self.gh.create_comment(self.pr, text)
        if posted.author and not me.wrote(posted):
            self.reporter.warning(
                f"The comment was written as {posted.author}, not {me.login}: set the input "
                f"comment-author to {posted.author} so that later runs find and update it."
            )

    def sync(self) -> Outcome:
        gathered = self.gather()
        outcome = self._sync_pages(gathered, Kind.SYNC)
        self.publish(outcome, gathered, sticky_needed=bool(outcome.rows))
        return outcome

    def _sync_pages(self, gathered: Gathered, kind: Kind) -> Outcome:
        fields = self._fields()
        match = gathered.match
        listed, ours = gathered.change_sets, gathered.ours
        plans = planning.plan_sync(match.pages_by_space, listed, fields, ours)
        spaces = self._each_space(lambda plan: self._space(plan, fields, match, kind), plans)
        options = self.options
        return Outcome(kind, tuple(spaces), options.dry_run, instance=options.instance)

    def _space(
        self, plan: SpacePlan, fields: planning.Fields, match: MatchResult, kind: Kind
    ) -> SpaceOutcome:
        space = self.apply_space(plan, fields)
        if not plan.pages:
            return space
        if kind is Kind.SUBMIT and space.change_set_id and not self.options.dry_run:
            answer = self.af.submit_change_set(space.change_set_id)
            self.done.append(Done(space.space, "submitted", space.change_set_id))
            rows = _submitted_rows(space, plan.pages, match, answer)
        else:
            rows = self.rows(space, plan.pages, match)
        return replace(space, pages=tuple(rows))

    def submit(self) -> Outcome:
        """Update and submit the merged pull request's pages; post the result. A rerun submits
        nothing when ApprovalFlow (never a comment: anyone can write one) shows it happened."""
        gathered = self.gather()
        if self._submitted_before(gathered):
            return self._already_submitted(gathered)
        outcome = self._sync_pages(gathered, Kind.SUBMIT)
        if outcome.rows and self.options.comment and not self.options.dry_run:
            text = report.result_comment(outcome, self.options.confluence_url)
            try:
                result = self.gh.create_comment(self.pr, text)
                outcome = replace(outcome, result_comment_url=result.html_url)
            except GitHubError as error:
                self.github_failures.append(error)
        # a change set made here is recorded in the sticky comment, or a rerun would not know it
        created = any(space.created for space in outcome.spaces)
        self.publish(outcome, gathered, sticky_needed=created)
        return outcome

    def _submitted_before(self, gathered: Gathered) -> bool:
        """Whether ApprovalFlow shows an earlier submit and nothing left to submit: a change set
        moved off ``open``, no write is planned, and none holds a page added since that waits."""
        mine = self._own_change_sets(gathered)
        if not any(cs.rollupState not in (None, "open") for cs in mine):
            return False
        pages = gathered.match.pages_by_space
        plans = planning.plan_sync(pages, gathered.change_sets, self._fields(), gathered.ours)
        if any(plan.create or plan.archive or "page_ids" in plan.changes for plan in plans):
            return False
        checks = [self.pool.submit(self._holds_waiting_page, cs) for cs in mine]
        wait(checks)
        return not any(check.result() for check in checks)

    def _holds_waiting_page(self, cs: models.ChangeSet) -> bool:
        """Whether preflight finds a page to submit that is not approved as it is now (once
        submitted, an approved page waits only if it changed since; a rejected one always)."""
        answer = self.af.preflight_change_set(cs.id)
        if not answer.summary.submittable:
            return False
        submittable = {page.pageId for page in answer.results if page.canSubmit}
        if cs.rollupState in (None, "open") or len(submittable) < answer.summary.submittable:
            return True
        refs = self.af.get_change_set(cs.id).pageRefs
        current = {ref.pageId for ref in refs if ref.approvedAtVersion is not None}
        return not submittable <= current - {ref.pageId for ref in refs if ref.isStale}

    def _own_change_sets(self, gathered: Gathered) -> list[models.ChangeSet]:
        return [
            cs
            for found in gathered.change_sets.values()
            for cs in planning.linked_open(found, self._fields().reference_url, gathered.ours)
        ]

    def _already_submitted(self, gathered: Gathered) -> Outcome:
        """A rerun of the merge: submit nothing, say so; counts from our own result comment."""
        ids = [cs.id for cs in self._own_change_sets(gathered)]
        self.reporter.info("Already submitted (ApprovalFlow shows it); nothing submitted again.")
        posted = gathered.own(report.RESULT, self.options.instance)
        counts = _stored_counts(posted.body, self.options.instance) if posted else {}
        for name, value in {**counts, "change-set-ids": json.dumps(ids)}.items():
            self.reporter.set_output(name, value)
        result = {"kind": Kind.SUBMIT.value, "alreadySubmitted": True, "changeSetIds": ids}
        result |= {name: int(value) for name, value in counts.items()}
        self.reporter.set_output("result", json.dumps(result, separators=(",", ":")))
        where = f" See {md.link('the result comment', posted.html_url)}." if posted else ""
        self.reporter.append_summary(
            "### ApprovalFlow: already submitted\n\nApprovalFlow shows an earlier submit of "
            f"this pull request's change sets; nothing was submitted again.{where}\n"
        )
        return Outcome(
            kind=Kind.SUBMIT,
            result_comment_url=posted.html_url if posted else None,
            instance=self.options.instance,
        )

    def _each_space(
        self, work: Callable[[SpacePlan], SpaceOutcome], plans: Sequence[SpacePlan]
    ) -> list[SpaceOutcome]:
        """``work`` for every space at once; on failure the summary says what was written."""
        if not plans:
            return []
        with ThreadPoolExecutor(min(len(plans), SPACE_WORKERS), "space") as spaces:
            futures = [spaces.submit(work, plan) for plan in plans]
        errors = [(p.space, f.exception()) for p, f in zip(plans, futures, strict=True)]
        failed = [(space, error) for space, error in errors if error is not None]
        if failed:
            said = [(space, str(error)) for space, error in failed]
            self.reporter.append_summary(report.stopped(list(self.done), said))
            raise failed[0][1]
        return [future.result() for future in futures]

    def archive(self) -> Outcome:
        """Closed without merge: archive the pull request's change sets (the files name spaces
        too), or keep them."""
        gathered = self.gather()
        fields = self._fields()
        plans = planning.plan_archive(gathered.change_sets, fields.reference_url, gathered.ours)
        outcome = Outcome(kind=Kind.ARCHIVE, instance=self.options.instance)
        if not self.options.archive_on_close:
            note = "Change sets kept open (archive-on-close is false)."
            outcome = replace(outcome, notes=(note,))
        else:
            spaces = self._each_space(lambda plan: self.apply_space(plan, fields), plans)
            outcome = replace(outcome, spaces=tuple(spaces), dry_run=self.options.dry_run)
        self.publish(outcome, gathered, sticky_needed=False)
        return outcome

    def flow(self, name: str) -> Outcome:
        """Run the flow named ``sync``, ``submit`` or ``archive`` (a mode's or a step's name)."""
        return {"sync": self.sync, "submit": self.submit, "archive": self.archive}[name]()


def _stored_counts(body: str, instance: str) -> dict[str, str]:
    """The count outputs kept in a result comment: known names with whole numbers only."""
    data = md.extract_json(body, report.RESULT_DATA, instance)
    stored = data.get("outputs") if isinstance(data, dict) else None
    if not isinstance(stored, dict):
        return {}
    return {
        name: str(value)
        for name, value in stored.items()
        if name in report.COUNT_OUTPUTS and isinstance(value, str) and _COUNT.fullmatch(value)
    }


def _field_names(changes: Mapping[str, object]) -> list[str]:
    names = {"page_ids": "pages", "reference_url": "link"}
    return [names.get(key, key) for key in changes]


def _with_checks(
    row: PageRow,
    check: models.PagePreflight | None,
    version: models.PageRef | None,
) -> PageRow:
    if check is not None:
        row = replace(row, can_submit=check.canSubmit, reason=check.reason)
    if version is not None:
        current, approved = version.currentPageVersion, version.approvedAtVersion
        stale = version.isStale
        if stale is None and current is not None and approved is not None:
            stale = current > approved
        row = replace(row, approved_at=approved, current_version=current, stale=bool(stale))
    return row


def _submitted_rows(
    space: SpaceOutcome, pages: Sequence[str], match: MatchResult, answer: models.SubmitAnswer
) -> list[PageRow]:
    results = {r.pageId: r for r in answer.results}
    missing = models.PageSubmitResult(pageId="", reason="not in the submit answer")
    return [
        PageRow(
            space.space,
            page,
            match.files_by_page.get(PageKey(space.space, page), ()),
            submitted=(result := results.get(page, missing)).success is True,
            reason=result.reason,
        )
        for page in pages
    ]
