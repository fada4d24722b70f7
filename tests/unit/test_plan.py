"""Planning is pure: what the pull request needs against what exists, no I/O."""

from __future__ import annotations

from dataclasses import replace

import pytest

from approvalflow_sync.approvalflow.models import ChangeSet, PageRef
from approvalflow_sync.core.plan import (
    Fields,
    changed_paths,
    desired_fields,
    plan_archive,
    plan_space,
    plan_sync,
    recorded,
    render_title,
    sort_pages,
    strangers,
    summarise,
)
from approvalflow_sync.github.event import ChangedFile, PullRequest

PR = PullRequest(
    repo="acme/docs",
    number=7,
    title="Auth docs",
    body="Body",
    html_url="https://github.com/acme/docs/pull/7",
    head_sha="h" * 40,
    head_ref="feature/x",
    head_repo="acme/docs",
    base_ref="main",
    base_sha="b" * 40,
    merged=False,
    changed_files=3,
)
FIELDS = Fields(title="PR-7 Auth docs", summary="Body", reference_url=PR.html_url)


def change_set(
    cs_id: str,
    pages: list[str],
    *,
    reference: str = PR.html_url,
    created: str = "2026-01-01T00:00:00.000Z",
    status: str = "open",
    title: str = "PR-7 Auth docs",
    summary: str | None = "Body",
) -> ChangeSet:
    return ChangeSet(
        id=cs_id,
        spaceId="1",
        title=title,
        summary=summary,
        referenceUrl=reference,
        status=status,
        pageRefs=[PageRef(pageId=p) for p in pages],
        createdAt=created,
    )


def test_a_rename_counts_under_both_paths_and_repeats_collapse() -> None:
    files = [
        ChangedFile("docs/new.md", "renamed", "docs/old.md"),
        ChangedFile("docs/gone.md", "removed"),
        ChangedFile("docs/new.md", "modified"),
    ]
    assert changed_paths(files) == ["docs/new.md", "docs/old.md", "docs/gone.md"]


def test_title_template_fields() -> None:
    template = "{repo}#{number} {title} ({branch} → {base})"
    assert render_title(template, PR) == "acme/docs#7 Auth docs (feature/x → main)"


def test_title_is_one_line_and_bounded() -> None:
    long = replace(PR, title="a\nb " + "x" * 400)
    title = render_title("PR-{number} {title}", long)
    assert "\n" not in title
    assert len(title) == 255
    assert title.endswith("…")


def test_summary_drops_html_comments_and_is_shortened_at_a_word() -> None:
    body = "Intro <!-- hidden hint -->\r\n\r\n\r\n\r\nMore <!-- unterminated"
    assert summarise(body) == "Intro \n\nMore"
    text = summarise("word " * 500, limit=100)
    assert len(text) <= 100
    assert text.endswith("word…")


def test_desired_fields_link_to_the_pull_request() -> None:
    assert desired_fields(PR, "PR-{number} {title}") == FIELDS


def test_pages_sort_numerically_without_repeats() -> None:
    assert sort_pages(["100", "9", "100", "20"]) == ("9", "20", "100")


def test_nothing_exists_means_create() -> None:
    plan = plan_space("1", ["2", "1"], [], FIELDS)
    assert (plan.create, plan.pages, plan.changes, plan.archive) == (True, ("1", "2"), {}, ())


def test_identical_change_set_means_no_write() -> None:
    plan = plan_space("1", ["2", "1"], [change_set("cs-a", ["1", "2"])], FIELDS)
    assert (plan.create, plan.changes, plan.archive) == (False, {}, ())
    assert plan.keep is not None
    assert plan.keep.id == "cs-a"


def test_page_order_on_the_server_is_not_a_change() -> None:
    plan = plan_space("1", ["1", "2"], [change_set("cs-a", ["2", "1"])], FIELDS)
    assert plan.changes == {}


def test_only_the_fields_that_differ_are_updated() -> None:
    existing = change_set("cs-a", ["1"], title="old", summary=None)
    plan = plan_space("1", ["1", "3"], [existing], FIELDS)
    assert plan.changes == {"title": "PR-7 Auth docs", "summary": "Body", "page_ids": ["1", "3"]}


def test_empty_summary_equals_missing_summary() -> None:
    fields = replace(FIELDS, summary="")
    plan = plan_space("1", ["1"], [change_set("cs-a", ["1"], summary=None)], fields)
    assert plan.changes == {}


def test_other_pull_requests_and_archived_ones_are_ignored() -> None:
    others = [
        change_set("cs-other", ["1"], reference="https://github.com/acme/docs/pull/8"),
        change_set("cs-old", ["1"], status="archived"),
    ]
    assert plan_space("1", ["1"], others, FIELDS).create


def test_duplicates_keep_the_oldest_and_archive_the_rest() -> None:
    newer = change_set("cs-b", ["1"], created="2026-01-02T00:00:00.000Z")
    older = change_set("cs-a", ["9"], created="2026-01-01T00:00:00.000Z")
    plan = plan_space("1", ["1"], [newer, older], FIELDS)
    assert plan.keep is not None
    assert plan.keep.id == "cs-a"
    assert plan.changes == {"page_ids": ["1"]}
    assert plan.archive == plan.duplicates == ("cs-b",)


def test_no_pages_any_more_archives_the_pull_requests_change_sets() -> None:
    plan = plan_space("1", [], [change_set("cs-a", ["1"])], FIELDS)
    assert (plan.create, plan.archive, plan.pages) == (False, ("cs-a",), ())


@pytest.mark.parametrize(
    ("pages", "existing", "expected_spaces"),
    [
        ({"1": ["5"]}, {"1": [], "2": []}, ["1"]),
        ({}, {"1": [], "2": []}, []),
        ({}, {"2": [change_set("cs-a", ["5"])]}, ["2"]),
    ],
)
def test_plan_sync_covers_spaces_with_pages_or_leftovers(
    pages: dict[str, list[str]], existing: dict[str, list[ChangeSet]], expected_spaces: list[str]
) -> None:
    assert [p.space for p in plan_sync(pages, existing, FIELDS)] == expected_spaces


def test_plan_archive_archives_only_this_pull_requests_open_ones() -> None:
    existing = {
        "1": [change_set("cs-a", ["1"]), change_set("cs-x", ["1"], reference="other")],
        "2": [change_set("cs-b", ["1"], status="archived")],
    }
    plans = plan_archive(existing, PR.html_url)
    assert [(p.space, p.archive) for p in plans] == [("1", ("cs-a",))]


def test_only_recorded_change_sets_are_ours_whatever_their_link() -> None:
    """Anyone can give a change set the pull request's link: it is left alone, and named."""
    planted, ours = change_set("cs-planted", ["1"]), change_set("cs-ours", ["2"])
    plan = plan_space("1", ["1"], [planted, ours], FIELDS, frozenset({"cs-ours"}))
    assert plan.keep == ours
    assert plan.archive == ()
    created = plan_space("1", ["1"], [planted], FIELDS, frozenset())
    assert created.create
    assert created.others == ("cs-planted",)  # not taken for the new one after the create
    assert plan_archive({"1": [planted, ours]}, PR.html_url, {"cs-ours"})[0].archive == ("cs-ours",)
    assert strangers([planted, ours], PR.html_url, {"cs-ours"}) == ["cs-planted"]
    assert strangers([planted], PR.html_url, None) == []


@pytest.mark.parametrize(
    ("data", "has_sticky", "expected"),
    [
        (None, False, frozenset()),  # before our first comment: nothing is ours
        (["cs-a"], True, frozenset({"cs-a"})),
        ([], True, frozenset()),
        (None, True, None),  # an earlier version's comment: adopt by link once
        ({"cs-a": 1}, True, None),
    ],
)
def test_the_record_in_the_sticky_comment(
    data: object, has_sticky: bool, expected: frozenset[str] | None
) -> None:
    assert recorded(data, has_sticky=has_sticky) == expected
