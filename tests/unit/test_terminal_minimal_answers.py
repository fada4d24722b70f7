"""The CLI's tables from answers that leave out what the reference does not promise."""

from __future__ import annotations

from approvalflow_sync.approvalflow import models
from approvalflow_sync.cli import terminal


def test_preflight_and_submit_counts_come_from_the_results_when_absent() -> None:
    preflight = models.PreflightAnswer.model_validate(
        {"results": [{"pageId": "1", "canSubmit": True}, {"pageId": "2", "canSubmit": False}]}
    )
    submit = models.SubmitAnswer.model_validate(
        {"results": [{"pageId": "1", "success": True}, {"pageId": "2", "success": False}]}
    )

    assert terminal.preflight(preflight).startswith("1 of 2 pages can be submitted, 1 blocked.")
    assert terminal.submit(submit).startswith("1 submitted, 1 skipped.")


def test_a_page_answer_that_says_nothing_is_shown_as_such() -> None:
    unknown = models.PagePreflightAnswer(pageId="7")
    submitted = models.PageSubmitAnswer(pageId="7")

    assert terminal.page_preflight(unknown) == (
        "Page 7: the answer does not say whether it can be submitted."
    )
    assert terminal.page_submit(submitted) == "Page 7 submitted."
