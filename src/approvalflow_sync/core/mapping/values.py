"""Checks of single values of the mapping file.

Each answers the problem's message, or ``None`` when the value is fine; the reader adds where.
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

from approvalflow_sync.core.title_template import template_problem

__all__ = ["PAGE_HINT", "is_loopback", "template_problem", "url_problem"]

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
