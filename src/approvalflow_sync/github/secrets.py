"""Write a GitHub Actions secret: read the public key, seal the value, put it.

GitHub stores Actions secrets encrypted with a libsodium sealed box of the repository's (or
environment's, or organisation's) public key; only GitHub's runners can open it. The calls go
straight over httpx (two requests, no pagination), so tests can pass a client with
``httpx.MockTransport``, and PyGithub stays in ``gateway.py``.

The workflow's default ``GITHUB_TOKEN`` can never write secrets, whatever ``permissions:`` says;
the error for that case says which token to use instead. Neither the value nor the token ever
appears in an error or a log line.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import re
from dataclasses import dataclass
from typing import Literal
from urllib.parse import quote

import httpx
from nacl.exceptions import CryptoError
from nacl.public import PublicKey, SealedBox

from approvalflow_sync.errors import ConfigError, SecretWriteError

log = logging.getLogger("approvalflow_sync.github.secrets")

DEFAULT_API_URL = "https://api.github.com"
API_VERSION = "2022-11-28"
NOT_ACCESSIBLE_BY_INTEGRATION = "Resource not accessible by integration"
NOT_ACCESSIBLE_BY_PAT = "Resource not accessible by personal access token"
NEW_ORG_SECRET_VISIBILITY = "private"  # noqa: S105 - a visibility, not a secret
"""Which repositories may read a new organisation secret: GitHub's own default in its web UI."""

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_OWNER_REPO = re.compile(r"(?!\.\.?/)[A-Za-z0-9_.-]+/(?!\.\.?\Z)[A-Za-z0-9_.-]+")
"""Matched whole (``fullmatch``); ``.`` and ``..`` would climb out of the REST path."""
_ORG = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?")
TARGET_FORMS = "NAME (a secret of this repository), env:ENVIRONMENT/NAME or org:ORG/NAME"

Kind = Literal["repository", "environment", "organization"]


@dataclass(frozen=True)
class SecretTarget:
    """Where a secret goes: a repository's, one of its environments', or an organisation's."""

    kind: Kind
    name: str
    """The secret's name, upper-cased as GitHub stores it."""
    repo: str | None = None
    """``OWNER/REPO`` for repository and environment secrets."""
    environment: str | None = None
    org: str | None = None

    @property
    def spec(self) -> str:
        """The target as written: ``NAME``, ``env:ENVIRONMENT/NAME`` or ``org:ORG/NAME``."""
        if self.kind == "organization":
            return f"org:{self.org}/{self.name}"
        if self.kind == "environment":
            return f"env:{self.environment}/{self.name}"
        return self.name

    def describe(self) -> str:
        """The secret in words, for messages."""
        if self.kind == "organization":
            return f"organization secret {self.name} of {self.org}"
        if self.kind == "environment":
            return f"secret {self.name} of environment {self.environment!r} in {self.repo}"
        return f"repository secret {self.name} of {self.repo}"

    @property
    def base_path(self) -> str:
        """The REST path of the secrets collection the target lives in."""
        if self.kind == "organization":
            return f"/orgs/{self.org}/actions/secrets"
        if self.kind == "environment":
            env = quote(self.environment or "", safe="")
            return f"/repos/{self.repo}/environments/{env}/secrets"
        return f"/repos/{self.repo}/actions/secrets"

    @property
    def permission(self) -> str:
        """What a token needs to write it, as GitHub's token settings name it."""
        if self.kind == "organization":
            return (
                '"Secrets: Read and write" under Organization permissions (a GitHub App: '
                '"Organization secrets: write"; a classic token: admin:org)'
            )
        if self.kind == "environment":
            return (
                '"Environments: Read and write" under Repository permissions '
                "(a classic token: repo)"
            )
        return '"Secrets: Read and write" under Repository permissions (a classic token: repo)'


def parse_secret_target(target: str, repo: str | None) -> SecretTarget:
    """A target written ``NAME``, ``env:ENVIRONMENT/NAME`` or ``org:ORG/NAME``.

    ``repo`` (``OWNER/REPO``, usually ``GITHUB_REPOSITORY``) is where repository and environment
    secrets go. Raises :class:`ConfigError` naming the problem and the accepted forms.
    """
    text = target.strip()
    prefix, colon, rest = text.partition(":")
    if not colon:
        return SecretTarget("repository", _secret_name(text, target), repo=_repo(repo, target))
    if prefix not in ("env", "org"):
        raise ConfigError(
            f"secret target {target!r}: unknown prefix {prefix + ':'!r}; use {TARGET_FORMS}"
        )
    where, slash, name = rest.rpartition("/")
    if not slash or not where.strip():
        raise ConfigError(
            f"secret target {target!r}: expected {prefix}:"
            f"{'ENVIRONMENT' if prefix == 'env' else 'ORG'}/NAME; use {TARGET_FORMS}"
        )
    if prefix == "org":
        if not _ORG.fullmatch(where):
            raise ConfigError(f"secret target {target!r}: {where!r} is not an organisation login")
        return SecretTarget("organization", _secret_name(name, target), org=where)
    if where.strip() in (".", ".."):
        raise ConfigError(f"secret target {target!r}: {where!r} is not an environment name")
    return SecretTarget(
        "environment",
        _secret_name(name, target),
        repo=_repo(repo, target),
        environment=where.strip(),
    )


def _secret_name(name: str, target: str) -> str:
    if not _NAME.fullmatch(name):
        raise ConfigError(
            f"secret target {target!r}: {name!r} is not a secret name (letters, digits and "
            "underscores, not starting with a digit)"
        )
    if name.upper().startswith("GITHUB_"):
        raise ConfigError(
            f"secret target {target!r}: secret names cannot start with GITHUB_ (GitHub refuses)"
        )
    return name.upper()


def _repo(repo: str | None, target: str) -> str:
    if not repo or not repo.strip():
        raise ConfigError(
            f"secret target {target!r}: needs the repository (OWNER/REPO; in a workflow, "
            "GITHUB_REPOSITORY); an organisation secret is written org:ORG/NAME"
        )
    if not _OWNER_REPO.fullmatch(repo.strip()):
        raise ConfigError(f"repository {repo!r}: expected OWNER/REPO")
    return repo.strip()


def seal(public_key: str, value: str) -> str:
    """``value`` in a libsodium sealed box of a base64 public key, as base64 (GitHub's format)."""
    try:
        key = PublicKey(base64.b64decode(public_key, validate=True))
    except (binascii.Error, CryptoError, ValueError, TypeError):
        raise ValueError("the public key is not a base64 Curve25519 key") from None
    return base64.b64encode(SealedBox(key).encrypt(value.encode("utf-8"))).decode("ascii")


def write_secret(
    api_url: str,
    token: str,
    target: str | SecretTarget,
    value: str,
    *,
    repo: str | None = None,
    http: httpx.Client | None = None,
) -> SecretTarget:
    """Create or overwrite an Actions secret with ``value``; returns where it went.

    ``target`` is parsed by :func:`parse_secret_target` with ``repo`` when given as text.
    ``api_url`` is ``GITHUB_API_URL`` (``https://api.github.com``, or ``.../api/v3`` on
    Enterprise Server). Raises :class:`SecretWriteError` with what to do when GitHub refuses.
    """
    where = target if isinstance(target, SecretTarget) else parse_secret_target(target, repo)
    if not value:
        raise ConfigError(f"{where.describe()}: refusing to write an empty value")
    own = http is None
    client = http or httpx.Client(timeout=30.0)
    try:
        _Session(client, api_url.rstrip("/"), token, where).write(value)
        return where
    finally:
        if own:
            client.close()


class _Session:
    """The two or three calls of one write: one client, one token, one target."""

    def __init__(self, http: httpx.Client, api_url: str, token: str, target: SecretTarget):
        self.http = http
        self.base = f"{api_url}{target.base_path}"
        self.target = target
        self.headers = {
            "Authorization": f"Bearer {token}",
            "Accept": "application/vnd.github+json",
            "X-GitHub-Api-Version": API_VERSION,
            "User-Agent": "approvalflow-sync",
        }

    def __repr__(self) -> str:
        return f"_Session({self.base!r}, <token hidden>)"

    def write(self, value: str) -> None:
        target = self.target
        reading = f"read the public key for the {target.describe()}"
        key = _json(self.call("GET", "/public-key"))
        if not isinstance(key, dict) or not isinstance(key.get("key"), str) or "key_id" not in key:
            raise SecretWriteError(reading, "the answer has no key and key_id", target=target.spec)
        try:
            sealed = seal(key["key"], value)
        except ValueError as exc:
            raise SecretWriteError(reading, str(exc), target=target.spec) from None
        body: dict[str, object] = {"encrypted_value": sealed, "key_id": str(key["key_id"])}
        if target.kind == "organization":
            body.update(self.org_access())
        self.call("PUT", f"/{target.name}", body)
        log.info("wrote the %s", target.describe())

    def org_access(self) -> dict[str, object]:
        """Keep an existing organisation secret's visibility (and selected repositories)."""
        try:
            current = self.http.get(f"{self.base}/{self.target.name}", headers=self.headers)
        except httpx.HTTPError:
            current = None
        data = _json(current) if current is not None and current.status_code == 200 else None
        visibility = data.get("visibility") if isinstance(data, dict) else None
        if visibility not in ("all", "private", "selected"):
            return {"visibility": NEW_ORG_SECRET_VISIBILITY}
        if visibility != "selected":
            return {"visibility": visibility}
        repos = _json(self.call("GET", f"/{self.target.name}/repositories"))
        listed = repos.get("repositories", []) if isinstance(repos, dict) else []
        ids = [r["id"] for r in listed if isinstance(r, dict) and isinstance(r.get("id"), int)]
        return {"visibility": "selected", "selected_repository_ids": ids}

    def call(self, method: str, path: str, body: dict[str, object] | None = None) -> httpx.Response:
        target = self.target
        operation = f"{'write' if method == 'PUT' else 'read'} the {target.describe()}"
        try:
            response = self.http.request(method, self.base + path, headers=self.headers, json=body)
        except httpx.HTTPError as exc:
            raise SecretWriteError(
                operation,
                f"no answer ({exc.__class__.__name__}); check GITHUB_API_URL and the network",
                target=target.spec,
            ) from None
        if response.status_code >= 400:
            raise _explain(operation, response, target)
        return response


def _explain(operation: str, response: httpx.Response, target: SecretTarget) -> SecretWriteError:
    """GitHub's refusal, with the cause and the fix for the cases users meet."""
    data = _json(response)
    message = data.get("message") if isinstance(data, dict) else None
    text = str(message or f"no message ({len(response.content)} bytes)")
    status = response.status_code
    if status == 403 and NOT_ACCESSIBLE_BY_INTEGRATION in text:
        text += (
            " (this token cannot write secrets: the workflow's default GITHUB_TOKEN never can, "
            "whatever `permissions:` says. Pass `secrets-token`: a fine-grained personal access "
            f"token with {target.permission} on {_scope(target)}, or a GitHub App installation "
            "token with that permission)"
        )
    elif status == 403 and NOT_ACCESSIBLE_BY_PAT in text:
        text += (
            f" (the personal access token lacks {target.permission} on {_scope(target)}: "
            "edit the token's permissions, or use another token)"
        )
    elif status == 403:
        text += f" (the token needs {target.permission} on {_scope(target)})"
    elif status == 404:
        text += (
            f" ({_scope(target)} does not exist, or the token cannot see it: a fine-grained "
            "token must include the repository under 'Repository access', or the organisation "
            "as its resource owner)"
        )
    elif status == 401:
        text += " (the token is invalid or expired: check the secrets token)"
    elif status == 422:
        text += (
            " (GitHub could not open the sealed value; the public key may have changed "
            "between reading and writing: run again)"
        )
    return SecretWriteError(operation, text, target=target.spec, status=status)


def _scope(target: SecretTarget) -> str:
    if target.kind == "organization":
        return f"the organisation {target.org}"
    if target.kind == "environment":
        return f"the repository {target.repo} (environment {target.environment!r})"
    return f"the repository {target.repo}"


def _json(response: httpx.Response) -> object:
    try:
        return json.loads(response.content) if response.content.strip() else None
    except (ValueError, UnicodeDecodeError):
        return None
