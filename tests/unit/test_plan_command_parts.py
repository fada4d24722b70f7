"""The pure parts of ``plan``: the pull request's URL, and a space's plan in words."""

from __future__ import annotations

import pytest

from approvalflow_sync.approvalflow.models import ChangeSet, PageRef
from approvalflow_sync.cli.plan import describe, github_repository_url, pull_request_url
from approvalflow_sync.core.plan import SpacePlan
from approvalflow_sync.errors import ConfigError


@pytest.mark.parametrize(
    ("remote", "expected"),
    [
        ("git@github.com:acme/docs.git", "https://github.com/acme/docs"),
        ("https://github.com/acme/docs.git", "https://github.com/acme/docs"),
        ("https://github.com/acme/docs/", "https://github.com/acme/docs"),
        ("ssh://git@ghe.example.com/acme/docs.git", "https://ghe.example.com/acme/docs"),
        ("/srv/git/docs.git", None),
        ("git@github.com:docs.git", None),
        ("", None),
    ],
)
def test_the_repository_url_comes_from_the_remote(remote: str, expected: str | None) -> None:
    assert github_repository_url(remote) == expected


def test_pr_takes_a_number_on_origin_or_a_whole_url() -> None:
    assert pull_request_url("7", "git@github.com:acme/docs.git") == (
        "https://github.com/acme/docs/pull/7"
    )
    url = "https://github.com/acme/docs/pull/8"
    assert pull_request_url(url + "/", None) == url
    with pytest.raises(ConfigError, match=r"^--pr: give the pull request's number or URL"):
        pull_request_url("seven", "git@github.com:acme/docs.git")
    with pytest.raises(ConfigError, match=r"^--pr: the remote 'origin' is not a GitHub"):
        pull_request_url("7", None)


def change_set(*pages: str) -> ChangeSet:
    return ChangeSet(id="cs-1", spaceId="1", title="t", pageRefs=[PageRef(pageId=p) for p in pages])


@pytest.mark.parametrize(
    ("plan", "expected"),
    [
        (SpacePlan("1", ("10",), create=True), ("create", "create a change set with 1 page")),
        (SpacePlan("1", ("10", "11"), keep=change_set("11", "10")), ("none", "no change")),
        (
            SpacePlan("1", ("10", "12"), keep=change_set("10", "11"), duplicates=("cs-2",)),
            ("update", "update: add 12; remove 11; archive duplicates cs-2"),
        ),
        (
            SpacePlan("1", (), archive=("cs-1",)),
            ("archive", "archive cs-1 (no page maps any more)"),
        ),
    ],
)
def test_a_space_s_plan_in_words(plan: SpacePlan, expected: tuple[str, str]) -> None:
    assert describe(plan) == expected
