"""confluence-url: the loader's own check agrees with the client's ``check_url``.

The loader checks the URL itself so that loading a mapping does not import the client's
package; these tests hold the two to the same rule and the same messages.
"""

from __future__ import annotations

import pytest

from approvalflow_sync.approvalflow.base_url import check_url
from approvalflow_sync.core.mapping import MappingError, load_mapping
from approvalflow_sync.errors import ConfigError

URLS = [
    "https://acme.atlassian.net/wiki",
    "https://acme.atlassian.net/wiki/",
    "  https://acme.atlassian.net/wiki  ",
    "HTTPS://acme.atlassian.net/wiki",
    "http://127.0.0.1:8080/wiki/",
    "http://localhost/wiki",
    "http://[::1]:9000/wiki",
    "http://127.1.2.3/wiki",
    "http://acme.atlassian.net/wiki",
    "http://10.0.0.1/wiki",
    "ftp://acme.atlassian.net/wiki",
    "acme.atlassian.net/wiki",
    "https:///wiki",
    "https://acme.atlassian.net/wiki?x=1",
    "https://acme.atlassian.net/wiki#top",
    "https://user@acme.atlassian.net/wiki",
]


def loaded_url(url: str) -> str:
    """The mapping's URL, or the message of its one problem (without the position)."""
    text = f'space: "1"\nconfluence-url: "{url}"\npages: [{{path: a, page: 1}}]\n'
    try:
        mapping = load_mapping(text, "m.yml")
    except MappingError as error:
        (problem,) = error.problems
        assert (problem.line, problem.column) == (2, 17)
        return problem.message
    assert mapping.confluence_url is not None
    return mapping.confluence_url


def client_url(url: str) -> str:
    try:
        return check_url(url, "confluence-url")
    except ConfigError as error:
        return str(error)


@pytest.mark.parametrize("url", URLS)
def test_the_loader_and_the_client_agree_on_each_url(url: str) -> None:
    assert loaded_url(url) == client_url(url)


def test_a_url_urlsplit_refuses_is_a_problem_not_a_crash() -> None:
    assert loaded_url("https://[acme/wiki") == (
        "confluence-url: 'https://[acme/wiki' is not a valid URL (check the brackets and port)"
    )
