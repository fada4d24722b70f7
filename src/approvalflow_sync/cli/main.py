"""The command line: argument parsing, dispatch and exit codes only.

Each command's module is imported when that command runs, so ``--version`` and ``validate``
start without loading HTTP, pydantic or PyGithub.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from typing import NoReturn, cast

from approvalflow_sync import __version__
from approvalflow_sync.approvalflow.scopes import scope_help
from approvalflow_sync.errors import ApprovalFlowSyncError, UsageError
from approvalflow_sync.safe_text import scrub

PROG = "approvalflow-sync"
DEBUG = "--debug"
"""Taken out of the command line wherever it stands: before or after the command."""
Handler = Callable[[argparse.Namespace], int]


class Parser(argparse.ArgumentParser):
    """Raises :class:`UsageError` instead of printing and exiting: ``--json`` prints it as JSON."""

    def error(self, message: str) -> NoReturn:
        """Called by argparse on a command line it cannot parse."""
        raise UsageError(message, prog=self.prog, usage=self.format_usage())


def _connection_flags(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group(
        "connection (flags win over APPROVALFLOW_BASE_URL, APPROVALFLOW_TOKEN, "
        "APPROVALFLOW_CLOUD_ID, APPROVALFLOW_SITE, APPROVALFLOW_APP_ID, "
        "APPROVALFLOW_ENVIRONMENT_ID)"
    )
    group.add_argument("--base-url", help="the whole API base URL")
    group.add_argument("--cloud-id", help="the site's cloud id (api.atlassian.com form)")
    group.add_argument("--site", help="the site host, e.g. acme.atlassian.net (gateway form)")
    group.add_argument("--app-id", help="ApprovalFlow's app id")
    group.add_argument("--environment-id", help="ApprovalFlow's environment id")
    group.add_argument(
        "--token", help="access token (prefer APPROVALFLOW_TOKEN: flags show in `ps`)"
    )


def _api_command(
    subparsers: argparse._SubParsersAction[argparse.ArgumentParser],
    group: str,
    name: str,
    help_text: str,
) -> argparse.ArgumentParser:
    command = f"{group} {name}"
    parser = subparsers.add_parser(
        name,
        help=help_text,
        description=f"{help_text[0].upper()}{help_text[1:]}. {scope_help(command)}",
    )
    _connection_flags(parser)
    _json_flag(parser)
    parser.set_defaults(handler=_run_api, command_name=command)
    return parser


def _json_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--json",
        action="store_true",
        help='print the answer as JSON; an error too, on stdout: {"error": {"type", "message", '
        '"status"}}, with the same exit status',
    )


def _change_set_fields(parser: argparse.ArgumentParser, *, required: bool) -> None:
    parser.add_argument("--title", required=required, help="the title reviewers read")
    parser.add_argument("--summary", help="what changed and why")
    parser.add_argument("--reference-url", help="link back to the work, e.g. the PR's URL")
    parser.add_argument(
        "--page",
        dest="pages",
        action="extend",
        nargs="+",
        required=required,
        metavar="PAGE_ID",
        help="page id (repeat or list several; on update, replaces the page list)",
    )


def _add_change_set_commands(
    subparsers: argparse._SubParsersAction[argparse.ArgumentParser],
) -> None:
    group = subparsers.add_parser("change-sets", help="list, show, create, update, submit ...")
    commands = group.add_subparsers(dest="action", required=True, metavar="ACTION")
    _api_command(commands, "change-sets", "list", "every change set of a space").add_argument(
        "--space", required=True, help="space id"
    )
    for name, help_text in (
        ("show", "one change set with its pages' versions"),
        ("archive", "archive a change set (it becomes read-only)"),
        ("submit", "submit every eligible page for approval"),
        ("preflight", "dry run of submit: who can be submitted, who is blocked and why"),
    ):
        _api_command(commands, "change-sets", name, help_text).add_argument(
            "id", help="change set id"
        )
    create = _api_command(commands, "change-sets", "create", "create a change set")
    create.add_argument("--space", required=True, help="space id")
    _change_set_fields(create, required=True)
    update = _api_command(commands, "change-sets", "update", "change a change set's fields")
    update.add_argument("id", help="change set id")
    _change_set_fields(update, required=False)


def _add_page_commands(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    group = subparsers.add_parser("pages", help="submit or preflight one page")
    commands = group.add_subparsers(dest="action", required=True, metavar="ACTION")
    for name, help_text in (
        ("submit", "submit one page (strict about workflows)"),
        ("preflight", "can this page be submitted, and if not why"),
    ):
        _api_command(commands, "pages", name, help_text).add_argument("page", help="page id")


def _add_record_command(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "record",
        help="record a site's answers to the read calls, redacted, to share for tests",
        description="List change sets, read some in detail and preflight them and their pages "
        "(reads only; preflight writes nothing), and write the answers as a vcrpy cassette, "
        "DIR/approvalflow-reads.yaml, with the token, base URL, titles, summaries, URLs, names "
        "and account ids replaced. Needs vcrpy: pip install 'approvalflow-sync[record]'. "
        + scope_help("record"),
    )
    parser.add_argument("directory", metavar="DIR", help="where the cassette is written")
    parser.add_argument(
        "--space", action="append", required=True, help="space id to list (repeat for several)"
    )
    parser.add_argument(
        "--page",
        dest="pages",
        action="extend",
        nargs="+",
        metavar="PAGE_ID",
        help="page ids to preflight besides those of the change sets read",
    )
    parser.add_argument(
        "--limit",
        type=int,
        default=3,
        help="change sets to read in detail per space, and pages to preflight (default 3)",
    )
    _connection_flags(parser)
    parser.set_defaults(handler=_run_record)


def _add_sandbox_command(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "sandbox",
        help="run a local ApprovalFlow on loopback",
        description="A local server that behaves like ApprovalFlow (admin under /_sandbox/).",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=int, default=8080, help="port (0 picks a free one)")
    parser.add_argument("--state", help="JSON file that keeps the state across restarts")
    parser.add_argument("--seed", help="YAML or JSON file of spaces, pages and workflows")
    parser.add_argument(
        "--latency", type=float, default=0.0, help="seconds added to every API answer"
    )
    parser.add_argument(
        "--answers",
        choices=("reference", "rich"),
        default="reference",
        help="reference: answer only what the vendor's reference shows (writes answer "
        '{"success": true}); rich: the change set in every answer, status "archived"',
    )
    parser.set_defaults(handler=_run_sandbox)


def _add_auth_commands(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    group = subparsers.add_parser(
        "auth", help="OAuth setup: first consent (init), token health check (check)"
    )
    commands = group.add_subparsers(dest="action", required=True, metavar="ACTION")
    init = commands.add_parser(
        "init",
        help="consent in a browser once and get the refresh token a CI job lives on",
        description="Print the consent URL, wait for the browser on a loopback redirect, trade "
        "the code for tokens, and print the refresh token once or store it in a secret.",
    )
    init.add_argument("--client-id", required=True, help="the OAuth app's client id")
    _client_secret_flag(init)
    init.add_argument(
        "--port",
        type=int,
        default=8765,
        help="loopback port; http://127.0.0.1:PORT/callback must be the app's callback URL "
        "(default 8765)",
    )
    init.add_argument("--auth-url", help="the consent page (default: Atlassian's)")
    _token_url_flag(init)
    init.add_argument(
        "--timeout",
        type=float,
        default=300.0,
        help="seconds to wait for the browser (default 300)",
    )
    init.add_argument(
        "--no-browser", action="store_true", help="only print the URL, do not open a browser"
    )
    init.add_argument(
        "--with-page-scopes",
        action="store_true",
        help="also ask for the scopes of the `pages` commands (read:approval:custom, "
        "write:approval:custom); the action needs neither",
    )
    _github_secret_flags(init)
    init.set_defaults(handler=_run_auth_init)

    check = commands.add_parser(
        "check",
        help="list the sites a token reaches and check each scope with a read call",
        description="With --client-id, refresh first (this rotates the refresh token: the new "
        "one is printed or stored); with --access-token-env, check that access token as is.",
    )
    check.add_argument("--client-id", help="the OAuth app's client id (refresh token flow)")
    _client_secret_flag(check)
    check.add_argument(
        "--refresh-token-env",
        default="APPROVALFLOW_REFRESH_TOKEN",
        metavar="VAR",
        help="variable holding the refresh token (default APPROVALFLOW_REFRESH_TOKEN)",
    )
    check.add_argument(
        "--access-token-env",
        metavar="VAR",
        help="variable holding an access token to check as is (no refresh)",
    )
    _token_url_flag(check)
    check.add_argument(
        "--resources-url", help="the accessible-resources endpoint (default: Atlassian's)"
    )
    check.add_argument("--base-url", help="the ApprovalFlow API base URL for the read calls")
    check.add_argument("--space", help="space id for the read:change-set call")
    check.add_argument("--page", help="page id for the read:approval call")
    check.add_argument(
        "--yes", action="store_true", help="refresh without asking (the token rotates)"
    )
    _github_secret_flags(check)
    check.set_defaults(handler=_run_auth_check)


def _client_secret_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--client-secret-env",
        default="ATLASSIAN_CLIENT_SECRET",
        metavar="VAR",
        help="variable holding the client secret (default ATLASSIAN_CLIENT_SECRET)",
    )


def _token_url_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--token-url", help="the token endpoint (default: Atlassian's)")
    parser.add_argument(
        "--sandbox",
        metavar="URL",
        help="use the sandbox at URL (e.g. http://127.0.0.1:8080) for every URL not given; "
        "default $APPROVALFLOW_SANDBOX",
    )


def _github_secret_flags(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group(
        "store the new refresh token in an Actions secret (token from GITHUB_TOKEN or GH_TOKEN)"
    )
    group.add_argument("--github-repo", metavar="OWNER/REPO", help="the repository")
    group.add_argument(
        "--secret-name",
        help="NAME, env:ENVIRONMENT/NAME or org:ORG/NAME (default APPROVALFLOW_REFRESH_TOKEN)",
    )
    group.add_argument(
        "--github-api-url", help="GitHub's API URL (default GITHUB_API_URL or api.github.com)"
    )


def _add_demo_command(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    demo = subparsers.add_parser("demo", help="a whole pull request's life against a sandbox")
    demo.set_defaults(handler=_run_demo)


def _add_run_command(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    help_text = "the GitHub Action: sync the event's pull request (reads INPUT_* and GITHUB_*)"
    run = subparsers.add_parser("run", help=help_text, description=scope_help("run"))
    run.set_defaults(handler=_run_action)


def _add_validate_command(
    subparsers: argparse._SubParsersAction[argparse.ArgumentParser],
) -> None:
    validate = subparsers.add_parser("validate", help="check a mapping file")
    validate.add_argument("file", nargs="?", help="the mapping file (.github/approvalflow.yml)")
    validate.add_argument("--repo", help="repository to check patterns against (default: here)")
    validate.set_defaults(handler=_run_validate)


def _add_plan_command(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    plan = subparsers.add_parser(
        "plan",
        help="before pushing: the branch's changed files, their pages, and what a run would do",
        description="From the local checkout, no GitHub needed: the files changed since the "
        "branch left the default branch (commits and staged changes), the pages they map to "
        "and, with a connection or --sandbox, what a run would create or update and each "
        "page's preflight. It only reads: nothing is written to ApprovalFlow.",
    )
    plan.add_argument("--base", metavar="REF", help="compare with REF (default: origin/HEAD, "
                      "else origin/main, origin/master, main or master)")  # fmt: skip
    plan.add_argument("--mapping", metavar="FILE", help="the mapping file "
                      "(default .github/approvalflow.yml at the repository's top)")  # fmt: skip
    plan.add_argument("--no-page-ids-from-files", action="store_true", help="read no page "
                      "ids from the changed Markdown files, only the mapping")  # fmt: skip
    plan.add_argument(
        "--pr",
        metavar="NUMBER_OR_URL",
        help="the branch's pull request, to plan against its change sets (default: a new one)",
    )
    plan.add_argument(
        "--sandbox",
        nargs="?",
        const="",
        metavar="URL",
        help="ask the sandbox at URL (default $APPROVALFLOW_SANDBOX), or without URL start the "
        "built-in one here",
    )
    _connection_flags(plan)
    _json_flag(plan)
    plan.set_defaults(handler=_run_plan)


COMMANDS = {
    "change-sets": _add_change_set_commands,
    "pages": _add_page_commands,
    "record": _add_record_command,
    "sandbox": _add_sandbox_command,
    "auth": _add_auth_commands,
    "demo": _add_demo_command,
    "run": _add_run_command,
    "validate": _add_validate_command,
    "plan": _add_plan_command,
}


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
    subparsers = cast(  # its parsers are Parsers too: every usage error is reported one way
        "argparse._SubParsersAction[argparse.ArgumentParser]",
        parser.add_subparsers(dest="command", required=True, metavar="COMMAND"),
    )
    words = [word for word in (argv or ()) if not word.startswith("-")]
    named = words[0] if words and words[0] in COMMANDS else None
    for name, add in COMMANDS.items():
        if named is None or name == named:
            add(subparsers)
    return parser


def _run_api(args: argparse.Namespace) -> int:
    from approvalflow_sync.cli import api as api_commands  # noqa: PLC0415 - keeps start-up light

    return api_commands.run(args, os.environ, sys.stdout)


def _run_record(args: argparse.Namespace) -> int:
    from approvalflow_sync.cli import record  # noqa: PLC0415 - keeps start-up light

    return record.run(args, os.environ, sys.stdout)


def _run_sandbox(args: argparse.Namespace) -> int:
    from pathlib import Path  # noqa: PLC0415 - keeps start-up light

    from approvalflow_sync.cli.sandbox import main_sandbox  # noqa: PLC0415 - keeps start-up light

    return main_sandbox(
        host=args.host,
        port=args.port,
        state=Path(args.state) if args.state else None,
        seed=Path(args.seed) if args.seed else None,
        latency=args.latency,
        answers=args.answers,
    )


def _run_auth_init(args: argparse.Namespace) -> int:
    from approvalflow_sync.cli import auth as auth_commands  # noqa: PLC0415 - keeps start-up light

    return auth_commands.run_init(args, os.environ, sys.stdout)


def _run_auth_check(args: argparse.Namespace) -> int:
    from approvalflow_sync.cli import auth as auth_commands  # noqa: PLC0415 - keeps start-up light

    confirm = _ask if sys.stdin.isatty() else None
    return auth_commands.run_check(args, os.environ, sys.stdout, confirm=confirm)


def _ask(question: str) -> bool:
    return input(question).strip().lower() in ("y", "yes")


def _run_demo(args: argparse.Namespace) -> int:
    from approvalflow_sync.cli import demo  # noqa: PLC0415 - keeps start-up light

    return demo.run(sys.stdout)


def _run_action(args: argparse.Namespace) -> int:
    from approvalflow_sync.action import run as action  # noqa: PLC0415 - keeps start-up light

    return action.run_from_environment(sys.stdout)


def _run_validate(args: argparse.Namespace) -> int:
    from approvalflow_sync.cli import validate  # noqa: PLC0415 - keeps start-up light

    return validate.run(args.file, args.repo, sys.stdout, sys.stderr)


def _run_plan(args: argparse.Namespace) -> int:
    from approvalflow_sync.cli import plan  # noqa: PLC0415 - keeps start-up light

    return plan.run(args, os.environ, sys.stdout)


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
    handler: Handler = args.handler
    if handler is not _run_validate:  # validate logs nothing; it starts faster without logging
        _configure_logging(debug)
    try:
        return handler(args)
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


if __name__ == "__main__":
    sys.exit(main())
