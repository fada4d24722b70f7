"""Seeds: the spaces, workflows, pages, tokens and OAuth apps a sandbox starts from.

:func:`load_seed` reads a YAML or JSON file; :func:`validate_seed` (pure) checks any mapping
with strict pydantic models, or raises a one-line ConfigError naming the source and the field.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    model_validator,
)

from approvalflow_sync.errors import ConfigError


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


def _not_blank(value: str) -> str:
    if not value.strip():
        raise ValueError("must not be blank")
    return value


Text = Annotated[str, AfterValidator(_not_blank)]


def only_digits(value: str) -> str:
    """``value`` if it is a string of digits (the API's ids), else a ValueError."""
    if not (value.isascii() and value.isdigit()):
        raise ValueError("must be a string of digits")
    return value


Digits = Annotated[
    str, Field(strict=False, coerce_numbers_to_str=True), AfterValidator(only_digits)
]
"""An id; a YAML number (``id: 12345``) becomes the digit string the API uses."""


class Checked(BaseModel):
    """Strict checking, no unknown fields: seeds and the sandbox's requests."""

    model_config = ConfigDict(extra="forbid", strict=True)


class WorkflowSeed(Checked):
    """A workflow of a space; only active ones are picked for pages without an assignment."""

    id: Text
    name: Text = Field(default_factory=lambda given: given.get("id", ""))
    active: bool = True


class PageSeed(Checked):
    """A Confluence page; ``workflow`` is its assigned workflow, or None."""

    id: Digits
    title: Text = Field(default_factory=lambda given: f"Page {given.get('id')}")
    version: int = Field(default=1, ge=1)
    workflow: Text | None = None


class SpaceSeed(Checked):
    """A Confluence space with its workflows and pages."""

    id: Digits
    key: Text = Field(default_factory=lambda given: f"SPACE{given.get('id')}")
    name: Text = Field(default_factory=lambda given: given.get("key", ""))
    workflows: list[WorkflowSeed] = []
    pages: list[PageSeed] = []

    @model_validator(mode="after")
    def _consistent(self) -> SpaceSeed:
        known = {workflow.id for workflow in self.workflows}
        for page in self.pages:
            if page.workflow is not None and page.workflow not in known:
                raise ValueError(
                    f"page {page.id}: {page.workflow!r} is not a workflow of space {self.id}"
                )
        return self


class TokenSeed(Checked):
    """An access token and its scopes, sorted (seed files and ``/_sandbox/tokens``)."""

    token: Text
    scopes: Annotated[list[Text], AfterValidator(lambda scopes: sorted(set(scopes)))]


LOOPBACK_CALLBACK = "http://127.0.0.1/callback"
"""``auth init``'s callback, registered without a port: it matches any (RFC 8252, 7.3)."""


class OAuthClientSeed(Checked):
    """An OAuth 2.0 (3LO) app: its credentials, the scopes it may be granted, its callbacks.

    Without ``callbackUrls``, ``auth init``'s callback on any port (``LOOPBACK_CALLBACK``).
    """

    clientId: Text
    clientSecret: Text = Field(repr=False)
    scopes: list[Text]
    callbackUrls: list[Text] = [LOOPBACK_CALLBACK]


class Seed(Checked):
    """A whole validated seed; ``tokens`` and ``oauthClients`` come on top of the defaults."""

    spaces: list[SpaceSeed]
    tokens: list[TokenSeed] = []
    licence: bool = True
    restApi: bool = True
    oauthClients: list[OAuthClientSeed] = []

    @model_validator(mode="after")
    def _ids_are_unique(self) -> Seed:
        _unique("space id", [s.id for s in self.spaces])
        _unique("workflow id", [w.id for s in self.spaces for w in s.workflows])
        _unique("page id", [p.id for s in self.spaces for p in s.pages])
        _unique("clientId", [c.clientId for c in self.oauthClients])
        return self


def _unique(what: str, ids: list[str]) -> None:
    seen: set[str] = set()
    for item in ids:
        if item in seen:
            raise ValueError(f"{what} {item!r} appears twice")
        seen.add(item)


def load_seed(path: Path) -> Seed:
    """Read a YAML or JSON seed file (JSON when the name ends in ``.json``) and validate it."""
    source = f"seed file {path}"
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = getattr(exc, "strerror", None) or exc.__class__.__name__
        raise ConfigError(f"{source}: cannot read it ({reason})") from None
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


def validate_seed(data: object, source: str = "seed") -> Seed:
    """Check a seed and fill its defaults; raise ConfigError naming ``source`` and the field."""
    if isinstance(data, Seed):
        return data
    if not isinstance(data, Mapping):
        kind = "nothing" if data is None else type(data).__name__
        raise ConfigError(f"{source}: must be a mapping (the seed), got {kind}")
    try:
        return Seed.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(f"{source}: {first_problem(exc)}") from None


def first_problem(error: ValidationError) -> str:
    """The first problem as one line: ``spaces[0].pages[1].id: <what is wrong>``."""
    problems = sorted(error.errors(), key=lambda problem: problem["type"] != "extra_forbidden")
    first = problems[0]
    where = "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in first["loc"])
    message = first["msg"].removeprefix("Value error, ")
    if first["type"] == "extra_forbidden":
        message = "unknown field"
    elif first["type"] != "missing" and not isinstance(first["input"], (dict, list)):
        message += f", got {first['input']!r}"
    return f"{where.lstrip('.')}: {message}" if where else message
