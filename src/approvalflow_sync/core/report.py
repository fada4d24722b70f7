"""What the run tells people: commit status, comments, job summary, annotations, outputs.

Pure functions from an :class:`Outcome` to text; untrusted text goes through
:mod:`~approvalflow_sync.core.markdown`. Comment bodies hold no times or run links, so an
unchanged outcome gives the same body and the comment is not rewritten.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum

from approvalflow_sync.core import markdown as md

STICKY = "sticky"
APPROVAL = "approval"
RESULT = "result"
RESULT_DATA = "result-data"
OURS = "change-sets"
"""The sticky comment's record of the change sets this configuration made (a link proves none)."""
MAX_FILES_SHOWN = 5
MAX_STATUS_DESCRIPTION = 140
CUT_NOTE = "The table is cut short; the job summary has it all."
COUNT_OUTPUTS = ("pages", "submittable", "blocked", "submitted", "skipped")
"""The outputs a rerun of the merge may read back from the result comment."""
NOT_KNOWN_YET = "not known before the change set holds the page"


class Kind(str, Enum):
    SYNC = "sync"
    SUBMIT = "submit"
    ARCHIVE = "archive"


@dataclass(frozen=True)
class PageRow:
    """One page: the files that map to it, whether it can be submitted, its approval state."""

    space: str
    page: str
    files: tuple[str, ...]
    can_submit: bool | None = None
    reason: str | None = None
    approved_at: int | None = None
    current_version: int | None = None
    stale: bool = False
    submitted: bool | None = None
    """After a submit: True submitted, False skipped (``reason`` says why)."""


@dataclass(frozen=True)
class SpaceOutcome:
    space: str
    change_set_id: str | None
    title: str | None = None
    created: bool = False
    updated: tuple[str, ...] = ()
    archived: tuple[str, ...] = ()
    duplicates: tuple[str, ...] = ()
    pages: tuple[PageRow, ...] = ()


@dataclass(frozen=True)
class Outcome:
    kind: Kind
    spaces: tuple[SpaceOutcome, ...] = ()
    dry_run: bool = False
    result_comment_url: str | None = None
    notes: tuple[str, ...] = field(default_factory=tuple)
    instance: str = ""
    """The configuration that made it (input ``instance``): names its markers and headline."""

    @property
    def rows(self) -> list[PageRow]:
        return [row for space in self.spaces for row in space.pages]

    @property
    def change_set_ids(self) -> list[str]:
        return [s.change_set_id for s in self.spaces if s.change_set_id]

    @property
    def submittable(self) -> int:
        return sum(1 for row in self.rows if row.can_submit)

    @property
    def blocked(self) -> int:
        return sum(1 for row in self.rows if row.can_submit is False)

    @property
    def unknown(self) -> int:
        return sum(1 for row in self.rows if row.can_submit is None and row.submitted is None)

    @property
    def submitted(self) -> int:
        return sum(1 for row in self.rows if row.submitted)

    @property
    def skipped(self) -> int:
        return sum(1 for row in self.rows if row.submitted is False)


def plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def _counts(outcome: Outcome, submitted: str, can: str, *, unknown: bool) -> str:
    """The counts the status and the headline both tell, in their own words."""
    if outcome.kind is Kind.SUBMIT:
        return (
            f"Submitted {plural(outcome.submitted, 'page')}{submitted}, {outcome.skipped} skipped"
        )
    if not outcome.rows:
        return "No docs pages in this pull request"
    text = f"{outcome.submittable} of {plural(len(outcome.rows), 'page')} can {can}"
    text += f", {outcome.blocked} blocked" if outcome.blocked else ""
    return text + (f", {outcome.unknown} not known yet" if unknown and outcome.unknown else "")


def status(outcome: Outcome) -> tuple[str, str]:
    """The commit status state and description (at most 140 characters)."""
    refused = outcome.skipped if outcome.kind is Kind.SUBMIT else outcome.blocked
    text = _counts(outcome, "", "be submitted", unknown=False)
    return "failure" if refused else "success", text[:MAX_STATUS_DESCRIPTION]


def merge_group_status(
    number: int, context: str, pull_request: tuple[str, str] | None
) -> tuple[str, str]:
    """A merge group commit's status (a required check must report there or the queue stalls):
    that of the pull request at its tip; anything but its success, or none, fails the group."""
    if pull_request is None:
        state, text = "failure", f"#{number} has no {context} status; run the workflow on it first"
    elif pull_request[0] == "success":
        state, text = "success", f"#{number}: {pull_request[1]}"
    else:
        state, text = "failure", f"#{number} {pull_request[0]}: {pull_request[1]}"
    return state, text[:MAX_STATUS_DESCRIPTION]


def page_link(page: str, confluence_url: str | None) -> str:
    """The page id, linked to the page when the site is known."""
    if not confluence_url:
        return md.text(page)
    return md.link(page, f"{confluence_url}/pages/viewpage.action?pageId={page}")


def _files(files: Sequence[str]) -> str:
    shown = [md.code(f) for f in files[:MAX_FILES_SHOWN]]
    if len(files) > MAX_FILES_SHOWN:
        shown.append(f"and {len(files) - MAX_FILES_SHOWN} more")
    return "<br>".join(shown) if shown else "—"


def _eligibility(row: PageRow) -> str:
    if row.submitted is True:
        return "✅ submitted"
    if row.submitted is False:
        return f"⏭️ skipped: {md.text(row.reason or 'no reason given')}"
    if row.can_submit is None:
        return f"❔ {md.text(row.reason or 'not checked yet')}"
    if row.can_submit:
        return "✅ can submit"
    return f"⛔ blocked: {md.text(row.reason or 'no reason given')}"


def _approval(row: PageRow) -> str:
    if row.approved_at is None:
        return "—"
    if row.stale and row.current_version is not None:
        behind = row.current_version - row.approved_at
        return f"⚠️ stale: approved v{row.approved_at}, now v{row.current_version} (+{behind})"
    if row.stale:
        return f"⚠️ stale: approved v{row.approved_at}, edited since"
    return f"approved v{row.approved_at}"


def pages_table(rows: Sequence[PageRow], confluence_url: str | None) -> str:
    """The table of pages shared by the comment and the job summary."""
    return md.table(
        ("Page", "Space", "Docs files", "Submit", "Approval"),
        [
            (
                page_link(row.page, confluence_url),
                md.text(row.space),
                _files(row.files),
                _eligibility(row),
                _approval(row),
            )
            for row in rows
        ],
    )


def _space_line(space: SpaceOutcome, dry_run: bool, *, this_run: bool) -> str:
    """One space's change set; ``this_run`` adds what this run did (the summary only, so that
    an unchanged rerun renders the same comment)."""
    would = "would be " if dry_run else ""
    if space.change_set_id is None and space.archived:
        return f"- Space {md.text(space.space)}: {would}archived {_ids(space.archived)}."
    line = (
        f"- Space {md.text(space.space)}: change set {md.code(space.change_set_id or 'new')} "
        f"{md.text(space.title or '')}"
    )
    if not this_run:
        return line
    what = "created" if space.created else "updated" if space.updated else "unchanged"
    if space.updated and not space.created:
        what += f" ({', '.join(space.updated)})"
    line += f" — {would}{what}."
    if space.duplicates:
        line += f" Duplicate change sets {_ids(space.duplicates)} {would}archived, pages kept here."
    return line


def _ids(ids: Sequence[str]) -> str:
    return ", ".join(md.code(i) for i in ids)


def _headline(outcome: Outcome) -> str:
    if outcome.kind is Kind.ARCHIVE:
        if any(space.archived for space in outcome.spaces):
            return "Pull request closed without merge: change sets archived"
        return "Pull request closed without merge"
    return _counts(outcome, " for approval", "go to review", unknown=True)


def body(outcome: Outcome, confluence_url: str | None, *, this_run: bool = False) -> str:
    """The report's markdown without a marker: headline, change sets, pages."""
    prefix = "[dry run] " if outcome.dry_run else ""
    name = f" ({md.text(outcome.instance)})" if outcome.instance else ""
    parts = [f"### ApprovalFlow{name}: {prefix}{_headline(outcome)}"]
    lines = [_space_line(s, outcome.dry_run, this_run=this_run) for s in outcome.spaces]
    if lines:
        parts.append("\n".join(lines))
    if outcome.rows:
        parts.append(pages_table(outcome.rows, confluence_url))
    if outcome.result_comment_url:
        link = md.link("see the result comment", outcome.result_comment_url)
        parts.append(f"Submission result: {link}.")
    parts.extend(md.text(note) for note in outcome.notes)
    return "\n\n".join(parts)


def sticky_comment(outcome: Outcome, confluence_url: str | None, ours: Iterable[str] = ()) -> str:
    """The one sticky comment, found again by its marker; ``ours`` (and the outcome's change
    sets) recorded right after the marker, even when empty, for :func:`plan.recorded`."""
    instance = outcome.instance
    record = sorted({*ours, *outcome.change_set_ids})
    text = (
        f"{md.comment_marker(STICKY, instance)}\n{md.embed_json(OURS, record, instance)}\n"
        f"{body(outcome, confluence_url)}\n"
    )
    return md.truncate(text, md.COMMENT_LIMIT, CUT_NOTE)


def result_data(outcome: Outcome) -> dict[str, object]:
    """What a rerun of the merge needs to report without submitting again: the small outputs."""
    kept = {k: v for k, v in outputs(outcome).items() if k in COUNT_OUTPUTS}
    return {"changeSetIds": outcome.change_set_ids, "outputs": kept}


def result_comment(outcome: Outcome, confluence_url: str | None) -> str:
    """The comment posted once after the merge's submit; the data a rerun reads comes right
    after the marker, so cutting the table short never loses it."""
    instance = outcome.instance
    text = (
        f"{md.comment_marker(RESULT, instance)}\n"
        f"{md.embed_json(RESULT_DATA, result_data(outcome), instance)}\n"
        f"{body(outcome, confluence_url)}\n"
    )
    return md.truncate(text, md.COMMENT_LIMIT, CUT_NOTE)


def summary(outcome: Outcome, confluence_url: str | None) -> str:
    """The job summary: the comment's report, plus what this run did to each change set."""
    return body(outcome, confluence_url, this_run=True) + "\n"


@dataclass(frozen=True)
class Done:
    """One write a run made to ApprovalFlow: reported if the run stops part way."""

    space: str
    action: str
    change_set_id: str


def stopped(done: Sequence[Done], failed: Sequence[tuple[str, str]]) -> str:
    """The job summary of a run that stopped part way: every write made, every space failed."""
    parts = ["### ApprovalFlow: the run stopped part way"]
    if done:
        lines = [
            f"- Space {md.text(d.space)}: {d.action} change set {md.code(d.change_set_id)}."
            for d in done
        ]
        parts.append("Done before the error:\n\n" + "\n".join(lines))
    else:
        parts.append("Nothing was written to ApprovalFlow.")
    lines = [f"- Space {md.text(space)}: {md.text(error)}" for space, error in failed]
    parts.append("Not done:\n\n" + "\n".join(lines))
    parts.append(
        "Run the job again once the cause is fixed: it finds the pull request's change sets "
        "by their link and goes on from there, without making a second one."
    )
    return "\n\n".join(parts) + "\n"


def file_warnings(outcome: Outcome) -> list[tuple[str, str]]:
    """A (file, message) warning for each docs file whose page is blocked or skipped."""
    found: list[tuple[str, str]] = []
    for row in outcome.rows:
        if row.submitted is False or (row.submitted is None and row.can_submit is False):
            verb = "skipped" if row.submitted is False else "blocked"
            message = f"Confluence page {row.page} is {verb}: {row.reason or 'no reason given'}"
            found.extend((path, message) for path in row.files)
    return found


def outputs(outcome: Outcome) -> dict[str, str]:
    """The step's outputs; ``result`` is one line of JSON with everything."""
    o = outcome
    counts = {"pages": len(o.rows), "submittable": o.submittable, "blocked": o.blocked}
    done = {"submitted": o.submitted, "skipped": o.skipped}
    values: dict[str, object] = {"change-set-ids": o.change_set_ids, **counts, **done}
    result: dict[str, object] = {"kind": o.kind.value, "dryRun": o.dry_run}
    result["changeSetIds"] = o.change_set_ids
    result |= {**counts, "unknown": o.unknown, **done}
    result["spaces"] = [_space_json(space) for space in o.spaces]
    rendered = {key: json.dumps(value) for key, value in values.items()}
    rendered["result"] = json.dumps(result, separators=(",", ":"), ensure_ascii=True)
    return rendered


def _space_json(space: SpaceOutcome) -> Mapping[str, object]:
    return {
        "space": space.space,
        "changeSetId": space.change_set_id,
        "created": space.created,
        "updated": list(space.updated),
        "archived": list(space.archived),
        "pages": [
            {
                "pageId": row.page,
                "files": list(row.files),
                "canSubmit": row.can_submit,
                "submitted": row.submitted,
                "reason": row.reason,
                "stale": row.stale,
            }
            for row in space.pages
        ],
    }


ROLLUP_LABELS = {
    "open": "🕒 not submitted",
    "in_review": "🕒 in review",
    "partially_approved": "◑ partially approved",
    "all_approved": "✅ all approved",
    "has_rejections": "⛔ rejected",
    "stale": "⚠️ stale after approval: a page was edited since, it needs approval again",
}
FINAL_STATES = ("success", "failure")
"""Approval statuses after which reconcile stops following a pull request."""


@dataclass(frozen=True)
class Approval:
    """Where one change set of a merged pull request stands; ``rejected`` names its pages."""

    space: str
    change_set_id: str
    rollup: str | None
    rejected: tuple[str, ...] = ()


def _rollup(approval: Approval, confluence_url: str | None) -> str:
    """The state's label; a value ApprovalFlow did not announce is shown as it came."""
    rollup = approval.rollup or "open"
    label = ROLLUP_LABELS.get(rollup) or f"❔ {md.code(rollup)}"
    if approval.rejected:
        pages = ", ".join(page_link(page, confluence_url) for page in approval.rejected)
        label += f": {'page' if len(approval.rejected) == 1 else 'pages'} {pages}"
    return label


def approval_section(approvals: Sequence[Approval], confluence_url: str | None) -> str:
    """The sticky comment's approval section, under its own marker line."""
    lines = [
        f"- Space {md.text(a.space)}: change set {md.code(a.change_set_id)}: "
        f"{_rollup(a, confluence_url)}"
        for a in approvals
    ]
    return f"{md.comment_marker(APPROVAL)}\n#### Approval\n\n" + "\n".join(lines)


def with_approval(sticky: str, section: str) -> str:
    """The sticky comment with its approval section replaced, or added at the end."""
    kept = sticky.split(md.comment_marker(APPROVAL), maxsplit=1)[0].rstrip()
    text = f"{kept}\n\n{section}\n"
    return md.truncate(text, md.COMMENT_LIMIT, CUT_NOTE)


def approval_status(approvals: Sequence[Approval]) -> tuple[str, str]:
    """The merge commit's approval status: failure on a rejection, success once all are
    approved, else pending (stale too: a page edited after approval waits for approval)."""
    rollups = [a.rollup for a in approvals]
    approved = rollups.count("all_approved")
    if "has_rejections" in rollups:
        pages = sum(len(a.rejected) for a in approvals)
        state, text = "failure", f"Rejected: {plural(pages, 'page')}" if pages else "Rejected"
    elif approved == len(rollups):
        state, text = "success", "All pages approved"
    elif "stale" in rollups:
        state, text = "pending", "A page was edited after approval: it needs approval again"
    else:
        state = "pending"
        text = f"In review: {approved} of {plural(len(rollups), 'change set')} all approved"
    return state, text[:MAX_STATUS_DESCRIPTION]
