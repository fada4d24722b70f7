"""Page ids kept in the docs files drive the sync end to end (issue 15, items 2-4).

Each test runs ``approvalflow-sync run`` against the sandbox and a fake GitHub whose contents API
holds each file's version at the base and the head commit (the workspace is an empty checkout,
so the files come from the API), or against a real git history in the workspace.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from action_harness import (
    ActionHarness,
    ActionRun,
    by_space,
    harness,
    load_payload,
    workflow_run_event,
)
from approvalflow_sync.action.file_pages import API_READS
from approvalflow_sync.sandbox import SandboxServer
from git_repo import git

REPO = "Codertocat/Hello-World"
FORMS = {
    "md2conf": "<!-- confluence-page-id: {page} -->\n\n# A page\n",
    "markdown-confluence": "---\nconnie-publish: true\nconnie-page-id: '{page}'\n---\n# A page\n",
    "telefonica": '---\nconfluence_page_id: "{page}"\nsync_to_confluence: true\n---\n# A page\n',
}
MAPPING = 'space: "12345"\npages:\n  - path: docs/auth/**\n    page: "67890"\n'
HOSTILE = ("76541", "67897")
"""Pages a fork's head points its files at: neither may reach ApprovalFlow."""
FORK_HEAD_REPO = "someone/Hello-World"
Files = dict[str, tuple[str | None, str | None]]
"""path: (text at the base commit, text at the head commit); None where the file is absent."""


@pytest.fixture
def h(tmp_path: Path, sandbox: SandboxServer) -> Iterator[ActionHarness]:
    """No mapping file: the docs carry their ids."""
    with harness(tmp_path, sandbox, None, ActionHarness) as action:
        yield action


def pull_request(h: ActionHarness, files: Files, *, fork: bool = False) -> dict[str, Any]:
    """The ``opened`` payload's pull request changing ``files``, their texts in the fake."""
    payload = load_payload("opened")
    fields: dict[str, Any] = {}
    if fork:
        head = payload["pull_request"]["head"]
        fields["head"] = {**head, "repo": {**head["repo"], "full_name": FORK_HEAD_REPO}}
    changed = [
        {"filename": path, "status": "added" if base is None else "modified"}
        for path, (base, _head) in files.items()
    ]
    event = h.add_pull_request(payload, changed, **fields)
    pr = event["pull_request"]
    for path, texts in files.items():
        for sha, text in zip((pr["base"]["sha"], pr["head"]["sha"]), texts, strict=True):
            if text is not None:
                h.github.set_file_content(REPO, path, text, ref=sha)
    return event


def ok(run: ActionRun) -> ActionRun:
    assert run.returncode == 0, run.describe()
    assert "Traceback" not in run.stderr, run.describe()
    return run


def sent_pages(h: ActionHarness) -> set[str]:
    """Every page id any call to ApprovalFlow carried."""
    pages: set[str] = set()
    for call in h.sandbox_calls():
        body = call.get("body") or {}
        refs = body.get("pageRefs", []) if isinstance(body, dict) else []
        pages |= {ref["pageId"] for ref in refs}
        if isinstance(body, dict) and "pageId" in body:
            pages.add(body["pageId"])
    return pages


@pytest.mark.parametrize("form", sorted(FORMS))
def test_ids_in_each_publishers_form_drive_a_sync(h: ActionHarness, form: str) -> None:
    text = FORMS[form]
    spaced = "---\nconnie-page-id: 76540\napprovalflow-space-id: '54321'\n---\n"
    event = pull_request(
        h,
        {
            "docs/guide.md": (text.format(page="67891"), text.format(page="67892")),
            "handbook/review.mdx": (spaced, spaced),
            "src/app.py": ("x = 1\n", "x = 2\n"),
        },
    )
    run = h.run(event)  # no mapping file: no default space
    assert run.returncode == 2, run.describe()
    (error,) = run.annotations("error")
    assert error.message.startswith("docs/guide.md: page 67892 has no space: add ")
    assert h.sandbox_writes() == []

    h.github.clear_calls()
    h.write_mapping('space: "12345"\npages:\n  - path: unused/**\n    page: "67890"\n')
    ok(h.run(event))
    sets = by_space(h.change_sets(event["pull_request"]["html_url"]))
    assert sets["12345"]["pageIds"] == ["67892"], "the head's id, in the mapping's space"
    assert sets["54321"]["pageIds"] == ["76540"], "the file's own space"
    reads = sorted(c.route.split("/contents/")[1] for c in h.github.calls_to("GET", "/contents/"))
    assert reads == ["docs/guide.md", "handbook/review.mdx"], "only changed Markdown is read"


def test_without_a_mapping_a_doc_without_an_id_is_a_configuration_error(h: ActionHarness) -> None:
    event = pull_request(
        h,
        {
            "handbook/review.md": (None, "---\nconnie-page-id: 1\napprovalflow-space-id: 2\n---\n"),
            "docs/no-id.md": ("# Nothing\n", "# Still nothing\n"),
        },
    )
    run = h.run(event)
    assert run.returncode == 2, run.describe()
    (error,) = run.annotations("error")
    assert error.message.startswith(
        "mapping file .github/approvalflow.yml does not exist, and docs/no-id.md names no page"
    )
    assert "Traceback" not in run.stderr
    assert h.sandbox_writes() == []

    off = h.run(event, inputs={"page-ids-from-files": "false"})
    assert off.returncode == 2, off.describe()
    (error,) = off.annotations("error")
    assert "mapping file .github/approvalflow.yml does not exist" in error.message


def test_the_mapping_and_the_files_unite_and_a_contradiction_is_reported(h: ActionHarness) -> None:
    h.write_mapping(MAPPING)
    md2conf = FORMS["md2conf"]
    event = pull_request(
        h,
        {
            "docs/auth/login.md": (md2conf.format(page="67899"), md2conf.format(page="67899")),
            "docs/api.md": (md2conf.format(page="67893"), md2conf.format(page="67893")),
            "docs/broken.md": ("---\nconnie-page-id: TBD\n---\n",) * 2,
        },
    )
    run = ok(h.run(event))
    (cs,) = h.change_sets(event["pull_request"]["html_url"])
    assert cs["pageIds"] == ["67890", "67893"], "the mapping's rule wins; the file's own id adds"
    warnings = {w.properties.get("file"): w for w in run.annotations("warning")}
    contradicted = warnings["docs/auth/login.md"]
    assert "names page 67899, but the mapping maps it to 67890" in contradicted.message
    assert "`docs/auth/login.md` names page 67899; the mapping's 67890 used" in run.summary
    assert "connie-page-id is 'TBD'" in warnings["docs/broken.md"].message

    h.admin("DELETE", "/calls")
    ok(h.run(event, inputs={"page-ids-from-files": "false"}))
    assert by_space(h.change_sets(event["pull_request"]["html_url"]))["12345"]["pageIds"] == [
        "67890"
    ], "turned off, the files' ids are not read"


def hostile_files() -> Files:
    honest = FORMS["telefonica"].format(page="67891")
    elsewhere = f"---\nconfluence_page_id: '{HOSTILE[0]}'\napprovalflow-space-id: '54321'\n---\n"
    return {
        # the head points a file the base names 67891 at another space's page
        "docs/guide.md": (honest, elsewhere),
        # and adds a file claiming a page
        "docs/new.md": (None, FORMS["markdown-confluence"].format(page=HOSTILE[1])),
    }


Shape = Callable[[dict[str, Any]], dict[str, Any]]
TRIGGERS: dict[str, tuple[Shape, str]] = {
    "pull_request_target": (lambda event: event, ""),
    "workflow_run": (lambda event: workflow_run_event(event, listed=False), "2"),
}
"""Each event that runs with secrets for a fork's pull request, as it names the pull request
(``workflow_run`` lists no fork's: ``pr-number`` names it)."""


@pytest.mark.parametrize("trigger", list(TRIGGERS))
def test_a_forks_head_cannot_point_the_approval_at_its_own_pages(
    h: ActionHarness, trigger: str
) -> None:
    shape, number = TRIGGERS[trigger]
    event = pull_request(h, hostile_files(), fork=True)
    base_sha = event["pull_request"]["base"]["sha"]
    h.github.set_file_content(REPO, ".github/approvalflow.yml", MAPPING, ref=base_sha)

    ok(h.run(shape(event), event_name=trigger, inputs={"pr-number": number}))

    assert sent_pages(h) == {"67891"}, "only the base commit's id reached ApprovalFlow"
    (cs,) = h.change_sets(event["pull_request"]["html_url"])
    assert cs["spaceId"] == "12345"
    reads = h.github.calls_to("GET", r"/contents/docs/")
    assert reads
    assert all(call.query == {"ref": [base_sha]} for call in reads)

    # the same pull request from the same repository: the head's ids count
    h.forget_calls()
    same = pull_request(h, hostile_files())
    ok(h.run(shape(same), event_name=trigger, inputs={"pr-number": number}))
    assert sent_pages(h) >= {HOSTILE[1]}


def commit(repo: Path, files: dict[str, str]) -> str:
    for name, text in files.items():
        (repo / name).parent.mkdir(parents=True, exist_ok=True)
        (repo / name).write_text(text, encoding="utf-8")

    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "c")
    return git(repo, "rev-parse", "HEAD")


@pytest.mark.parametrize("fork", [False, True])
def test_with_the_commits_checked_out_no_file_is_asked_of_github(
    h: ActionHarness, fork: bool
) -> None:
    """The workspace holds the base and the head (a job that checked the head out): ids come
    from git, the base's for a fork's head under pull_request_target."""
    files = hostile_files()
    h.write_mapping(MAPPING)
    base = commit(h.workspace, {p: b for p, (b, _) in files.items() if b is not None})
    head = commit(h.workspace, {p: t for p, (_, t) in files.items() if t is not None})
    payload = load_payload("opened")
    pr = payload["pull_request"]
    head_repo = {**pr["head"]["repo"], "full_name": FORK_HEAD_REPO if fork else REPO}
    event = h.add_pull_request(
        payload,
        [{"filename": "docs/guide.md"}, {"filename": "docs/new.md", "status": "added"}],
        head={**pr["head"], "sha": head, "repo": head_repo},
        base={**pr["base"], "sha": base},
    )
    h.github.set_file_content(REPO, ".github/approvalflow.yml", MAPPING, ref=base)

    ok(h.run(event, event_name="pull_request_target"))

    assert [c.route for c in h.github.calls_to("GET", "/contents/docs")] == []
    assert sent_pages(h) == ({"67891"} if fork else {*HOSTILE})


def test_too_many_files_for_the_api_without_a_checkout_is_one_clear_error(
    h: ActionHarness,
) -> None:
    shutil.rmtree(h.workspace / ".git")
    h.write_mapping(MAPPING)
    files = [f"docs/p{i:03}.md" for i in range(API_READS + 1)]
    event = h.add_pull_request(load_payload("opened"), files)
    run = h.run(event)
    assert run.returncode == 2, run.describe()
    (error,) = run.annotations("error")
    assert error.message.startswith(
        f"input page-ids-from-files: {API_READS + 1} changed Markdown files to read at commit "
    )
    assert "add an actions/checkout step" in error.message
    assert h.github.calls_to("GET", "/contents/") == []
    assert h.sandbox_writes() == []


def test_closing_archives_the_change_set_of_a_space_only_a_file_names(h: ActionHarness) -> None:
    spaced = "---\nconnie-page-id: 76540\napprovalflow-space-id: '54321'\n---\n"
    event = pull_request(h, {"handbook/review.md": (spaced, spaced)})
    ok(h.run(event))
    (cs,) = h.change_sets(event["pull_request"]["html_url"])
    assert (cs["spaceId"], cs["status"]) == ("54321", "open")

    ok(h.run(h.with_action(event, "closed", state="closed", merged=False)))
    (cs,) = h.change_sets(event["pull_request"]["html_url"])
    assert cs["status"] != "open", "archived though no mapping names the space"
