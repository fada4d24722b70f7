"""The ApprovalFlow base URL: given whole, or built from its documented parts.

Two forms are documented and equivalent::

    https://api.atlassian.com/svc/confluence/<cloud-id>/apps/<app-id>_<env-id>
    https://<site>.atlassian.net/gateway/api/svc/confluence/apps/<app-id>_<env-id>
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from approvalflow_sync.errors import ConfigError

DEFAULT_TOKEN_URL = "https://auth.atlassian.com/oauth/token"  # noqa: S105 - a URL, no secret
"""Atlassian's OAuth token endpoint: here, so the action's inputs need not load the OAuth module."""

_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]*$")
_SITE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]*(\.[A-Za-z0-9-]+)+$")
_FORM = re.compile(
    r"/svc/confluence/(?:(?P<cloud>[^/]+)/)?apps/(?P<app>[^/_]+)(?:_(?P<env>[^/]+))?$"
)
"""The path of both documented forms; ids never hold ``_``, so it parts app and environment."""


@dataclass(frozen=True)
class BaseURLParts:
    """The ids a base URL holds; None where it holds none (a custom URL, the sandbox's)."""

    cloud_id: str | None = None
    site: str | None = None
    app_id: str | None = None
    environment_id: str | None = None


def url_parts(base_url: str) -> BaseURLParts:
    """The ids in ``base_url``, read back from the documented forms (the inverse of building)."""
    parts = urlsplit(base_url)
    found = _FORM.search(parts.path.rstrip("/"))
    if found is None:
        return BaseURLParts()
    gateway = parts.path.startswith("/gateway/api/")
    return BaseURLParts(
        cloud_id=found["cloud"],
        site=parts.hostname if gateway else None,
        app_id=found["app"],
        environment_id=found["env"],
    )


def is_loopback(host: str) -> bool:
    """Whether ``host`` names this machine (plain http is allowed only there)."""
    try:
        return host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def url_problem(url: str, name: str) -> str | None:
    """What is wrong with ``url`` (absolute, https, or http on loopback only), or ``None``."""
    try:
        parts = urlsplit(url.strip())
        parts.port  # noqa: B018 - raises ValueError for a port out of range or not a number
    except ValueError:
        return f"{name}: {url!r} is not a valid URL (check the brackets and port)"
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return f"{name}: {url!r} is not an absolute URL; give it as https://host/path"
    if parts.scheme == "http" and not is_loopback(parts.hostname):
        return (
            f"{name}: {url!r} uses plain http; use https (http is allowed only for "
            "127.0.0.1 or localhost, such as the sandbox)"
        )
    if parts.query or parts.fragment:
        return f"{name}: {url!r} has a query or fragment; give the base URL only"
    return None


def check_url(url: str, name: str) -> str:
    """``url`` without a trailing slash, if it is absolute and https (or http on loopback)."""
    problem = url_problem(url, name)
    if problem is not None:
        raise ConfigError(problem)
    return url.strip().rstrip("/")


def _check_id(value: str, name: str) -> str:
    value = value.strip()
    if not _ID.match(value):
        raise ConfigError(
            f"{name}: {value!r} is not an id (letters, digits and hyphens); copy it from the "
            "developer console or the site's /_edge/tenant_info"
        )
    return value


def build_base_url(
    *,
    base_url: str | None = None,
    cloud_id: str | None = None,
    site: str | None = None,
    app_id: str | None = None,
    environment_id: str | None = None,
    name_prefix: str = "",
) -> str:
    """The base URL from whichever form was given, or a :class:`ConfigError` saying what to give;
    ``name_prefix`` goes before setting names in messages (``--`` for flags)."""
    p = name_prefix
    parts = {"cloud-id": cloud_id, "site": site, "app-id": app_id, "environment-id": environment_id}
    given = [f"{p}{key}" for key, value in parts.items() if value]
    if base_url and given:
        raise ConfigError(
            f"{p}base-url: given together with {', '.join(given)}; give the whole base URL or "
            "its parts, not both"
        )
    if base_url:
        return check_url(base_url, f"{p}base-url")
    if not given:
        raise ConfigError(
            f"{p}base-url: not set; give the ApprovalFlow base URL, or {p}cloud-id (or {p}site), "
            f"{p}app-id and {p}environment-id"
        )
    if cloud_id and site:
        raise ConfigError(f"{p}cloud-id and {p}site: both given; give one of them")
    missing = [f"{p}{key}" for key in ("app-id", "environment-id") if not parts[key]]
    if not (cloud_id or site):
        missing.insert(0, f"{p}cloud-id")
    if missing:
        raise ConfigError(
            f"{', '.join(missing)}: missing to build the base URL; give them, or the whole "
            f"{p}base-url"
        )
    app = _check_id(app_id or "", f"{p}app-id")
    env = _check_id(environment_id or "", f"{p}environment-id")
    if cloud_id:
        cloud = _check_id(cloud_id, f"{p}cloud-id")
        return f"https://api.atlassian.com/svc/confluence/{cloud}/apps/{app}_{env}"
    host = (site or "").strip().removeprefix("https://").rstrip("/")
    if not _SITE.match(host):
        raise ConfigError(f"{p}site: {site!r} is not a host name; give it as acme.atlassian.net")
    return f"https://{host}/gateway/api/svc/confluence/apps/{app}_{env}"
