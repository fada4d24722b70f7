"""Write a GitHub Actions secret of a repository, an environment or an organisation, through
PyGithub and the gateway's requester (the default ``GITHUB_TOKEN`` never can)."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import quote

from github import GithubException
from github.Environment import Environment
from github.Organization import Organization
from github.Repository import Repository
from nacl.exceptions import CryptoError

from approvalflow_sync.errors import ConfigError, GitHubError, SecretWriteError
from approvalflow_sync.github.gateway import (
    GITHUB_RETRY,
    NOT_ACCESSIBLE,
    HostBoundRequester,
    github_message,
)
from approvalflow_sync.retry import RetryPolicy

log = logging.getLogger("approvalflow_sync.github.secrets")

NOT_ACCESSIBLE_BY_PAT = "Resource not accessible by personal access token"

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
    """Upper-cased, as GitHub stores it."""
    repo: str | None = None
    """``OWNER/REPO``; for an organisation secret, the one repository a new one is shared with."""
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
    """A target written as :data:`TARGET_FORMS`, in ``repo`` (``OWNER/REPO``); else ConfigError."""
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
        return SecretTarget(
            "organization",
            _secret_name(name, target),
            org=where,
            repo=_repo(repo, target) if repo else None,
        )
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


def write_secret(
    api_url: str,
    token: str,
    target: str | SecretTarget,
    value: str,
    *,
    repo: str | None = None,
    retry: RetryPolicy = GITHUB_RETRY,
) -> SecretTarget:
    """Create or overwrite an Actions secret with ``value``; returns where it went.
    :class:`SecretWriteError` says what to do when refused."""
    where = target if isinstance(target, SecretTarget) else parse_secret_target(target, repo)
    if not value:
        raise ConfigError(f"{where.describe()}: refusing to write an empty value")
    operation = f"write the {where.describe()}"
    try:
        requester = HostBoundRequester(api_url.rstrip("/"), token, retry)
    except ValueError:
        raise ConfigError(f"GitHub API URL {api_url!r}: not a URL") from None
    try:
        _write(requester, where, value)
    except GithubException as exc:
        raise _explain(operation, exc, where) from None
    except (GitHubError, OSError, CryptoError, ValueError, TypeError, KeyError) as exc:
        raise SecretWriteError(operation, _failure(exc), target=where.spec) from None
    finally:
        requester.close()
    log.info("wrote the %s", where.describe())
    return where


def _failure(error: Exception) -> str:
    """What went wrong when GitHub refused nothing: a link refused, no answer, an odd answer."""
    if isinstance(error, GitHubError):  # a redirect or a link to another host
        return str(error)
    if isinstance(error, OSError):  # requests' errors are OSErrors
        return f"no answer ({error.__class__.__name__}); check GITHUB_API_URL and the network"
    # a key or a list not as documented
    return f"GitHub's answer could not be used ({error.__class__.__name__}); check GITHUB_API_URL"


def _write(requester: HostBoundRequester, target: SecretTarget, value: str) -> None:
    if target.kind == "repository":
        Repository(requester, url=f"/repos/{target.repo}").create_secret(target.name, value)
    elif target.kind == "environment":
        environment = quote(target.environment or "", safe="")
        url = f"/repos/{target.repo}/environments/{environment}"
        Environment(requester, url=url).create_secret(target.name, value)
    else:
        org = Organization(requester, url=f"/orgs/{target.org}")
        org.create_secret(target.name, value, **_org_access(org, target, requester))


def _org_access(
    org: Organization, target: SecretTarget, requester: HostBoundRequester
) -> dict[str, Any]:
    """Keep an existing organisation secret's visibility and repositories; a new one (404) is
    shared with ``target.repo`` alone."""
    secret = org.get_secret(target.name)
    try:
        visibility = secret.visibility
    except GithubException as exc:
        if exc.status != 404:
            raise
        if target.repo is None:
            raise ConfigError(
                f"{target.describe()}: a new organisation secret is shared with the current "
                "repository only; give the repository (OWNER/REPO)"
            ) from None
        repository = Repository(requester, url=f"/repos/{target.repo}")
        return {"visibility": "selected", "selected_repositories": [repository]}
    if visibility != "selected":
        return {"visibility": visibility}
    return {"visibility": visibility, "selected_repositories": list(secret.selected_repositories)}


def _explain(operation: str, error: GithubException, target: SecretTarget) -> SecretWriteError:
    """GitHub's refusal, with the cause and the fix for the cases users meet."""
    text, status = github_message(error), error.status
    if status == 403 and NOT_ACCESSIBLE in text:
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
