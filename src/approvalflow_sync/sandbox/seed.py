"""Seeds: the spaces, workflows, pages, tokens and OAuth apps a sandbox starts from.

Reading is apart from checking: :func:`load_seed` reads a YAML or JSON file, :func:`validate_seed`
is pure and turns any mapping into a normalized seed or raises :class:`ConfigError` with one line
that names the source and the faulty field. Ids written as YAML numbers (``id: 12345``) are taken
as the digit strings the API uses.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TypedDict

from approvalflow_sync.errors import ConfigError


class WorkflowSeed(TypedDict):
    """A workflow of a space; only active ones are picked for pages without an assignment."""

    id: str
    name: str
    active: bool


class PageSeed(TypedDict):
    """A Confluence page; ``workflow`` is its assigned workflow, or None."""

    id: str
    title: str
    version: int
    workflow: str | None


class SpaceSeed(TypedDict):
    """A Confluence space with its workflows and pages."""

    id: str
    key: str
    name: str
    workflows: list[WorkflowSeed]
    pages: list[PageSeed]


class TokenSeed(TypedDict):
    """An access token and the scopes it was granted."""

    token: str
    scopes: list[str]


class OAuthClientSeed(TypedDict):
    """An OAuth 2.0 (3LO) app: its credentials, the scopes it may be granted, its callbacks.

    An empty ``callbackUrls`` accepts any redirect URI (handy for ``auth init --port 0``).
    """

    clientId: str
    clientSecret: str
    scopes: list[str]
    callbackUrls: list[str]


class Seed(TypedDict):
    """A whole validated seed; ``tokens`` and ``oauthClients`` come on top of the defaults."""

    spaces: list[SpaceSeed]
    tokens: list[TokenSeed]
    licence: bool
    restApi: bool
    oauthClients: list[OAuthClientSeed]


def _page(page_id: int, title: str, version: int) -> dict[str, Any]:
    return {"id": str(page_id), "title": title, "version": version}


DEFAULT_SEED: dict[str, Any] = {
    "spaces": [
        {
            "id": "12345",
            "key": "DOCS",
            "name": "Product documentation",
            "workflows": [{"id": "wf-docs-review", "name": "Docs review", "active": True}],
            "pages": [
                _page(67890, "Getting started", 3),
                _page(67891, "Authentication", 5),
                _page(67892, "Token refresh", 2),
                _page(67893, "API reference", 8),
                _page(67894, "Webhooks", 1),
                _page(67895, "Rate limits", 4),
                _page(67896, "Errors", 2),
                _page(67897, "Changelog", 12),
            ],
        },
        {
            "id": "54321",
            "key": "ENG",
            "name": "Engineering handbook",
            "workflows": [{"id": "wf-eng-review", "name": "Engineering review", "active": True}],
            "pages": [_page(76540, "Code review", 6), _page(76541, "On-call", 2)],
        },
        {
            "id": "99999",
            "key": "DRAFTS",
            "name": "Drafts (no workflow: its pages cannot be submitted)",
            "workflows": [],
            "pages": [_page(88800, "Ideas", 1), _page(88801, "Scratch", 1)],
        },
    ],
}
"""The built-in seed: two spaces whose pages are all submittable, one space with no workflow."""

_SEED_KEYS = {"spaces", "tokens", "licence", "restApi", "oauthClients"}
_SPACE_KEYS = {"id", "key", "name", "workflows", "pages"}
_WORKFLOW_KEYS = {"id", "name", "active"}
_PAGE_KEYS = {"id", "title", "version", "workflow"}
_TOKEN_KEYS = {"token", "scopes"}
_CLIENT_KEYS = {"clientId", "clientSecret", "scopes", "callbackUrls"}


class _SeedProblemError(Exception):
    """A problem at one place of the seed; ``validate_seed`` adds the source."""

    def __init__(self, where: str, problem: str) -> None:
        super().__init__(f"{where}: {problem}" if where else problem)


def load_seed(path: Path) -> Seed:
    """Read a YAML or JSON seed file (JSON when the name ends in ``.json``) and validate it."""
    source = f"seed file {path}"
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{source}: cannot read it ({_reason(exc)})") from None
    return validate_seed(_parse_text(text, json_only=path.suffix == ".json", source=source), source)


def _parse_text(text: str, *, json_only: bool, source: str) -> object:
    if json_only:
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise ConfigError(
                f"{source}: not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
            ) from None
    import yaml  # noqa: PLC0415 - only seed files need YAML; keeps the sandbox's start-up light

    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1} column {mark.column + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or exc.__class__.__name__
        raise ConfigError(f"{source}: not valid YAML: {problem}{where}") from None


def _reason(exc: BaseException) -> str:
    return getattr(exc, "strerror", None) or exc.__class__.__name__


def validate_seed(data: object, source: str = "seed") -> Seed:
    """Check a seed and fill its defaults; raise ConfigError naming ``source`` and the field."""
    try:
        return _seed(data)
    except _SeedProblemError as exc:
        raise ConfigError(f"{source}: {exc}") from None


def _seed(data: object) -> Seed:
    top = _mapping(data, "", _SEED_KEYS, "the seed")
    if "spaces" not in top:
        raise _SeedProblemError("", "needs a 'spaces' list")
    spaces = [_space(item, f"spaces[{i}]") for i, item in enumerate(_list(top["spaces"], "spaces"))]
    _unique([s["id"] for s in spaces], "spaces", "space id")
    _unique([w["id"] for s in spaces for w in s["workflows"]], "spaces", "workflow id")
    _unique([p["id"] for s in spaces for p in s["pages"]], "spaces", "page id")
    tokens = [
        _token(item, f"tokens[{i}]")
        for i, item in enumerate(_list(top.get("tokens", []), "tokens"))
    ]
    clients = [
        _oauth_client(item, f"oauthClients[{i}]")
        for i, item in enumerate(_list(top.get("oauthClients", []), "oauthClients"))
    ]
    _unique([c["clientId"] for c in clients], "oauthClients", "clientId")
    return {
        "spaces": spaces,
        "tokens": tokens,
        "licence": _bool(top.get("licence", True), "licence"),
        "restApi": _bool(top.get("restApi", True), "restApi"),
        "oauthClients": clients,
    }


def _space(data: object, where: str) -> SpaceSeed:
    raw = _mapping(data, where, _SPACE_KEYS, "a space")
    space_id = _digits(raw.get("id"), f"{where}.id")
    key = _text(raw.get("key", f"SPACE{space_id}"), f"{where}.key")
    workflows = [
        _workflow(item, f"{where}.workflows[{i}]")
        for i, item in enumerate(_list(raw.get("workflows", []), f"{where}.workflows"))
    ]
    pages = [
        _page_seed(item, f"{where}.pages[{i}]")
        for i, item in enumerate(_list(raw.get("pages", []), f"{where}.pages"))
    ]
    known = {w["id"] for w in workflows}
    for i, page in enumerate(pages):
        if page["workflow"] is not None and page["workflow"] not in known:
            raise _SeedProblemError(
                f"{where}.pages[{i}].workflow",
                f"{page['workflow']!r} is not a workflow of space {space_id}",
            )
    return {
        "id": space_id,
        "key": key,
        "name": _text(raw.get("name", key), f"{where}.name"),
        "workflows": workflows,
        "pages": pages,
    }


def _workflow(data: object, where: str) -> WorkflowSeed:
    raw = _mapping(data, where, _WORKFLOW_KEYS, "a workflow")
    workflow_id = _text(raw.get("id"), f"{where}.id")
    return {
        "id": workflow_id,
        "name": _text(raw.get("name", workflow_id), f"{where}.name"),
        "active": _bool(raw.get("active", True), f"{where}.active"),
    }


def _page_seed(data: object, where: str) -> PageSeed:
    raw = _mapping(data, where, _PAGE_KEYS, "a page")
    page_id = _digits(raw.get("id"), f"{where}.id")
    version = raw.get("version", 1)
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise _SeedProblemError(
            f"{where}.version", f"must be a whole number from 1, got {version!r}"
        )
    workflow = raw.get("workflow")
    return {
        "id": page_id,
        "title": _text(raw.get("title", f"Page {page_id}"), f"{where}.title"),
        "version": version,
        "workflow": None if workflow is None else _text(workflow, f"{where}.workflow"),
    }


def _token(data: object, where: str) -> TokenSeed:
    raw = _mapping(data, where, _TOKEN_KEYS, "a token")
    scopes = _list(raw.get("scopes"), f"{where}.scopes")
    return {
        "token": _text(raw.get("token"), f"{where}.token"),
        "scopes": [_text(s, f"{where}.scopes[{i}]") for i, s in enumerate(scopes)],
    }


def _oauth_client(data: object, where: str) -> OAuthClientSeed:
    raw = _mapping(data, where, _CLIENT_KEYS, "an OAuth client")
    scopes = _list(raw.get("scopes"), f"{where}.scopes")
    urls = _list(raw.get("callbackUrls", []), f"{where}.callbackUrls")
    return {
        "clientId": _text(raw.get("clientId"), f"{where}.clientId"),
        "clientSecret": _text(raw.get("clientSecret"), f"{where}.clientSecret"),
        "scopes": [_text(s, f"{where}.scopes[{i}]") for i, s in enumerate(scopes)],
        "callbackUrls": [_text(u, f"{where}.callbackUrls[{i}]") for i, u in enumerate(urls)],
    }


def _mapping(data: object, where: str, allowed: set[str], what: str) -> Mapping[str, object]:
    if not isinstance(data, Mapping):
        raise _SeedProblemError(where, f"must be a mapping ({what}), got {_kind(data)}")
    unknown = sorted(str(key) for key in data if key not in allowed)
    if unknown:
        raise _SeedProblemError(
            where, f"unknown field {unknown[0]!r} (allowed: {', '.join(sorted(allowed))})"
        )
    return data


def _list(data: object, where: str) -> list[object]:
    if not isinstance(data, list):
        raise _SeedProblemError(where, f"must be a list, got {_kind(data)}")
    return data


def _text(data: object, where: str) -> str:
    if isinstance(data, str) and data.strip():
        return data
    if data is None:
        raise _SeedProblemError(where, "is required")
    raise _SeedProblemError(where, f"must be a non-empty string, got {data!r}")


def _digits(data: object, where: str) -> str:
    if isinstance(data, int) and not isinstance(data, bool) and data >= 0:
        return str(data)
    if isinstance(data, str) and data.isascii() and data.isdigit():
        return data
    if data is None:
        raise _SeedProblemError(where, "is required")
    raise _SeedProblemError(where, f"must be a string of digits, got {data!r}")


def _bool(data: object, where: str) -> bool:
    if isinstance(data, bool):
        return data
    raise _SeedProblemError(where, f"must be true or false, got {data!r}")


def _unique(ids: list[str], where: str, what: str) -> None:
    seen: set[str] = set()
    for item in ids:
        if item in seen:
            raise _SeedProblemError(where, f"{what} {item!r} appears twice")
        seen.add(item)


def _kind(data: object) -> str:
    if data is None:
        return "nothing"
    names: dict[type, str] = {dict: "a mapping", list: "a list", str: "a string"}
    return names.get(type(data), type(data).__name__)
