"""The pages of a pull request's files: the mapping's rules, and the ids the files carry.

Ids are read from the changed Markdown files only; a fork's files, whatever the event, as the
base commit has them, so a fork cannot point the approval at a page of its choosing. Contents
come from the checkout when it holds the commit, else from GitHub's contents API.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from approvalflow_sync.action.inputs import ActionSettings
from approvalflow_sync.core import markdown as md
from approvalflow_sync.core.mapping import Mapping, Matcher, MatchResult, PageKey
from approvalflow_sync.core.page_ids import (
    HOW,
    MAX_CHARS,
    SPACE_KEY,
    Contradiction,
    is_markdown,
    read_id,
    with_file_ids,
)
from approvalflow_sync.core.plan import changed_paths
from approvalflow_sync.errors import ConfigError, MappingError, Problem
from approvalflow_sync.github.checkout import commit_in_checkout, read_blobs
from approvalflow_sync.github.event import ChangedFile, PullRequest

if TYPE_CHECKING:
    from approvalflow_sync.github.gateway import GitHubGateway

API_READS = 300
"""Most files read through the contents API in one run: a workflow's token has 1,000 requests
an hour for the whole repository; more files need a checkout."""

Read = Callable[[list[ChangedFile]], dict[str, str | None]]


class Reporter(Protocol):
    def warning(
        self, message: str, *, file: str | None = None, title: str | None = None
    ) -> None: ...
    def append_summary(self, markdown: str) -> None: ...


def reader(
    pr: PullRequest,
    *,
    untrusted: bool,
    workspace: Path | None,
    github: GitHubGateway,
    pool: Executor,
    api_limit: int = API_READS,
) -> Read:
    """Reads the changed Markdown files' texts (None: not at that commit): the head's, or the
    base's for a removed file, an old name, and every file of an untrusted head."""

    def read(files: list[ChangedFile]) -> dict[str, str | None]:
        commits: dict[str, str] = {}
        for changed in files:
            at_base = untrusted or changed.status == "removed"
            if is_markdown(changed.path):
                commits.setdefault(changed.path, pr.base_sha if at_base else pr.head_sha)
            if changed.previous_path and is_markdown(changed.previous_path):
                commits.setdefault(changed.previous_path, pr.base_sha)
        by_commit: dict[str, list[str]] = {}
        for path, commit in commits.items():
            by_commit.setdefault(commit, []).append(path)
        texts: dict[str, str | None] = {}
        for commit, paths in by_commit.items():
            head = commit == pr.head_sha and not untrusted
            where = commit_in_checkout(workspace, commit, merge_of=head) if workspace else None
            if where is not None and workspace is not None:
                blobs = read_blobs(workspace, where, paths, MAX_CHARS * 4)
                texts |= {p: b.decode("utf-8", "replace") if b is not None else None
                          for p, b in blobs.items()}  # fmt: skip
                continue
            if len(paths) > api_limit:
                raise ConfigError(
                    f"input page-ids-from-files: {len(paths):,} changed Markdown files to read "
                    f"at commit {commit[:12]}, which the workspace does not hold: through "
                    f"GitHub's API that is a request each (over the {api_limit} this action "
                    "makes; a workflow's token has 1,000 an hour); add an actions/checkout "
                    "step before this one, or set page-ids-from-files: false"
                )
            answers = pool.map(
                lambda p, c=commit: github.read_file(pr.repo, p, c, errors="replace"), paths
            )
            texts |= dict(zip(paths, answers, strict=True))
        return texts

    return read


@dataclass(frozen=True, kw_only=True)
class Pages:
    """``files → MatchResult``: the mapping's rules, united with the ids the files carry."""

    matcher: Matcher | None
    default_space: str | None
    mapping_file: str
    read: Read | None
    reporter: Reporter
    missing: str | None = None
    """Why there is no mapping file, for the error when a file names no page."""

    def __call__(self, files: list[ChangedFile]) -> MatchResult:
        paths = changed_paths(files)
        mapped = self.matcher.match(paths) if self.matcher else MatchResult({}, {}, tuple(paths))
        if self.read is None:
            return mapped
        ids: dict[str, PageKey] = {}
        for path, text in self.read(files).items():
            try:
                found = read_id(text) if text is not None else None
            except ValueError as error:
                self.reporter.warning(
                    f"{path}: its page id is ignored: {error}", file=path, title="Page id"
                )
                continue
            if found is not None:
                ids[path] = PageKey(self._space(path, found.space, found.page), found.page)
        merged, contradictions = with_file_ids(mapped, ids, paths)
        self._report(contradictions)
        if self.matcher is None:
            self._all_named(files, merged)
        return merged

    def _space(self, path: str, space: str | None, page: str) -> str:
        if found := space or self.default_space:
            return found
        raise ConfigError(
            f"{path}: page {page} has no space: add `{SPACE_KEY}: <space id>` to its front "
            f"matter, or `space: <space id>` to the mapping file {self.mapping_file}"
        )

    def _report(self, contradictions: list[Contradiction]) -> None:
        lines = []
        for c in contradictions:
            pages = ", ".join(sorted(key.page for key in c.mapped))
            message = (
                f"{c.path} names page {c.named.page}, but the mapping maps it to {pages}: the "
                "mapping's rule wins; change the file's id or the rule so they agree"
            )
            self.reporter.warning(message, file=c.path, title="Page id contradicted")
            lines.append(
                f"- {md.code(c.path)} names page {c.named.page}; the mapping's {pages} used"
            )
        if lines:
            self.reporter.append_summary(
                "### ApprovalFlow: page ids the mapping contradicts\n\n" + "\n".join(lines) + "\n"
            )

    def _all_named(self, files: list[ChangedFile], merged: MatchResult) -> None:
        """Without a mapping file every changed Markdown file must name its page (a renamed
        one under its old name or its new one)."""
        for changed in files:
            path, names = changed.path, {changed.path, changed.previous_path}
            if is_markdown(path) and not names & merged.pages_by_file.keys():
                missing = self.missing or f"mapping file {self.mapping_file} does not exist"
                message = (
                    f"{missing}, and {path} names no page (read at the commit this run "
                    f"trusts); create it, or set the mapping-file input, or give {path} its "
                    f"page id ({HOW})"
                )
                raise MappingError([Problem(self.mapping_file, 0, 0, message)])


NO_CHECKOUT = (
    "not found: {workspace} holds no checkout; add `- uses: actions/checkout@v4` to the job "
    "before this step"
)


def pages_for(  # noqa: PLR0917 - the run's parts, each passed on once
    settings: ActionSettings,
    pr: PullRequest,
    mapping: Mapping | None,
    matcher: Matcher | None,
    gh: GitHubGateway,
    runner: Reporter,
    pool: Executor,
) -> Pages:
    """The files' pages: the mapping's rules, and the ids the files carry (unless turned off)."""
    ws = settings.workspace
    workspace = ws if checked_out(settings) else None
    # a fork's head names no page, whatever the event: its files are read at the base commit
    read = reader(pr, untrusted=pr.is_fork, workspace=workspace, github=gh, pool=pool)
    return Pages(
        matcher=matcher,
        default_space=mapping.space if mapping else None,
        mapping_file=settings.mapping_file,
        read=read if settings.page_ids_from_files else None,
        reporter=runner,
        missing=None if workspace else NO_CHECKOUT.format(workspace=ws),
    )


def checked_out(settings: ActionSettings) -> bool:
    """Whether the workspace is a git work tree (``.git`` is a file in worktrees, submodules)."""
    return (settings.workspace / ".git").exists()
