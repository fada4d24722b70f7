"""The command line: argument parsing, dispatch and exit codes only.

Each command's module is imported when that command runs, so ``--version`` and ``validate``
start without loading HTTP, pydantic or PyGithub.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Callable, Sequence

from approvalflow_sync import __version__
from approvalflow_sync.errors import ApprovalFlowSyncError

PROG = "approvalflow-sync"
Handler = Callable[[argparse.Namespace], int]


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
    parser.add_argument("--json", action="store_true", help="print the answer as JSON")


def _api_command(
    subparsers: argparse._SubParsersAction[argparse.ArgumentParser],
    name: str,
    help_text: str,
    endpoint: str,
) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(name, help=help_text, description=help_text)
    _connection_flags(parser)
    parser.set_defaults(handler=_run_api, endpoint=endpoint)
    return parser


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
    _api_command(commands, "list", "every change set of a space", "list").add_argument(
        "--space", required=True, help="space id"
    )
    for name, help_text in (
        ("show", "one change set with its pages' versions"),
        ("archive", "archive a change set (it becomes read-only)"),
        ("submit", "submit every eligible page for approval"),
        ("preflight", "dry run of submit: who can be submitted, who is blocked and why"),
    ):
        _api_command(commands, name, help_text, name).add_argument("id", help="change set id")
    create = _api_command(commands, "create", "create a change set", "create")
    create.add_argument("--space", required=True, help="space id")
    _change_set_fields(create, required=True)
    update = _api_command(commands, "update", "change a change set's fields", "update")
    update.add_argument("id", help="change set id")
    _change_set_fields(update, required=False)


def _add_page_commands(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    group = subparsers.add_parser("pages", help="submit or preflight one page")
    commands = group.add_subparsers(dest="action", required=True, metavar="ACTION")
    for name, help_text in (
        ("submit", "submit one page (strict about workflows)"),
        ("preflight", "can this page be submitted, and if not why"),
    ):
        _api_command(commands, name, help_text, f"page-{name}").add_argument("page", help="page id")


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
    parser.set_defaults(handler=_run_sandbox)


def build_parser() -> argparse.ArgumentParser:
    """The whole command tree."""
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Sync GitHub pull requests to ApprovalFlow change sets in Confluence.",
    )
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    parser.add_argument("--debug", action="store_true", help="log HTTP calls; show tracebacks")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _add_change_set_commands(subparsers)
    _add_page_commands(subparsers)
    _add_sandbox_command(subparsers)
    demo = subparsers.add_parser("demo", help="a whole pull request's life against a sandbox")
    demo.set_defaults(handler=_run_demo)
    run = subparsers.add_parser(
        "run",
        help="the GitHub Action: sync the event's pull request (reads INPUT_* and GITHUB_*)",
    )
    run.set_defaults(handler=_run_action)
    validate = subparsers.add_parser("validate", help="check a mapping file")
    validate.add_argument("file", nargs="?", help="the mapping file (.github/approvalflow.yml)")
    validate.add_argument("--repo", help="repository to check patterns against (default: here)")
    validate.set_defaults(handler=_run_validate)
    return parser


def _run_api(args: argparse.Namespace) -> int:
    from approvalflow_sync import api_commands  # noqa: PLC0415 - keeps start-up light

    return api_commands.run(args, os.environ, sys.stdout)


def _run_sandbox(args: argparse.Namespace) -> int:
    from pathlib import Path  # noqa: PLC0415 - keeps start-up light

    from approvalflow_sync.sandbox import main_sandbox  # noqa: PLC0415 - keeps start-up light

    return main_sandbox(
        host=args.host,
        port=args.port,
        state=Path(args.state) if args.state else None,
        seed=Path(args.seed) if args.seed else None,
        latency=args.latency,
    )


def _run_demo(args: argparse.Namespace) -> int:
    from approvalflow_sync import demo  # noqa: PLC0415 - keeps start-up light

    return demo.run(sys.stdout)


def _run_action(args: argparse.Namespace) -> int:
    from approvalflow_sync import action  # noqa: PLC0415 - keeps start-up light

    return action.run_from_environment(sys.stdout)


def _run_validate(args: argparse.Namespace) -> int:
    from approvalflow_sync import validate  # noqa: PLC0415 - keeps start-up light

    return validate.run(args.file, args.repo, sys.stdout, sys.stderr)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``approvalflow-sync`` command."""
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.debug else logging.WARNING,
        format=f"{PROG}: %(message)s",
        stream=sys.stderr,
    )
    if not args.debug:
        # httpx logs every request at INFO; our own errors say what matters.
        logging.getLogger("httpx").setLevel(logging.WARNING)
    handler: Handler = args.handler
    try:
        return handler(args)
    except ApprovalFlowSyncError as error:
        if args.debug:
            raise
        print(f"{PROG}: error: {error}", file=sys.stderr)
        return error.exit_code
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
