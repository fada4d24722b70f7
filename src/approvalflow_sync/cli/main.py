"""The command line: argument parsing, dispatch and exit codes only.

Each command's module is imported when that command runs, so ``--version`` and ``validate``
start without loading HTTP, pydantic or PyGithub.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NoReturn, TextIO, cast

from approvalflow_sync import __version__
from approvalflow_sync.approvalflow.scopes import COMMAND_SCOPES, scope_help
from approvalflow_sync.errors import ApprovalFlowSyncError, UsageError
from approvalflow_sync.safe_text import scrub

PROG = "approvalflow-sync"
DEBUG = "--debug"
"""Taken out of the command line wherever it stands: before or after the command."""
Handler = Callable[[argparse.Namespace, Mapping[str, str], TextIO], int]


class Parser(argparse.ArgumentParser):
    """Raises :class:`UsageError` instead of printing and exiting: ``--json`` prints it as JSON."""

    def error(self, message: str) -> NoReturn:
        """Called by argparse on a command line it cannot parse."""
        raise UsageError(message, prog=self.prog, usage=self.format_usage())


Flag = tuple[tuple[str, ...], dict[str, Any]]


def flag(*names: str, **options: Any) -> Flag:
    """One ``add_argument`` call, written down as data."""
    return names, options


@dataclass(frozen=True)
class Group:
    """Flags shown under a heading of their own in ``--help``."""

    title: str
    flags: Sequence[Flag]


@dataclass(frozen=True)
class Command:
    """One command: its help, its flags, and ``module:function(args, env, out)`` that runs it."""

    help: str
    run: str
    flags: Sequence[Flag | Group] = ()
    description: str | None = None


CONNECTION = Group(
    "connection (flags win over APPROVALFLOW_BASE_URL, APPROVALFLOW_TOKEN, "
    "APPROVALFLOW_CLOUD_ID, APPROVALFLOW_SITE, APPROVALFLOW_APP_ID, APPROVALFLOW_ENVIRONMENT_ID)",
    [
        flag("--base-url", help="the whole API base URL"),
        flag("--cloud-id", help="the site's cloud id (api.atlassian.com form)"),
        flag("--site", help="the site host, e.g. acme.atlassian.net (gateway form)"),
        flag("--app-id", help="ApprovalFlow's app id"),
        flag("--environment-id", help="ApprovalFlow's environment id"),
        flag("--token", help="access token (prefer APPROVALFLOW_TOKEN: flags show in `ps`)"),
    ],
)
JSON = flag(
    "--json",
    action="store_true",
    help='print the answer as JSON; an error too, on stdout: {"error": {"type", "message", '
    '"status"}}, with the same exit status',
)
SPACE = flag("--space", required=True, help="space id")
CHANGE_SET = flag("id", help="change set id")
PAGE = flag("page", help="page id")


def instance_flag(help_text: str) -> Flag:
    """``--instance NAME``: the action's input ``instance`` (empty: none)."""
    return flag("--instance", metavar="NAME", default="", help=help_text)


def page_list(help_text: str, *, required: bool = False) -> Flag:
    """``--page``, repeated or with several ids: ``args.pages``."""
    return flag(
        "--page",
        dest="pages",
        action="extend",
        nargs="+",
        required=required,
        metavar="PAGE_ID",
        help=help_text,
    )


def change_set_fields(*, required: bool) -> list[Flag]:
    """The fields ``create`` needs and ``update`` may change."""
    return [
        flag("--title", required=required, help="the title reviewers read"),
        flag("--summary", help="what changed and why"),
        flag("--reference-url", help="link back to the work, e.g. the PR's URL"),
        page_list(
            "page id (repeat or list several; on update, replaces the page list)", required=required
        ),
    ]


SANDBOX_URL = flag(
    "--sandbox",
    metavar="URL",
    help="use the sandbox at URL (e.g. http://127.0.0.1:8080) for every URL not given; "
    "default $APPROVALFLOW_SANDBOX",
)
AUTH: list[Flag | Group] = [
    flag(
        "--client-secret-env",
        default="ATLASSIAN_CLIENT_SECRET",
        metavar="VAR",
        help="variable holding the client secret (default ATLASSIAN_CLIENT_SECRET)",
    ),
    flag("--token-url", help="the token endpoint (default: Atlassian's)"),
    SANDBOX_URL,
    Group(
        "store the new refresh token in an Actions secret (token from GITHUB_TOKEN or GH_TOKEN)",
        [
            flag("--github-repo", metavar="OWNER/REPO", help="the repository"),
            flag(
                "--secret-name",
                help="NAME, env:ENVIRONMENT/NAME or org:ORG/NAME "
                "(default APPROVALFLOW_REFRESH_TOKEN)",
            ),
            flag(
                "--github-api-url",
                help="GitHub's API URL (default GITHUB_API_URL or api.github.com)",
            ),
        ],
    ),
]

GROUPS = {
    "change-sets": "list, show, create, update, submit ...",
    "pages": "submit or preflight one page",
    "auth": "OAuth setup: first consent (init), token health check (check)",
}
"""Commands of two words: the first word's help."""


def api(help_text: str, *flags: Flag) -> Command:
    """An API command: one call, with the connection flags and ``--json``."""
    return Command(help_text, "cli.api:run", [*flags, CONNECTION, JSON])


COMMANDS: dict[str, Command] = {
    "change-sets list": api("every change set of a space", SPACE),
    "change-sets show": api("one change set with its pages' versions", CHANGE_SET),
    "change-sets create": api("create a change set", SPACE, *change_set_fields(required=True)),
    "change-sets update": api(
        "change a change set's fields", CHANGE_SET, *change_set_fields(required=False)
    ),
    "change-sets archive": api("archive a change set (it becomes read-only)", CHANGE_SET),
    "change-sets submit": api("submit every eligible page for approval", CHANGE_SET),
    "change-sets preflight": api(
        "dry run of submit: who can be submitted, who is blocked and why", CHANGE_SET
    ),
    "pages submit": api("submit one page (strict about workflows)", PAGE),
    "pages preflight": api("can this page be submitted, and if not why", PAGE),
    "record": Command(
        "record a site's answers to the read calls, redacted, to share for tests",
        "cli.record:run",
        [
            flag("directory", metavar="DIR", help="where the cassette is written"),
            flag("--space", action="append", required=True, help="space id to list (repeat)"),
            page_list("page ids to preflight besides those of the change sets read"),
            flag(
                "--limit",
                type=int,
                default=3,
                help="change sets to read in detail per space, and pages to preflight (default 3)",
            ),
            CONNECTION,
        ],
        "List change sets, read some in detail and preflight them and their pages (reads "
        "only; preflight writes nothing), and write the answers as a vcrpy cassette, "
        "DIR/approvalflow-reads.yaml, with the token, base URL, titles, summaries, URLs, names "
        "and account ids replaced. Needs vcrpy: pip install 'approvalflow-sync[record]'.",
    ),
    "sandbox": Command(
        "run a local ApprovalFlow on loopback",
        "cli.sandbox:run",
        [
            flag("--host", default="127.0.0.1", help="address to listen on"),
            flag("--port", type=int, default=8080, help="port (0 picks a free one)"),
            flag("--state", help="JSON file that keeps the state across restarts"),
            flag("--seed", help="YAML or JSON file of spaces, pages and workflows"),
            flag("--latency", type=float, default=0.0, help="seconds added to every API answer"),
            flag(
                "--answers",
                choices=("reference", "rich"),
                default="reference",
                help="reference: answer only what the vendor's reference shows (writes answer "
                '{"success": true}); rich: the change set in every answer, status "archived"',
            ),
        ],
        "A local server that behaves like ApprovalFlow (admin under /_sandbox/).",
    ),
    "auth init": Command(
        "consent in a browser once and get the refresh token a CI job lives on",
        "cli.auth:run_init",
        [
            flag("--client-id", required=True, help="the OAuth app's client id"),
            flag(
                "--port",
                type=int,
                default=8765,
                help="loopback port; http://127.0.0.1:PORT/callback must be the app's "
                "callback URL (default 8765)",
            ),
            flag("--auth-url", help="the consent page (default: Atlassian's)"),
            flag(
                "--timeout",
                type=float,
                default=300.0,
                help="seconds to wait for the browser (default 300)",
            ),
            flag("--no-browser", action="store_true", help="only print the URL, open no browser"),
            flag(
                "--with-page-scopes",
                action="store_true",
                help="also ask for the scopes of the `pages` commands (read:approval:custom, "
                "write:approval:custom); the action needs neither",
            ),
            *AUTH,
        ],
        "Print the consent URL, wait for the browser on a loopback redirect, trade the code for "
        "tokens, and print the refresh token once or store it in a secret.",
    ),
    "auth check": Command(
        "list the sites a token reaches and check each scope with a read call",
        "cli.auth:run_check",
        [
            flag("--client-id", help="the OAuth app's client id (refresh token flow)"),
            flag(
                "--refresh-token-env",
                default="APPROVALFLOW_REFRESH_TOKEN",
                metavar="VAR",
                help="variable holding the refresh token (default APPROVALFLOW_REFRESH_TOKEN)",
            ),
            flag(
                "--access-token-env",
                metavar="VAR",
                help="variable holding an access token to check as is (no refresh)",
            ),
            flag(
                "--resources-url", help="the accessible-resources endpoint (default: Atlassian's)"
            ),
            flag("--base-url", help="the ApprovalFlow API base URL for the read calls"),
            flag("--space", help="space id for the read:change-set call"),
            flag("--page", help="page id for the read:approval call"),
            flag("--yes", action="store_true", help="refresh without asking (the token rotates)"),
            *AUTH,
        ],
        "With --client-id, refresh first (this rotates the refresh token: the new one is printed "
        "or stored); with --access-token-env, check that access token as is.",
    ),
    "demo": Command(
        "a whole pull request's life against a sandbox",
        "cli.demo:run",
        [instance_flag("run as that instance: its comment markers, status context and links")],
    ),
    "run": Command(
        "the GitHub Action: sync the event's pull request (reads INPUT_* and GITHUB_*)",
        "cli.main:run_action",
    ),
    "reconcile": Command(
        "every pull request of a repository brought up to date (mode reconcile of run)",
        "cli.main:run_action",
        [
            flag("--repo", metavar="OWNER/NAME", help="default GITHUB_REPOSITORY"),
            flag("--since", metavar="DAYS", help="merged within DAYS (default 14)"),
            flag("--time-budget", metavar="MINUTES", help="default 50"),
        ],
        "Every open pull request brought to the state its latest event would have produced, "
        "merged ones submitted once, closed ones archived, approvals reported back. The other "
        "settings come from INPUT_* and GITHUB_* as for run (GITHUB_TOKEN, INPUT_ACCESS-TOKEN, "
        "...).",
    ),
    "validate": Command(
        "check a mapping file",
        "cli.validate:run",
        [
            flag("file", nargs="?", help="the mapping file (.github/approvalflow.yml)"),
            flag("--repo", help="repository to check patterns against (default: here)"),
        ],
    ),
    "plan": Command(
        "before pushing: the branch's changed files, their pages, and what a run would do",
        "cli.plan:run",
        [
            flag(
                "--base",
                metavar="REF",
                help="compare with REF (default: origin/HEAD, else origin/main, origin/master, "
                "main or master)",
            ),
            flag(
                "--mapping",
                metavar="FILE",
                help="the mapping file (default .github/approvalflow.yml at the repository's top)",
            ),
            flag(
                "--no-page-ids-from-files",
                action="store_true",
                help="read no page ids from the changed Markdown files, only the mapping",
            ),
            flag(
                "--pr",
                metavar="NUMBER_OR_URL",
                help="the branch's pull request, to plan against its change sets "
                "(default: a new one)",
            ),
            instance_flag("plan against that instance's change sets (the action's input instance)"),
            flag(
                "--sandbox",
                nargs="?",
                const="",
                metavar="URL",
                help="ask the sandbox at URL (default $APPROVALFLOW_SANDBOX), or without URL "
                "start the built-in one here",
            ),
            CONNECTION,
            JSON,
        ],
        "From the local checkout, no GitHub needed: the files changed since the branch left the "
        "default branch (commits and staged changes), the pages they map to and, with a "
        "connection or --sandbox, what a run would create or update and each page's preflight. "
        "It only reads: nothing is written to ApprovalFlow.",
    ),
}


def _add(parser: argparse._ActionsContainer, flags: Sequence[Flag | Group]) -> None:
    for item in flags:
        if isinstance(item, Group):
            _add(parser.add_argument_group(item.title), item.flags)
        else:
            parser.add_argument(*item[0], **item[1])


def build_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The command tree; with ``argv`` naming a command, only that command's branch.

    The whole tree is some thirty parsers, and building them costs as much as importing YAML:
    a command that starts often (``validate``, ``run``) builds just its own.
    """
    parser = Parser(
        prog=PROG,
        description="Sync GitHub pull requests to ApprovalFlow change sets in Confluence.",
    )
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    parser.add_argument(
        DEBUG, action="store_true", help="log HTTP calls; show tracebacks (before or after COMMAND)"
    )
    words = [word for word in (argv or ()) if not word.startswith("-")]
    named = words[0] if words and any(name.split()[0] == words[0] for name in COMMANDS) else None
    # argparse makes the subparsers of a Parser Parsers too: every usage error is reported one way
    top = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    groups: dict[str, argparse._SubParsersAction[Parser]] = {}
    for name, command in COMMANDS.items():
        first, _, second = name.partition(" ")
        if named not in (None, first):
            continue
        if second and first not in groups:
            group = top.add_parser(first, help=GROUPS[first])
            groups[first] = group.add_subparsers(dest="action", required=True, metavar="ACTION")
        description = command.description or f"{command.help[0].upper()}{command.help[1:]}."
        if name in COMMAND_SCOPES:
            description += f" {scope_help(name)}"
        sub = groups.get(first, top).add_parser(
            second or first, help=command.help, description=description
        )
        _add(sub, command.flags)
        sub.set_defaults(handler=command.run, command_name=name)
    return parser


def _handler(spec: str) -> Handler:
    """``module:function`` under ``approvalflow_sync``, imported only now: start-up stays light."""
    module, function = spec.split(":")
    return cast(Handler, getattr(importlib.import_module(f"approvalflow_sync.{module}"), function))


def run_action(args: argparse.Namespace, env: Mapping[str, str], out: TextIO) -> int:
    """``run`` and ``reconcile``: the Action's program, which reads its inputs from ``env``."""
    from approvalflow_sync.action.run import main as action  # noqa: PLC0415 - start-up stays light

    if args.command_name == "reconcile":
        given = {"INPUT_REPOSITORY": args.repo, "INPUT_SINCE": args.since}
        given["INPUT_TIME-BUDGET"] = args.time_budget
        env = {**env, "INPUT_MODE": "reconcile", **{k: v for k, v in given.items() if v}}
    return action(env, out)


def _configure_logging(debug: bool) -> None:
    import logging  # noqa: PLC0415 - keeps start-up light

    from approvalflow_sync.action.runner import PlainLineFormatter  # noqa: PLC0415

    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(PlainLineFormatter(f"{PROG}: %(message)s"))
    logging.basicConfig(level=logging.DEBUG if debug else logging.WARNING, handlers=[handler])
    if not debug:
        # httpx logs every request at INFO; our own errors say what matters.
        logging.getLogger("httpx").setLevel(logging.WARNING)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``approvalflow-sync`` command."""
    words = sys.argv[1:] if argv is None else list(argv)
    debug = DEBUG in words
    words = [word for word in words if word != DEBUG]
    as_json = "--json" in words  # known before parsing, for a usage error
    try:
        args = build_parser(words).parse_args(words)
    except UsageError as error:
        return _report(error, as_json=as_json)
    if args.command_name != "validate":  # validate logs nothing; it starts faster without
        _configure_logging(debug)
    try:
        return _handler(args.handler)(args, os.environ, sys.stdout)
    except ApprovalFlowSyncError as error:
        if debug:
            import traceback  # noqa: PLC0415 - only when debugging

            _to_stderr(traceback.format_exc().rstrip("\n"))
        return _report(error, as_json=getattr(args, "json", False))
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130


def _report(error: ApprovalFlowSyncError, *, as_json: bool) -> int:
    """The error as one line on stderr, or with ``--json`` as one JSON object on stdout."""
    if as_json:
        import json  # noqa: PLC0415 - keeps start-up light

        status = getattr(error, "status", None)
        body = {"type": type(error).__name__, "message": str(error), "status": status}
        print(json.dumps({"error": body}), file=sys.stdout)
    elif isinstance(error, UsageError):
        _to_stderr(f"{error.usage.rstrip()}\n{error.prog}: error: {error}")
    else:
        _to_stderr(f"{PROG}: error: {error}")
    return error.exit_code


def _to_stderr(text: str) -> None:
    """Server text may be inside: scrubbed, and in a workflow step no line acts as a command."""
    text = scrub(text)
    if os.environ.get("GITHUB_ACTIONS") == "true":
        from approvalflow_sync.action.runner import plain_lines  # noqa: PLC0415

        text = plain_lines(text)
    print(text, file=sys.stderr)
