"""Several instances on one pull request (issue 15): what each owns is named apart, purely."""

from __future__ import annotations

from dataclasses import replace

import pytest
from test_plan import FIELDS, PR, change_set
from test_report import SYNCED

from approvalflow_sync.action.inputs import (
    DEFAULT_STATUS_CONTEXT,
    instance_context,
    load_settings,
    parse_instance,
)
from approvalflow_sync.core import markdown as md
from approvalflow_sync.core import report
from approvalflow_sync.core.plan import (
    desired_fields,
    linked_open,
    plan_archive,
    plan_space,
    reference_url,
)
from approvalflow_sync.errors import EXIT_CONFIG, ConfigError

HANDBOOK_URL = "https://github.com/acme/docs/pull/7#approvalflow-sync=handbook"
RUNNER = {"INPUT_ACCESS-TOKEN": "t", "INPUT_BASE-URL": "https://example.com/api"}
"""The least the runner and the composite step give: a token and a base URL."""


def test_no_instance_keeps_the_pull_requests_own_url() -> None:
    assert reference_url(PR.html_url, "") == PR.html_url
    assert desired_fields(PR, "PR-{number} {title}") == FIELDS


def test_an_instance_links_to_the_pull_request_with_its_name_in_the_fragment() -> None:
    assert reference_url(PR.html_url, "handbook") == HANDBOOK_URL
    fields = desired_fields(PR, "PR-{number} {title}", "handbook")
    assert fields == replace(FIELDS, reference_url=HANDBOOK_URL)


def test_each_instance_sees_only_its_own_change_sets() -> None:
    plain = change_set("cs-plain", ["1"], created="2026-01-01T00:00:00.000Z")
    handbook = change_set("cs-hb", ["1"], reference=HANDBOOK_URL)
    other = change_set("cs-other", ["1"], reference=reference_url(PR.html_url, "product"))
    found = [plain, handbook, other]
    assert [cs.id for cs in linked_open(found, PR.html_url)] == ["cs-plain"]
    assert [cs.id for cs in linked_open(found, HANDBOOK_URL)] == ["cs-hb"]

    # Another instance's change set is no duplicate: nothing to archive, nothing to change.
    handbook_fields = replace(FIELDS, reference_url=HANDBOOK_URL)
    plan = plan_space("1", ["1"], found, handbook_fields)
    assert (plan.keep, plan.create, plan.changes, plan.archive) == (handbook, False, {}, ())
    assert plan_space("1", ["1"], found, FIELDS).keep == plain
    # Closing archives the instance's own change sets only.
    assert [p.archive for p in plan_archive({"1": found}, HANDBOOK_URL)] == [("cs-hb",)]


def test_an_edited_title_keeps_the_change_set_and_is_set_back() -> None:
    renamed = change_set("cs-hb", ["1"], reference=HANDBOOK_URL, title="Renamed by a reviewer")
    plan = plan_space("1", ["1"], [renamed], replace(FIELDS, reference_url=HANDBOOK_URL))
    assert (plan.keep, plan.create) == (renamed, False)
    assert plan.changes == {"title": FIELDS.title}


def test_markers_are_named_after_the_instance() -> None:
    assert md.comment_marker("sticky") == "<!-- approvalflow-sync:sticky -->"
    handbook = md.comment_marker("sticky", "handbook")
    assert handbook == "<!-- approvalflow-sync@handbook:sticky -->"
    assert md.has_marker(handbook + "\nbody", "sticky", "handbook")
    assert not md.has_marker(handbook + "\nbody", "sticky")
    assert not md.has_marker(handbook + "\nbody", "sticky", "product")
    assert not md.has_marker("<!-- approvalflow-sync:sticky -->\nbody", "sticky", "handbook")


def test_embedded_data_is_read_back_by_its_own_instance_only() -> None:
    line = md.embed_json("result-data", {"n": 1}, "handbook")
    assert md.extract_json(line, "result-data", "handbook") == {"n": 1}
    assert md.extract_json(line, "result-data") is None
    assert md.extract_json(md.embed_json("result-data", {"n": 2}), "result-data", "hb") is None


def test_comments_carry_the_instances_marker_and_name() -> None:
    handbook = replace(SYNCED, instance="handbook")
    sticky = report.sticky_comment(handbook, None)
    assert md.has_marker(sticky, report.STICKY, "handbook")
    assert "### ApprovalFlow (handbook): " in sticky
    result = report.result_comment(handbook, None)
    assert md.has_marker(result, report.RESULT, "handbook")
    assert md.extract_json(result, report.RESULT_DATA, "handbook") is not None
    assert "### ApprovalFlow: " in report.sticky_comment(SYNCED, None)


@pytest.mark.parametrize("name", ["handbook", "docs-2", "a_b", "x", "9" * 32])
def test_instance_names_that_are_accepted(name: str) -> None:
    assert parse_instance(name) == name


@pytest.mark.parametrize(
    "name", ["Handbook", "hand book", "-x", "_x", "a" * 33, "a:b", "a-->", "a\nb", "ü"]
)
def test_a_bad_instance_name_is_one_configuration_error_naming_the_input(name: str) -> None:
    with pytest.raises(ConfigError) as raised:
        load_settings({**RUNNER, "INPUT_INSTANCE": name})
    message = str(raised.value)
    assert message.startswith("input instance: ")
    assert "lower-case letters" in message
    assert "\n" not in message
    assert raised.value.exit_code == EXIT_CONFIG


def test_the_default_status_context_gets_the_instance_name() -> None:
    composite = {**RUNNER, "INPUT_STATUS-CONTEXT": DEFAULT_STATUS_CONTEXT}
    assert load_settings(composite).status_context == DEFAULT_STATUS_CONTEXT
    for env in (RUNNER, composite):
        settings = load_settings({**env, "INPUT_INSTANCE": "handbook"})
        assert settings.instance == "handbook"
        assert settings.status_context == "ApprovalFlow / preflight (handbook)"


def test_a_status_context_given_wins_and_empty_still_turns_it_off() -> None:
    env = {**RUNNER, "INPUT_INSTANCE": "handbook"}
    chosen = load_settings({**env, "INPUT_STATUS-CONTEXT": "Handbook approval"})
    assert chosen.status_context == "Handbook approval"
    assert load_settings({**env, "INPUT_STATUS-CONTEXT": ""}).status_context == ""


def test_instance_context_applies_to_any_base_context() -> None:
    assert instance_context("ApprovalFlow / approval", "handbook") == (
        "ApprovalFlow / approval (handbook)"
    )
    assert instance_context("ApprovalFlow / approval", "") == "ApprovalFlow / approval"
    assert instance_context("", "handbook") == ""
