"""The API commands of the CLI: one call each, printed as a table or as JSON."""

from __future__ import annotations

import argparse
import json
import re
from collections.abc import Callable, Mapping
from typing import TextIO

from pydantic_core import to_jsonable_python

from approvalflow_sync.approvalflow.client import ApprovalFlowClient
from approvalflow_sync.approvalflow.models import SubmitAnswer
from approvalflow_sync.cli import terminal
from approvalflow_sync.cli.settings import connection_of
from approvalflow_sync.errors import (
    EXIT_FAILURE,
    APIConnectionError,
    ApprovalFlowSyncError,
    ConfigError,
)

_PAGE_ID = re.compile(r"^\d+$")
Call = Callable[[ApprovalFlowClient, argparse.Namespace], tuple[object, str]]


def page_ids(values: list[str] | None, flag: str = "--page") -> list[str] | None:
    """Page ids from repeated or comma-separated flags, each checked to be digits."""
    if values is None:
        return None
    ids = [part.strip() for value in values for part in value.split(",") if part.strip()]
    for page_id in ids:
        if not _PAGE_ID.match(page_id):
            raise ConfigError(f"{flag}: {page_id!r} is not a page id; page ids are digits only")
    if not ids:
        raise ConfigError(f"{flag}: no page id given")
    return ids


def _list(client: ApprovalFlowClient, args: argparse.Namespace) -> tuple[object, str]:
    found = client.list_change_sets(args.space)
    return found, terminal.change_set_list(found)


def _show(client: ApprovalFlowClient, args: argparse.Namespace) -> tuple[object, str]:
    cs = client.get_change_set(args.id)
    return cs, terminal.change_set(cs)


def _create(client: ApprovalFlowClient, args: argparse.Namespace) -> tuple[object, str]:
    pages = page_ids(args.pages) or []
    try:
        answer = client.create_change_set(
            args.space, args.title, pages, summary=args.summary, reference_url=args.reference_url
        )
    except APIConnectionError as error:
        if error.maybe_applied:
            raise APIConnectionError(
                f"{error.detail}; before creating it again, check with "
                f"`approvalflow-sync change-sets list --space {args.space}`",
                method=error.method,
                path=error.path,
                maybe_applied=True,
            ) from error
        raise
    cs_id = answer.id if answer is not None else _created_id(client, args)
    if cs_id is None:
        listing = f"`approvalflow-sync change-sets list --space {args.space}`"
        return {"success": True}, f"Created; the answer does not name it: {listing} shows it."
    cs = client.get_change_set(cs_id)  # the documented read, as show prints it
    return cs, f"Created {terminal.clean(cs.id)}.\n\n{terminal.change_set(cs)}"


def _created_id(client: ApprovalFlowClient, args: argparse.Namespace) -> str | None:
    """The new change set's id from the space's list, when the write's answer names none (the
    reference does not document it): the newest with its title and link."""
    made = [
        cs
        for cs in client.list_change_sets(args.space)
        if (cs.title, cs.referenceUrl) == (args.title, args.reference_url)
    ]
    return max(made, key=lambda cs: (cs.createdAt or "", cs.id)).id if made else None


def _update(client: ApprovalFlowClient, args: argparse.Namespace) -> tuple[object, str]:
    if not any((args.title, args.summary, args.reference_url, args.pages)):
        raise ConfigError(
            "change-sets update: nothing to change; give --title, --summary, "
            "--reference-url or --page"
        )
    client.update_change_set(
        args.id,
        title=args.title,
        summary=args.summary,
        reference_url=args.reference_url,
        page_ids=page_ids(args.pages),
    )
    cs = client.get_change_set(args.id)  # the documented read, not the write's answer
    return cs, f"Updated {terminal.clean(cs.id)}.\n\n{terminal.change_set(cs)}"


def _archive(client: ApprovalFlowClient, args: argparse.Namespace) -> tuple[object, str]:
    cs = client.archive_change_set(args.id) or client.get_change_set(args.id)
    return cs, f"Archived {terminal.clean(cs.id)}."


def _submit(client: ApprovalFlowClient, args: argparse.Namespace) -> tuple[object, str]:
    answer = client.submit_change_set(args.id)
    return answer, "" if args.json else terminal.submit(answer, _titles(client, args.id))


def _preflight(client: ApprovalFlowClient, args: argparse.Namespace) -> tuple[object, str]:
    answer = client.preflight_change_set(args.id)
    return answer, "" if args.json else terminal.preflight(answer, _titles(client, args.id))


def _titles(client: ApprovalFlowClient, change_set_id: str) -> dict[str, str]:
    """The pages' titles where the detail read gives them; none if that read fails."""
    try:
        refs = client.get_change_set(change_set_id).pageRefs
    except ApprovalFlowSyncError:
        return {}
    return {ref.pageId: title for ref in refs if (title := terminal.page_title(ref))}


def _page_submit(client: ApprovalFlowClient, args: argparse.Namespace) -> tuple[object, str]:
    (page,) = page_ids([args.page], "PAGE") or []
    answer = client.submit_page(page)
    return answer, terminal.page_submit(answer)


def _page_preflight(client: ApprovalFlowClient, args: argparse.Namespace) -> tuple[object, str]:
    (page,) = page_ids([args.page], "PAGE") or []
    answer = client.preflight_page(page)
    return answer, terminal.page_preflight(answer)


CALLS: dict[str, Call] = {
    "change-sets list": _list,
    "change-sets show": _show,
    "change-sets create": _create,
    "change-sets update": _update,
    "change-sets archive": _archive,
    "change-sets submit": _submit,
    "change-sets preflight": _preflight,
    "pages submit": _page_submit,
    "pages preflight": _page_preflight,
}


def as_json(value: object) -> str:
    """Models and lists of models as indented JSON, unknown fields included."""
    return json.dumps(to_jsonable_python(value, exclude_none=True), indent=2, ensure_ascii=False)


def run(args: argparse.Namespace, env: Mapping[str, str], out: TextIO) -> int:
    """Run one API command; errors propagate to the CLI, which picks the exit code.

    A change-set submit that submitted nothing exits 1, as a refused ``pages submit`` does.
    """
    connection = connection_of(args, env)
    call = CALLS[args.command_name]
    with ApprovalFlowClient(connection.base_url, connection.token) as client:
        value, text = call(client, args)
    print(as_json(value) if args.json else text, file=out)
    nothing_submitted = isinstance(value, SubmitAnswer) and not terminal.submitted_count(value)
    return EXIT_FAILURE if nothing_submitted else 0
