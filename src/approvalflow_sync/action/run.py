"""``approvalflow-sync run``: the Action's program, from the runner's environment to exit code.

Secrets are masked before anything is printed; settings, event and mapping are validated before
any write; a failed comment or status is reported at the end, the ApprovalFlow work kept.
"""

from __future__ import annotations

import logging
import sys
import time
import traceback
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from approvalflow_sync.action.file_pages import NO_CHECKOUT, checked_out, pages_for
from approvalflow_sync.action.inputs import (
    SECRET_INPUTS,
    ActionSettings,
    MissingCredentials,
    Mode,
    input_value,
    load_settings,
)
from approvalflow_sync.action.runner import PlainLineFormatter, Runner, plain_lines
from approvalflow_sync.core import markdown as md
from approvalflow_sync.core.report import merge_group_status
from approvalflow_sync.errors import EXIT_CONFIG, ApprovalFlowSyncError, ConfigError, Problem
from approvalflow_sync.github.event import (
    SYNC_ACTIONS,
    Event,
    MergeGroup,
    PullRequest,
    parse_event,
    read_event,
)

if TYPE_CHECKING:
    from approvalflow_sync.approvalflow.client import ApprovalFlowClient
    from approvalflow_sync.core.mapping import Mapping as MappingFile
    from approvalflow_sync.github.gateway import GitHubGateway

MAX_WORKERS = 16
RUN_SECONDS = 900.0
"""The run's deadline: no HTTP call of the run goes on past it, whatever a server does."""
DOCS = "https://github.com/approvalflow-sync/approvalflow-sync#troubleshooting"
NEEDS_PR_NUMBER = ("workflow_run", "workflow_dispatch")
"""Events that carry no pull request of their own: the ``pr-number`` input names it."""


def resolve_mode(mode: Mode, event: Event, pr: PullRequest | None) -> Mode | None:
    """The flow to run, or None when the event asks for nothing. A pull request named by
    ``pr-number`` has no event action: its state decides (open: sync, merged: submit, closed:
    archive)."""
    if pr is None:
        if mode is not Mode.AUTO:
            raise ConfigError(
                f"input mode: {mode.value!r} needs a pull request, but this run is "
                f"{event.name!r} and pr-number is empty; trigger on pull requests or pass "
                "pr-number"
            )
        return None
    if mode is not Mode.AUTO:
        return mode
    if pr is not event.pull_request:
        return Mode.SUBMIT if pr.merged else Mode.ARCHIVE if pr.state == "closed" else Mode.SYNC
    if event.action in SYNC_ACTIONS:
        return Mode.SYNC
    if event.action == "closed":
        return Mode.SUBMIT if pr.merged else Mode.ARCHIVE
    return None


def number_to_fetch(number: int | None, event: Event) -> int | None:
    """The pull request to read from GitHub, or None when the event carries one or names none;
    ``pr-number`` must be one of the pull requests the event names, if it names any."""
    if number is None:
        if event.name in NEEDS_PR_NUMBER:
            raise ConfigError(
                f"input pr-number: empty, and a {event.name} event carries no pull request; "
                "pass the pull request's number (README: Pull requests from forks)"
            )
        return None
    if event.numbers and number not in event.numbers:
        named = ", ".join(f"#{n}" for n in event.numbers)
        raise ConfigError(
            f"input pr-number: {number}, but the {event.name} event names pull request {named}; "
            "pass the event's number or leave pr-number empty"
        )
    return None if event.pull_request or event.merge_group else number


def unbound(event: Event, pr: PullRequest, mode: Mode, *, auto: bool) -> str | None:
    """Why the pull request that pr-number names is left alone, or None: act on it.

    A fork's artifact can name any number: a workflow_run acts only on the one at its own head.
    Only workflow_dispatch has someone with write access vouch for it, so only there auto submits.
    """
    if pr is event.pull_request:
        return None
    if event.run_head is not None:
        sha, repo = event.run_head
        if (pr.head_sha, pr.head_repo) == (sha, repo):
            return None
        return (
            f"Nothing done: pull request #{pr.number}'s head is {pr.head_sha[:12]} of "
            f"{pr.head_repo or 'a deleted repository'}, but this workflow_run ran on "
            f"{sha[:12] or 'no commit'} of {repo or 'a deleted repository'}: pr-number names "
            "another pull request (or a push came since, and its own run follows)"
        )
    if auto and mode is Mode.SUBMIT and event.name != "workflow_dispatch":
        return (
            f"Nothing done: pull request #{pr.number} is merged, and under {event.name} mode "
            "auto never submits (nobody vouches for pr-number); run under workflow_dispatch "
            "or set mode: submit"
        )
    return None


def debugging(env: Mapping[str, str]) -> bool:
    """Whether the workflow runs with debug logging (a re-run with "debug logging" ticked)."""
    return env.get("RUNNER_DEBUG") == "1" or env.get("ACTIONS_STEP_DEBUG", "").lower() == "true"


def print_traceback(runner: Runner, error: BaseException) -> None:
    """The traceback on stderr, as plain lines and redacted: the runner reads stderr too."""
    text = "".join(traceback.format_exception(error)).rstrip()
    print(plain_lines(text, runner.redact), file=sys.stderr)


def fail(
    runner: Runner, error: ApprovalFlowSyncError, *, wrote: bool = False, debug: bool = False
) -> int:
    """One ``::error::`` line per problem, the long form in the job summary, the exit code.
    ``wrote``: something was written before the error; ``debug``: the traceback too, on stderr."""
    if debug:
        print_traceback(runner, error)
    problems = getattr(error, "problems", None) or []
    _annotate(runner.error, problems)
    if not problems:
        runner.error(str(error), title="approvalflow-sync")
    kind = "Configuration error" if error.exit_code == EXIT_CONFIG else "Error"
    details = "\n".join(f"- {md.code(str(p))}" for p in problems or [error])
    aftermath = (
        "Some of the work was done before the error (listed above); running the job again "
        "finishes it without repeating it."
        if wrote
        else "Nothing was written."
    )
    runner.append_summary(
        f"### approvalflow-sync: {kind.lower()}\n\n{details}\n\n"
        f"{aftermath} See {DOCS} for the fix.\n"
    )
    return error.exit_code


def _annotate(annotate: Callable[..., None], problems: Iterable[Problem]) -> None:
    """Each problem as an annotation at its place in the mapping file."""
    for problem in problems:
        at = {"file": problem.source, "line": problem.line or None, "col": problem.column or None}
        annotate(problem.message, title="approvalflow-sync", **at)


def main(env: Mapping[str, str], out: TextIO) -> int:
    """Run the action; the exit code is 0, 1 (a failure) or 2 (a configuration error)."""
    with Runner(out, env) as runner:
        for name in SECRET_INPUTS:
            runner.mask(input_value(env, name))
        with _logs_through(runner, debug=debugging(env)):
            try:
                return _main(env, runner)
            except Exception as error:  # a bug: still no raw text on stderr
                runner.error(f"unexpected error: {error!r}", title="approvalflow-sync")
                print_traceback(runner, error)
                return 1


@contextmanager
def _logs_through(runner: Runner, *, debug: bool) -> Iterator[None]:
    """Every library's log records, and Python's warnings, reach stderr only through ``runner``
    (one redacting handler on the root logger); the handlers found are put back at the end."""
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(PlainLineFormatter("approvalflow-sync: %(message)s", runner.redact))
    root.handlers = [handler]
    if debug:
        root.setLevel(logging.DEBUG)
    logging.captureWarnings(True)
    try:
        yield
    finally:
        logging.captureWarnings(False)
        root.handlers, root.level = saved


def _main(env: Mapping[str, str], runner: Runner) -> int:
    debug = debugging(env)
    try:
        settings = load_settings(env)
        if settings.mode is Mode.RECONCILE:
            from approvalflow_sync.action.reconcile import reconcile  # noqa: PLC0415

            return reconcile(settings, runner, debug=debug)
        event = parse_event(settings.event_name, read_event(settings.event_path))
        number = number_to_fetch(settings.pr_number, event)
        if event.merge_group is not None:
            return _merge_group(settings, event.merge_group, runner)
        pr = _fetch(settings, number) if number else event.pull_request
        mode = resolve_mode(settings.mode, event, pr)
        if mode is None or pr is None:
            action = event.action or "no action"
            runner.notice(f"Nothing to do for the {event.name} event ({action}).")
            return 0
        refused = unbound(event, pr, mode, auto=settings.mode is Mode.AUTO)
        if refused:
            runner.warning(refused, title="approvalflow-sync")
            runner.append_summary(f"### ApprovalFlow: skipped\n\n{md.text(refused)}\n")
            return 0
        if settings.credentials.missing:
            return _without_credentials(settings, pr, runner)
        return _run(settings, event.name, pr, mode, runner, debug=debug)
    except ApprovalFlowSyncError as error:
        return fail(runner, error, debug=debug)


def github_gateway(
    settings: ActionSettings, run_ends: float, etag_file: Path | None = None
) -> GitHubGateway:
    """GitHub's client for the run, which stops at ``run_ends``."""
    from approvalflow_sync.github.gateway import GitHubGateway  # noqa: PLC0415

    if not settings.github_token:
        raise ConfigError(
            "input github-token: empty; leave it at its default (${{ github.token }}) "
            "or pass a token"
        )
    return GitHubGateway(
        settings.api_url, settings.github_token, run_ends=run_ends, etag_file=etag_file
    )


@contextmanager
def connected(
    settings: ActionSettings, runner: Runner, gh: GitHubGateway, run_ends: float
) -> Iterator[tuple[ApprovalFlowClient, ThreadPoolExecutor]]:
    """ApprovalFlow's client (the token exchanged first) and the shared pool. At the end, even
    after a failure, ``gh`` is closed, a spent refresh token is reported and the usage shown."""
    import httpx  # noqa: PLC0415 - the heavy modules load only on the path that needs them

    from approvalflow_sync.action.credentials import token_for  # noqa: PLC0415
    from approvalflow_sync.approvalflow.client import ApprovalFlowClient  # noqa: PLC0415
    from approvalflow_sync.retry import RetryPolicy  # noqa: PLC0415

    with (
        httpx.Client(timeout=30.0) as oauth_http,
        ThreadPoolExecutor(max_workers=MAX_WORKERS) as pool,
    ):
        # the exchange, and the write-back of a rotated refresh token, come before other work
        token, handoff = token_for(settings, runner, oauth_http, run_ends=run_ends)
        try:
            with ApprovalFlowClient(
                settings.base_url, token, retry=RetryPolicy(run_ends=run_ends)
            ) as af:
                yield af, pool
        finally:
            gh.close()
            handoff.warn_if_spent()
            runner.append_summary(f"\n{gh.usage().describe()}\n")


def _fetch(settings: ActionSettings, number: int) -> PullRequest:
    """Pull request ``number`` of this repository as GitHub has it now."""
    gh = github_gateway(settings, time.monotonic() + RUN_SECONDS)
    try:
        pr = gh.pull_request(settings.repository, number)
    finally:
        gh.close()
    if pr is None:
        raise ConfigError(
            f"input pr-number: {settings.repository} has no pull request #{number}; pass the "
            "number of one of its pull requests"
        )
    return pr


def _merge_group(settings: ActionSettings, group: MergeGroup, runner: Runner) -> int:
    """A merge queue's group: its commit gets the status (by our own login) of the pull request
    at its tip; nothing else, as the pull request's own runs sync it and its merge submits."""
    if settings.mode is not Mode.AUTO:
        raise ConfigError(
            f"input mode: {settings.mode.value!r} cannot run under merge_group, which only "
            "passes the pull request's status on to the group's commit; use mode auto"
        )
    context = settings.status_context
    if not context:
        runner.notice("Nothing to do for the merge_group event: status-context is empty.")
        return 0
    pr = _fetch(settings, group.number)
    commit = replace(pr, head_sha=group.head_sha)  # the group's commit takes the status
    gh = github_gateway(settings, time.monotonic() + RUN_SECONDS)
    try:
        me = settings.comment_author or gh.identity().login  # a status by anyone else says nothing
        own, current = gh.latest_status(pr, context, me), gh.latest_status(commit, context, me)
        found = (own.state, own.description) if own else None
        state, text = merge_group_status(pr.number, context, found)
        if not settings.dry_run and (
            current is None or (current.state, current.description) != (state, text)
        ):
            gh.set_status(
                commit, state=state, context=context, description=text, target_url=settings.run_url
            )
    finally:
        gh.close()
    runner.append_summary(
        f"### ApprovalFlow: merge group\n\nThe merge group's commit {md.code(group.head_sha)} "
        f"{'would get' if settings.dry_run else 'has'} {md.code(context)} **{state}**, passed on "
        f"from pull request #{pr.number}: {md.text(text)}\n"
    )
    return 0


DEPENDABOT = "dependabot[bot]"
"""``GITHUB_ACTOR`` of Dependabot's runs, which get Dependabot secrets instead of Actions ones."""


def _withheld(settings: ActionSettings, pr: PullRequest) -> str | None:
    """Why GitHub gave this run no secrets (then skipping is right), or None: it gave them."""
    if pr.is_fork and settings.event_name == "pull_request":
        return (
            "this pull request comes from a fork, and GitHub gives fork pull requests no secrets "
            "under pull_request. To sync them, run on pull_request_target, or on workflow_run "
            "with pr-number (the mapping is then read from the base branch)"
        )
    if settings.actor == DEPENDABOT:
        return (
            "Dependabot started this run, and GitHub gives its runs Dependabot secrets only. "
            "To sync them, add the same secrets under Settings > Secrets and variables > "
            "Dependabot"
        )
    return None


def _without_credentials(settings: ActionSettings, pr: PullRequest, runner: Runner) -> int:
    """No token reached the job: a notice where GitHub withholds secrets, else an error (an
    empty token is a misspelled or missing secret: a green check would hide it)."""
    withheld = _withheld(settings, pr)
    choice = settings.credentials.on_missing
    if choice is MissingCredentials.FAIL or (choice is MissingCredentials.AUTO and not withheld):
        raise ConfigError(
            "inputs access-token and refresh-token: both empty, so no ApprovalFlow credentials: "
            + (
                f"{withheld}."
                if withheld
                else "check that the secrets the workflow passes to them exist (Settings > "
                "Secrets and variables > Actions) and are spelled as in the workflow, or set "
                "on-missing-credentials: skip to run without them"
            )
        )
    message = (
        f"Skipped, nothing written: no ApprovalFlow credentials: "
        f"{withheld or 'on-missing-credentials is skip'}."
    )
    runner.notice(message, title="approvalflow-sync")
    runner.append_summary(f"### ApprovalFlow: skipped\n\n{message}\n")
    return 0


def _load_mapping(
    settings: ActionSettings, event_name: str, pr: PullRequest, gh: GitHubGateway
) -> MappingFile | None:
    """The validated mapping; None when it is missing and the files may name their pages.
    Under any event but ``pull_request`` the workspace may hold a fork's head, so the mapping is
    read from the base commit: a pull request cannot point its own pages."""
    from approvalflow_sync.core.mapping import DEFAULT_MAPPING_FILE, load_mapping  # noqa: PLC0415

    name = settings.mapping_file
    # a mapping file the user names must exist; the default one may be missing
    optional = settings.page_ids_from_files and name == DEFAULT_MAPPING_FILE
    if event_name == "pull_request":
        if optional and not (settings.workspace / name).exists():
            return None
        return workspace_mapping(settings)
    text = gh.read_file(pr.repo, name, pr.base_sha)
    if text is None and optional:
        return None
    if text is None:
        raise ConfigError(
            f"{name}: not found at the base commit {pr.base_sha[:12]}; commit the mapping "
            f"file to the base branch ({event_name} reads it from there)"
        )
    return load_mapping(text, name)


def workspace_mapping(settings: ActionSettings) -> MappingFile:
    """The checkout's mapping file; refused when it resolves outside the workspace (a committed
    symlink would otherwise have the action read, and quote, any file of the runner)."""
    from approvalflow_sync.core.mapping import read_mapping  # noqa: PLC0415

    name, workspace = settings.mapping_file, settings.workspace
    path, root = workspace / name, workspace.resolve()
    if not path.exists() and not checked_out(settings):
        raise ConfigError(f"{name}: {NO_CHECKOUT.format(workspace=workspace)}")
    if not path.resolve().is_relative_to(root):
        raise ConfigError(
            f"input mapping-file: {name!r} resolves to a file outside the workspace {str(root)!r} "
            "(through a symlink or ..); commit the mapping file itself inside the repository"
        )
    return read_mapping(path, source=name)


def _run(
    settings: ActionSettings,
    event_name: str,
    pr: PullRequest,
    mode: Mode,
    runner: Runner,
    *,
    debug: bool,
) -> int:
    from approvalflow_sync.action.sync import Run, options_for  # noqa: PLC0415
    from approvalflow_sync.core.mapping import compile_mapping  # noqa: PLC0415
    from approvalflow_sync.github.checkout import Listing  # noqa: PLC0415
    from approvalflow_sync.github.git_files import changed_files_from_git  # noqa: PLC0415

    run_ends = time.monotonic() + RUN_SECONDS
    gh = github_gateway(settings, run_ends)
    mapping = _load_mapping(settings, event_name, pr, gh)
    matcher = compile_mapping(mapping) if mapping else None
    if event_name != "pull_request" or matcher is None:
        pass  # the workspace is not the pull request's: its files say nothing of the patterns
    elif checked_out(settings):
        # a pattern that matches no file of the checkout: a typo, or files gone
        _annotate(runner.warning, matcher.unmatched_patterns(Listing(settings.workspace).files()))
    else:
        runner.notice(
            "The mapping's patterns were not checked against the repository's files: "
            f"{settings.workspace} holds no checkout (actions/checkout before this step "
            "checks them)",
            title="approvalflow-sync",
        )
    options = options_for(settings, mapping, settings.comment_author)
    instance = f", instance {settings.instance}" if settings.instance else ""
    runner.info(f"Pull request #{pr.number} ({mode.value}{instance}): {pr.html_url}")
    with connected(settings, runner, gh, run_ends) as (af, pool):
        run = Run(
            pr,
            af=af,
            gh=gh,
            reporter=runner,
            options=options,
            spaces={rule.space for rule in mapping.rules} if mapping else (),
            match=pages_for(settings, pr, mapping, matcher, gh, runner, pool),
            pool=pool,
            files_from_git=lambda pr: changed_files_from_git(
                settings.workspace, pr.base_sha, pr.head_sha
            ),
        )
        try:
            outcome = run.flow(mode)
        except ApprovalFlowSyncError as error:
            return fail(runner, error, wrote=bool(run.done), debug=debug)
    for failure in run.github_failures:
        runner.error(f"{failure} (the ApprovalFlow work was done)", title="approvalflow-sync")
    if run.github_failures:
        return 1
    if settings.fail_on_blocked and (outcome.blocked or outcome.skipped):
        runner.error(
            f"{outcome.blocked + outcome.skipped} pages blocked or skipped and fail-on-blocked "
            "is true; see the job summary",
            title="approvalflow-sync",
        )
        return 1
    return 0
