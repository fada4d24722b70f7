"""``approvalflow-sync record DIR``: a real site's answers to the read calls, as a vcrpy cassette.

What names the customer is replaced by placeholders, the same wherever a value recurs; space,
page, change set and workflow ids are kept, so that replayed requests match.
"""

from __future__ import annotations

import argparse
import copy
import json
import re
from collections import Counter
from collections.abc import Callable, Mapping
from functools import partial
from pathlib import Path
from typing import Any, TextIO, TypeVar
from urllib.parse import parse_qsl, urlencode, urlsplit

from approvalflow_sync.approvalflow import models
from approvalflow_sync.approvalflow.client import ApprovalFlowClient
from approvalflow_sync.cli import terminal
from approvalflow_sync.cli.api import page_ids
from approvalflow_sync.cli.settings import connection_of
from approvalflow_sync.errors import (
    APIConnectionError,
    APIError,
    AuthenticationError,
    ConfigError,
)
from approvalflow_sync.retry import RetryPolicy

CASSETTE = "approvalflow-reads.yaml"
RECORDED_BASE_URL = "https://approvalflow.invalid"
"""The base URL in recorded requests; a replaying client uses it."""
MATCH_ON = ("method", "path", "query", "body")

_KEPT_KEYS = frozenset({"id", "spaceId", "pageId", "changeSetId", "workflowId"})
_SECRET_WORDS = ("title", "summary", "url", "account", "email", "name", "comment", "description")
_KEPT_HEADERS = ("content-type", "retry-after", "x-ratelimit", "ratelimit")
_GENERIC_SEGMENTS = frozenset({"", "svc", "confluence", "apps", "gateway", "api"})
_PATTERNS = (
    ("url", re.compile(r"https?://[^\s\"'<>]+")),
    ("account", re.compile(r"\b(?:\d{6}:[0-9a-f-]{36}|[0-9a-f]{24})\b")),
    ("email", re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")),
)
T = TypeVar("T")


def recorder(directory: Path, record_mode: str, redactor: Redactor | None = None) -> Any:
    """The vcrpy configuration shared by ``record`` and the replaying tests (``tests/recorded``)."""
    try:
        import vcr  # noqa: PLC0415 - an optional dependency, needed by this command only
    except ImportError:
        raise ConfigError(
            "record: needs vcrpy; install it with pip install 'approvalflow-sync[record]'"
        ) from None
    return vcr.VCR(
        cassette_library_dir=str(directory),
        record_mode=record_mode,
        match_on=MATCH_ON,
        filter_headers=["authorization"],
        decode_compressed_response=True,
        before_record_request=redactor.request if redactor else None,
        before_record_response=redactor.response if redactor else None,
    )


def _kind(key: str) -> str | None:
    """What a field holds, judged by its name: ``title``, ``account`` ...; None: not secret."""
    lowered = key.lower()
    if key.endswith("By"):
        return "account"
    return next((word for word in _SECRET_WORDS if word in lowered), None)


class Redactor:
    """Replaces what names the customer, each value by the same placeholder every time."""

    def __init__(self, base_url: str, token: str) -> None:
        self._base = urlsplit(base_url)
        self._counts: Counter[str] = Counter()
        self._placeholders = {token: "<token>", base_url.rstrip("/"): RECORDED_BASE_URL}
        if self._base.hostname and self._base.hostname != "api.atlassian.com":
            self._placeholders[self._base.hostname] = "site.invalid"
        for segment in re.split(r"[/_]", self._base.path):
            if segment not in _GENERIC_SEGMENTS:
                self._placeholder(segment, "id")

    def _placeholder(self, value: str, kind: str) -> str:
        if value not in self._placeholders:
            self._counts[kind] += 1
            number = self._counts[kind]
            self._placeholders[value] = (
                f"https://redacted.invalid/{number}" if kind == "url" else f"{kind}-{number}"
            )
        return self._placeholders[value]

    def _scrub(self, text: str) -> str:
        """Free text: known values, then any URL, account id or e-mail address, replaced."""
        for value in sorted(self._placeholders, key=len, reverse=True):
            if len(value) >= 6:
                text = text.replace(value, self._placeholders[value])
        for kind, pattern in _PATTERNS:
            text = pattern.sub(partial(self._matched, kind=kind), text)
        return text

    def _matched(self, match: re.Match[str], kind: str) -> str:
        placed = match[0] in self._placeholders.values()
        return match[0] if placed else self._placeholder(match[0], kind)

    def _walk(self, value: Any, kind: str | None = None) -> Any:
        if isinstance(value, dict):
            return {
                key: item
                if kind is None and key in _KEPT_KEYS
                else self._walk(item, kind or _kind(key))
                for key, item in value.items()
            }
        if isinstance(value, list):
            return [self._walk(item, kind) for item in value]
        if isinstance(value, str):
            return self._placeholder(value, kind) if kind else self._scrub(value)
        return value

    def request(self, request: Any) -> Any:
        """A vcrpy request on the placeholder base URL, with no header but the content's type.

        The query is scrubbed like an answer, so a cursor taken from a redacted answer matches.
        """
        request = copy.deepcopy(request)
        parts = urlsplit(request.uri)
        path = parts.path.removeprefix(self._base.path.rstrip("/"))
        query = urlencode([(name, self._scrub(value)) for name, value in parse_qsl(parts.query)])
        request.uri = RECORDED_BASE_URL + path + (f"?{query}" if query else "")
        request.headers = {
            name: value for name, value in request.headers.items() if name.lower() == "content-type"
        }
        return request

    def response(self, response: dict[str, Any]) -> dict[str, Any]:
        """A vcrpy response with a few headers and its body redacted, JSON or not."""
        body = response["body"]["string"]
        text = body.decode("utf-8", "replace") if isinstance(body, bytes) else str(body)
        try:
            text = json.dumps(self._walk(json.loads(text)), ensure_ascii=False)
        except ValueError:
            text = self._scrub(text)
        headers = {
            name: values
            for name, values in response["headers"].items()
            if name.lower().startswith(_KEPT_HEADERS)
        }
        return {**response, "headers": headers, "body": {"string": text.encode()}}


def _attempt(
    said: list[str], what: str, call: Callable[[], T], describe: Callable[[T], str]
) -> T | None:
    """Make one read and say what it answered; an error answer is recorded and said too."""
    try:
        value = call()
    except (AuthenticationError, APIConnectionError):
        raise  # no later call would get through either
    except APIError as error:
        said.append(f"{what}: answered {error.status}: {terminal.clean(error.detail)}")
        return None
    said.append(f"{what}: {describe(value)}")
    return value


def _picked(listed: list[models.ChangeSet], limit: int) -> list[str]:
    """Up to ``limit`` change set ids, one of each status first (an archived one is wanted)."""
    firsts = {cs.status: cs.id for cs in reversed(listed)}
    return list(dict.fromkeys([*firsts.values(), *(cs.id for cs in listed)]))[:limit]


def _preflight_text(answer: models.PreflightAnswer) -> str:
    can = sum(result.canSubmit is True for result in answer.results)
    return f"{can} of {len(answer.results)} pages can be submitted"


def record_reads(
    client: ApprovalFlowClient, spaces: list[str], pages: list[str], limit: int
) -> list[str]:
    """The read calls, one line each; the same arguments replay the same calls from a cassette.

    Per space: the list, then ``limit`` change sets read and preflighted; then the given pages
    and ``limit`` pages of those change sets, preflighted one by one.
    """
    said: list[str] = []
    found: list[str] = []
    for space in spaces:
        listed = _attempt(
            said, f"list space {space}", partial(client.list_change_sets, space), _count
        )
        for cs_id in _picked(listed or [], limit):
            detail = _attempt(
                said, f"detail {cs_id}", partial(client.get_change_set, cs_id), _state
            )
            found.extend(detail.page_ids if detail else [])
            preflight = partial(client.preflight_change_set, cs_id)
            _attempt(said, f"preflight {cs_id}", preflight, _preflight_text)
    for page in list(dict.fromkeys([*pages, *found]))[: len(pages) + limit]:
        _attempt(said, f"page preflight {page}", partial(client.preflight_page, page), _eligible)
    return said


def _count(listed: list[models.ChangeSet]) -> str:
    return f"{len(listed)} change sets"


def _state(cs: models.ChangeSet) -> str:
    return f"status {terminal.clean(cs.status)}, {len(cs.pageRefs)} pages"


def _eligible(answer: models.PagePreflightAnswer) -> str:
    return "can be submitted" if answer.canSubmit else "blocked"


def run(args: argparse.Namespace, env: Mapping[str, str], out: TextIO) -> int:
    """Record the read calls into ``DIR/approvalflow-reads.yaml``, redacted; say what they got."""
    if args.limit < 1:
        raise ConfigError(f"--limit: must be 1 or more, got {args.limit}")
    connection = connection_of(args, env)
    directory = Path(args.directory)
    path = directory / CASSETTE
    if path.exists():
        raise ConfigError(f"record: {path} exists; move it away or give another DIR")
    try:  # before any call: a DIR that cannot be written is the user's to fix, not a traceback
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise ConfigError(
            f"record: DIR {directory} cannot be made ({error.strerror}); give a writable directory"
        ) from None
    cassettes = recorder(directory, "all", Redactor(connection.base_url, connection.token))
    client = ApprovalFlowClient(
        connection.base_url, connection.token, retry=RetryPolicy.no_backoff(1)
    )
    with client, cassettes.use_cassette(CASSETTE):
        said = record_reads(client, args.space, page_ids(args.pages) or [], args.limit)
    print("\n".join(said), file=out)
    print(
        f"\nRecorded {len(said)} read calls into {path}. The token, the base URL, titles, "
        "summaries, URLs, names, e-mail addresses and account ids are replaced by placeholders; "
        "space, page and change set ids are kept. Read the file before you share it.",
        file=out,
    )
    return 0
