"""``approvalflow-sync plan``: what a push of this branch would do, seen from the local checkout.

The changed files are git's, from the merge base with the default branch to the index; the
action's own planner says what a run would do. Only reads are sent: list, detail, preflight.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, TextIO
from urllib.parse import urlsplit

from approvalflow_sync.action.inputs import parse_instance
from approvalflow_sync.cli import terminal
from approvalflow_sync.cli.settings import (
    SANDBOX_VARIABLE,
    TOKEN_VARIABLE,
    Connection,
    base_url_from,
    connection_of,
    sandbox_url,
)
from approvalflow_sync.core import plan as planning
from approvalflow_sync.core.mapping import (
    DEFAULT_MAPPING_FILE,
    MatchResult,
    PageKey,
    compile_mapping,
    read_mapping,
)
from approvalflow_sync.core.plan import SpacePlan
from approvalflow_sync.core.report import plural
from approvalflow_sync.errors import BadRequestError, ConfigError
from approvalflow_sync.github.git_files import DIFF_OPTIONS, GIT, parse_name_status

if TYPE_CHECKING:  # the ApprovalFlow side loads HTTP and pydantic only when it is asked
    from approvalflow_sync.approvalflow.client import ApprovalFlowClient
    from approvalflow_sync.approvalflow.models import ChangeSet, PagePreflight
    from approvalflow_sync.github.event import ChangedFile

START_SANDBOX = ""
"""``--sandbox`` without a URL: start the built-in sandbox in this process."""
DEFAULT_BRANCHES = ("origin/main", "origin/master", "main", "master")
"""Tried in this order when ``origin/HEAD`` does not name the default branch."""
PREFLIGHT_WORKERS = 8
UNMAPPED_SHOWN = 5
"""Changed files that map to no page named in the text output; --json lists them all."""
_PULL_NUMBER = re.compile(r"[0-9]+")


@dataclass(frozen=True)
class Branch:
    """The branch's changes as git sees them."""

    root: Path
    base: str
    """What it was compared with: ``--base``, or the default branch found."""
    merge_base: str
    files: list[ChangedFile]


@dataclass(frozen=True)
class Asked:
    """What ApprovalFlow answered: the change sets listed and each mapped page's preflight."""

    base_url: str
    pull_request: str | None
    plans: list[SpacePlan]
    existing: dict[str, list[ChangeSet]]
    checks: dict[PageKey, PagePreflight]


# -- git ---------------------------------------------------------------------------------------


def _git(where: Path, *args: str) -> subprocess.CompletedProcess[bytes]:
    try:
        return subprocess.run(  # noqa: S603 - fixed arguments, no shell
            [GIT, "-C", str(where), *args], capture_output=True, check=False
        )
    except FileNotFoundError:
        raise ConfigError("git is not installed or not on PATH; plan needs it") from None


def read_branch(where: Path, base: str | None) -> Branch:
    """The files changed from the merge base of HEAD and ``base`` to the index."""
    top = _git(where, "rev-parse", "--show-toplevel")
    if top.returncode != 0:
        raise ConfigError(
            f"{where} is not in a git repository: run `approvalflow-sync plan` inside a checkout"
        )
    root = Path(os.fsdecode(top.stdout.rstrip(b"\n")))
    ref = base or _default_branch(where)
    base_sha = _commit(where, ref)
    if base_sha is None:
        raise ConfigError(
            f"--base: {ref!r} is not a branch, tag or commit of {root}; name one that exists "
            "(`git branch -a` lists them; `git fetch` brings the remote ones)"
        )
    if _commit(where, "HEAD") is None:
        raise ConfigError(f"{root} has no commit yet: commit once, then run plan")
    merge_base = _git(where, "merge-base", base_sha, "HEAD")
    if merge_base.returncode != 0:
        raise ConfigError(
            f"--base: {ref!r} and HEAD share no history; give the branch this one started "
            "from with --base REF"
        )
    since = merge_base.stdout.decode("ascii").strip()
    diff = _git(where, "diff", "--cached", *DIFF_OPTIONS, since, "--")
    if diff.returncode != 0:
        said = diff.stderr.decode("utf-8", "replace").strip().splitlines()
        raise ConfigError(f"git diff failed in {root}: {said[0] if said else diff.returncode}")
    files = parse_name_status(diff.stdout.decode("utf-8", "replace"))  # printable, always
    return Branch(root=root, base=ref, merge_base=since, files=files)


def _commit(where: Path, ref: str) -> str | None:
    found = _git(where, "rev-parse", "--verify", "--quiet", "--end-of-options", f"{ref}^{{commit}}")
    return found.stdout.decode("ascii").strip() if found.returncode == 0 else None


def _default_branch(where: Path) -> str:
    """``origin/HEAD``'s branch, else the first of :data:`DEFAULT_BRANCHES` that exists."""
    head = _git(where, "symbolic-ref", "--quiet", "--short", "refs/remotes/origin/HEAD")
    if head.returncode == 0 and head.stdout.strip():
        return head.stdout.decode("utf-8", "replace").strip()
    for ref in DEFAULT_BRANCHES:
        if _commit(where, ref) is not None:
            return ref
    raise ConfigError(
        "cannot tell the default branch: there is no origin/HEAD, main or master; give the "
        "branch to compare with, e.g. --base origin/develop"
    )


def _origin_url(root: Path) -> str | None:
    found = _git(root, "remote", "get-url", "origin")
    return found.stdout.decode("utf-8", "replace").strip() if found.returncode == 0 else None


def pull_request_url(value: str, origin: str | None) -> str:
    """``--pr``: a pull request's URL as given, or its number on the ``origin`` repository."""
    if value.startswith("https://"):
        return value.rstrip("/")
    if not _PULL_NUMBER.fullmatch(value):
        raise ConfigError(f"--pr: give the pull request's number or URL, not {value!r}")
    repository = github_repository_url(origin or "")
    if repository is None:
        raise ConfigError(
            "--pr: the remote 'origin' is not a GitHub repository URL; give the pull request's "
            "whole URL (https://github.com/OWNER/REPO/pull/N)"
        )
    return f"{repository}/pull/{value}"


def github_repository_url(remote: str) -> str | None:
    """``https://HOST/OWNER/REPO`` from a remote URL (https, ssh or ``git@HOST:OWNER/REPO``)."""
    scp = re.fullmatch(r"[\w.-]+@([\w.-]+):(?!/)(.+)", remote)
    if scp:
        host, path = scp.groups()
    else:
        parts = urlsplit(remote)
        host, path = parts.hostname or "", parts.path
    owner_repo = path.strip("/").removesuffix(".git").split("/")
    if not host or len(owner_repo) != 2 or not all(owner_repo):
        return None
    return f"https://{host}/{owner_repo[0]}/{owner_repo[1]}"


# -- ApprovalFlow (reads only) -----------------------------------------------------------------


@contextmanager
def _approvalflow(args: argparse.Namespace, env: Mapping[str, str]) -> Iterator[Connection | None]:
    """Where to ask: a sandbox (started here, or at a URL), the connection given, or None."""
    if args.sandbox is None and not env.get(SANDBOX_VARIABLE):
        yield connection_of(args, env) if base_url_from(args, env) else None
        return
    from approvalflow_sync.sandbox import DEFAULT_TOKEN, SandboxServer  # noqa: PLC0415

    sandbox = None if args.sandbox == START_SANDBOX else sandbox_url(args.sandbox, env)
    if sandbox is not None:
        yield Connection(sandbox, args.token or env.get(TOKEN_VARIABLE) or DEFAULT_TOKEN)
        return
    with SandboxServer(host="127.0.0.1", port=0) as server:
        yield Connection(server.base_url, DEFAULT_TOKEN)


def ask(
    client: ApprovalFlowClient,
    spaces: Sequence[str],
    match: MatchResult,
    pull_request: str | None,
    instance: str = "",
) -> Asked:
    """List the spaces' change sets, plan with the action's planner, preflight every page."""
    with ThreadPoolExecutor(PREFLIGHT_WORKERS, "plan") as pool:
        listed = dict(zip(spaces, pool.map(client.list_change_sets, spaces), strict=True))
        link = planning.reference_url(pull_request or "", instance)
        fields = planning.Fields(title="", summary="", reference_url=link)
        # Without --pr the pull request is a new one: no change set is its own yet.
        plans = planning.plan_sync(match.pages_by_space, listed if pull_request else {}, fields)
        jobs = [pool.submit(_preflights, client, plan) for plan in plans]
        checks = {key: check for job in jobs for key, check in job.result().items()}
    return Asked(client.base_url, pull_request, plans, listed, checks)


def _preflights(client: ApprovalFlowClient, plan: SpacePlan) -> dict[PageKey, PagePreflight]:
    """The pages in the pull request's change set through its preflight, the others one by one."""
    found: dict[str, PagePreflight] = {}
    kept = set(plan.keep.page_ids) if plan.keep else set()
    if plan.keep is not None and kept & set(plan.pages):
        found = {r.pageId: r for r in client.preflight_change_set(plan.keep.id).results}
    for page in plan.pages:
        if page not in found:
            found[page] = _page_preflight(client, page)
    return {PageKey(plan.space, page): found[page] for page in plan.pages}


def _page_preflight(client: ApprovalFlowClient, page: str) -> PagePreflight:
    from approvalflow_sync.approvalflow.models import PagePreflight  # noqa: PLC0415

    try:
        answer = client.preflight_page(page)
    except BadRequestError as error:  # an unknown page: say so in its row
        return PagePreflight(pageId=page, canSubmit=False, reason=error.error or str(error))
    return PagePreflight(
        pageId=page, canSubmit=answer.canSubmit, workflowId=answer.workflowId, reason=answer.reason
    )


# -- rendering (pure) --------------------------------------------------------------------------


def describe(plan: SpacePlan) -> tuple[str, str]:
    """The plan of a space as a word for JSON and a phrase for people."""
    if plan.create:
        return "create", f"create a change set with {plural(len(plan.pages), 'page')}"
    if not plan.pages:
        return "archive", f"archive {', '.join(plan.archive)} (no page maps any more)"
    kept = planning.sort_pages(plan.keep.page_ids if plan.keep else ())
    added = [p for p in plan.pages if p not in kept]
    removed = [p for p in kept if p not in plan.pages]
    words = [f"add {', '.join(added)}"] if added else []
    words += [f"remove {', '.join(removed)}"] if removed else []
    words += [f"archive duplicates {', '.join(plan.duplicates)}"] if plan.duplicates else []
    return ("update", "update: " + "; ".join(words)) if words else ("none", "no change")


def _page_rows(asked: Asked, plan: SpacePlan) -> Iterator[tuple[PageKey, PagePreflight, list[str]]]:
    """Each page of the plan with its preflight and the other open change sets that hold it."""
    mine = plan.keep.id if plan.keep else None
    others = [cs for cs in asked.existing.get(plan.space, ()) if cs.is_open and cs.id != mine]
    for page in plan.pages:
        key = PageKey(plan.space, page)
        yield key, asked.checks[key], [cs.id for cs in others if page in cs.page_ids]


def render_text(branch: Branch, match: MatchResult, asked: Asked | None) -> str:
    """The files with their pages, then (when asked) each space's plan and each page's check."""
    head = (
        f"{len(planning.changed_paths(branch.files))} paths changed since this branch left "
        f"{branch.base} ({branch.merge_base[:12]}), in commits and staged changes"
    )
    rows = [(path, space, ", ".join(pages)) for path, space, pages in _file_rows(branch, match)]
    mapped = [row for row in rows if row[1] is not None]
    unmapped = [path for path, space, _pages in rows if space is None]
    parts = [head, terminal.table(("FILE", "SPACE", "PAGES"), mapped) if mapped else ""]
    if unmapped:
        shown = ", ".join(terminal.clean(path) for path in unmapped[:UNMAPPED_SHOWN])
        more = len(unmapped) - UNMAPPED_SHOWN
        parts.append(
            f"{len(unmapped)} of them map to no page: {shown}"
            + (f" and {more} more (--json lists them all)" if more > 0 else "")
        )
    if asked is None:
        parts.append(
            "ApprovalFlow not asked: give --sandbox, or APPROVALFLOW_BASE_URL and "
            "APPROVALFLOW_TOKEN, to see what a run would create or update."
        )
        return "\n\n".join(part for part in parts if part)
    target = f"pull request {asked.pull_request}" if asked.pull_request else "a new pull request"
    parts.append(f"ApprovalFlow at {asked.base_url}, for {target} (read only: nothing written):")
    if not asked.plans:
        parts.append("Nothing to do: no changed file maps to a page.")
        return "\n\n".join(part for part in parts if part)
    plans = [(p.space, describe(p)[1], p.keep.id if p.keep else "-") for p in asked.plans]
    parts.append(terminal.table(("SPACE", "PLAN", "CHANGE SET"), plans))
    checks = [
        (
            key.space,
            key.page,
            check.canSubmit,
            check.workflowId if check.canSubmit else check.reason,
            ", ".join(also_in) or "-",
        )
        for plan in asked.plans
        for key, check, also_in in _page_rows(asked, plan)
    ]
    if checks:
        headers = ("SPACE", "PAGE", "CAN SUBMIT", "WORKFLOW / REASON", "ALSO IN")
        parts.append(terminal.table(headers, checks))
    return "\n\n".join(part for part in parts if part)


def _file_rows(branch: Branch, match: MatchResult) -> list[tuple[str, str | None, list[str]]]:
    """A row per changed path and space it maps to; a path that maps to no page gets one row."""
    rows: list[tuple[str, str | None, list[str]]] = []
    for path in planning.changed_paths(branch.files):
        keys = sorted(match.pages_by_file.get(path, ()))
        spaces = sorted({key.space for key in keys})
        rows += [(path, s, [k.page for k in keys if k.space == s]) for s in spaces]
        if not spaces:
            rows.append((path, None, []))
    return rows


def render_json(branch: Branch, match: MatchResult, asked: Asked | None) -> str:
    """The same facts as :func:`render_text`, for scripts."""
    data: dict[str, object] = {
        "base": branch.base,
        "mergeBase": branch.merge_base,
        "files": [
            {"path": path, "space": space, "pages": pages}
            for path, space, pages in _file_rows(branch, match)
        ],
        "approvalflow": None,
    }
    if asked is not None:
        data["approvalflow"] = {
            "baseUrl": asked.base_url,
            "pullRequest": asked.pull_request,
            "spaces": [_space_json(plan, asked) for plan in asked.plans],
        }
    return json.dumps(data, indent=2, ensure_ascii=False)


def _space_json(plan: SpacePlan, asked: Asked) -> dict[str, object]:
    pages = [
        {
            "page": key.page,
            "canSubmit": check.canSubmit,
            "workflowId": check.workflowId,
            "reason": check.reason,
            "alsoIn": also_in,
        }
        for key, check, also_in in _page_rows(asked, plan)
    ]
    return {
        "space": plan.space,
        "plan": describe(plan)[0],
        "changeSetId": plan.keep.id if plan.keep else None,
        "archive": list(plan.archive),
        "pages": pages,
    }


# -- the command -------------------------------------------------------------------------------


class _Warnings:
    """Problems with the files' ids, on stderr."""

    def warning(self, message: str, *, file: str | None = None, title: str | None = None) -> None:
        print(f"warning: {terminal.clean(message)}", file=sys.stderr)

    def append_summary(self, markdown: str) -> None:
        pass  # each contradiction was a warning already


def _work_tree_texts(root: Path, files: list[ChangedFile]) -> dict[str, str | None]:
    """The changed Markdown files as the work tree has them (the branch's version)."""
    from approvalflow_sync.core.page_ids import MAX_CHARS, is_markdown  # noqa: PLC0415

    texts: dict[str, str | None] = {}
    for changed in files:
        if is_markdown(changed.path):
            try:
                with open(root / changed.path, encoding="utf-8", errors="replace") as file:
                    texts[changed.path] = file.read(MAX_CHARS)
            except OSError:
                texts[changed.path] = None  # removed
    return texts


def run(args: argparse.Namespace, env: Mapping[str, str], out: TextIO) -> int:
    """Print the plan; 0, or a configuration error (exit 2) naming what to fix."""
    instance = parse_instance(args.instance, "--instance")
    from approvalflow_sync.action.file_pages import Pages  # noqa: PLC0415

    branch = read_branch(Path.cwd(), args.base)
    name = args.mapping or os.path.relpath(branch.root / DEFAULT_MAPPING_FILE)
    from_files = not args.no_page_ids_from_files
    optional = from_files and not args.mapping  # a mapping file named must exist
    mapping = None if optional and not os.path.exists(name) else read_mapping(name)
    match = Pages(
        matcher=compile_mapping(mapping) if mapping else None,
        default_space=mapping.space if mapping else None,
        mapping_file=name,
        read=(lambda files: _work_tree_texts(branch.root, files)) if from_files else None,
        reporter=_Warnings(),
    )(branch.files)
    pull_request = pull_request_url(args.pr, _origin_url(branch.root)) if args.pr else None
    asked = None
    with _approvalflow(args, env) as connection:
        if connection is not None:
            mapped = {rule.space for rule in mapping.rules} if mapping else set()
            spaces = sorted(mapped | set(match.pages_by_space))
            from approvalflow_sync.approvalflow.client import (  # noqa: PLC0415
                ApprovalFlowClient,
            )

            with ApprovalFlowClient(connection.base_url, connection.token) as client:
                asked = ask(client, spaces, match, pull_request, instance)
    render = render_json if args.json else render_text
    print(render(branch, match, asked), file=out)
    return 0
