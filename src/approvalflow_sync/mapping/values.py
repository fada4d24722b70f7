"""Checks of single values of the mapping file.

Each answers the problem's message, or ``None`` when the value is fine; the reader adds where.
"""

from __future__ import annotations

import ipaddress
import string
from urllib.parse import urlsplit

from approvalflow_sync.mapping.model import TITLE_FIELDS

PAGE_HINT = 'such as "67890" (the number in the page\'s URL, …/pages/67890/…)'


def url_problem(url: str, name: str) -> str | None:
    """What is wrong with ``url`` (absolute, https, or http on loopback only), or ``None``.

    The same rule and messages as :func:`approvalflow_sync.approvalflow.base_url.check_url` (a
    test holds them equal), written here so that loading a mapping does not import the API
    client's package. A URL ``urlsplit`` refuses (an unclosed ``[`` around an IPv6 host) is
    not absolute either.
    """
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return f"{name}: {url!r} is not an absolute URL; give it as https://host/path"
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


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def template_problem(text: str) -> str | None:
    """What is wrong with a ``title-template`` (empty, an unknown field, a format), or ``None``."""
    fields = ", ".join("{" + name + "}" for name in TITLE_FIELDS)
    if not text.strip():
        return f"title-template is empty; leave it out or use fields {fields}"
    try:
        parsed = list(string.Formatter().parse(text))
    except ValueError as error:
        return f"title-template: {error}; write {{{{ and }}}} for literal braces"
    for _literal, name, spec, conversion in parsed:
        if name is None:
            continue
        if name not in TITLE_FIELDS:
            shown = "{" + name + "}"
            return f"title-template: unknown field {shown}; use {fields}"
        if spec or conversion:
            return (
                f"title-template: write the field plainly as {{{name}}}, without a format "
                "or conversion"
            )
    return None
