"""A merge submits whatever still waits, even after a change set was submitted early.

Found by an adversarial review: a reviewer who submits in Confluence before the merge moved the
change set out of ``open``, and the merge then skipped its submit although a later push had
added a page. "Already submitted" now needs every mapped page in the change sets and nothing
submittable left.
"""

from __future__ import annotations

from pathlib import Path

from action_harness import STICKY_MARKER, ActionHarness, harness, load_payload
from approvalflow_sync.sandbox import SandboxServer

TWO_PAGES = (
    'space: "12345"\npages:\n  - path: docs/a.md\n    page: "67890"\n'
    '  - path: docs/b.md\n    page: "67891"\n'
)


def submits(h: ActionHarness) -> int:
    return sum(call["path"].endswith("/changeSets/submit") for call in h.sandbox_calls())


def test_a_page_added_after_an_early_submit_is_submitted_at_the_merge(
    tmp_path: Path, sandbox: SandboxServer
) -> None:
    with harness(tmp_path, sandbox, TWO_PAGES, ActionHarness) as h:
        event = h.add_pull_request(load_payload("opened"), ["docs/a.md"])
        repo, number = event["repository"]["full_name"], event["pull_request"]["number"]
        url = event["pull_request"]["html_url"]
        assert h.run(event).returncode == 0
        (early,) = h.change_sets(url)
        h.api("/changeSets/submit", {"changeSetId": early["id"]})  # a reviewer, in Confluence
        h.github.set_pull_request_files(repo, number, ["docs/a.md", "docs/b.md"])
        assert h.run(h.with_action(event, "synchronize")).returncode == 0
        h.forget_calls()

        merged = h.run(h.with_action(event, "closed", merged=True, state="closed"))

        assert merged.returncode == 0, merged.describe()
        assert submits(h) == 1, "the page added after the early submit was never submitted"
        assert "Already submitted" not in merged.stdout
        h.forget_calls()
        rerun = h.run(h.with_action(event, "closed", merged=True, state="closed"))
        assert rerun.returncode == 0, rerun.describe()
        assert submits(h) == 0, "a rerun of the merge submits nothing again"


def test_a_change_set_submitted_early_that_lacks_a_page_does_not_stop_the_merge(
    tmp_path: Path, sandbox: SandboxServer
) -> None:
    with harness(tmp_path, sandbox, TWO_PAGES, ActionHarness) as h:
        event = h.add_pull_request(load_payload("closed.merged"), ["docs/a.md", "docs/b.md"])
        url = event["pull_request"]["html_url"]
        h.api(
            "/changeSets",
            {
                "spaceId": "12345",
                "title": "early",
                "pageRefs": [{"pageId": "67890"}],
                "referenceUrl": url,
            },
        )
        (early,) = h.change_sets(url)
        h.api("/changeSets/submit", {"changeSetId": early["id"]})
        record = f'<!-- approvalflow-sync:change-sets:json ["{early["id"]}"] -->'
        h.github.add_issue_comment(  # the action's own sync made it and recorded it
            event["repository"]["full_name"], event["pull_request"]["number"],
            f"{STICKY_MARKER}\n{record}\nsynced",
        )  # fmt: skip
        h.forget_calls()

        merged = h.run(event)

        assert merged.returncode == 0, merged.describe()
        assert submits(h) == 1
        (kept,) = h.change_sets(url)
        assert sorted(kept["pageIds"]) == ["67890", "67891"]
