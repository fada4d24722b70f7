"""vcrpy cassettes pinning the wire format of every GitHub call the gateway makes.

Recorded against the fake GitHub (which answers as GitHub's OpenAPI description says) only when
``APPROVALFLOW_RECORD=1``; otherwise replayed with record mode ``none``, so CI never records and
needs no server: the gateway is pointed at a dead address and a dummy token. Requests match on
method, path, query and body, not host or port: if PyGithub or the gateway ever sends another
shape (another path, ``per_page``, a JSON field), replay fails.

While recording, the fake's random loopback address is rewritten to the replay address in every
stored URL, header and body, so the cassettes are the same on every recording and PyGithub
follows the recorded pagination links to the address it was given on replay.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pytest
import vcr

from approvalflow_sync.errors import GitHubError
from approvalflow_sync.github.event import PullRequest, parse_pull_request
from approvalflow_sync.github.gateway import GitHubGateway, Identity
from approvalflow_sync.retry import RetryPolicy
from fakes.github import (
    ACTIONS_READONLY_TOKEN,
    ACTIONS_TOKEN,
    CODERTOCAT,
    PAT_TOKEN,
    FakeGitHub,
)

CASSETTES = Path(__file__).parent / "cassettes" / "github"
PAYLOAD = Path(__file__).parents[1] / "data" / "github" / "payloads" / "pull_request.opened.json"
EXAMPLES = Path(__file__).parents[1] / "data" / "github" / "openapi" / "examples"
RECORDING = os.environ.get("APPROVALFLOW_RECORD") == "1"
REPLAY_ROOT = "http://127.0.0.1:9"
REPLAY_API_URL = f"{REPLAY_ROOT}/api/v3"
REPLAY_TOKEN = "replay-dummy"  # not a secret: replay sends it nowhere
REPO = "Codertocat/Hello-World"
CONTEXT = "ApprovalFlow / preflight"
MAPPING = 'space: "12345"\npages:\n  - path: docs/**\n    page: "67890"\n'
SECRET_PATTERNS = (
    re.compile(r"\bgh[pousr]_[A-Za-z0-9_]+"),
    re.compile(r"github_pat_[A-Za-z0-9_]+"),
    re.compile(r"Bearer\s+\S+", re.IGNORECASE),
    re.compile(r"\btoken\s+[A-Za-z0-9_.-]{4,}", re.IGNORECASE),
    re.compile(r"(?im)^\s*-?\s*authorization\s*:"),
)


def the_pr() -> PullRequest:
    """The pull request of the real ``opened`` payload (the same in both modes)."""
    return parse_pull_request(json.loads(PAYLOAD.read_text(encoding="utf-8")))


def _files() -> list[Any]:
    """250 files: three pages at 100 a page, with a rename and a removal on the last one."""
    files: list[Any] = FakeGitHub.make_files(247, prefix="docs/page", suffix=".md")
    files.append({"filename": "docs/new.md", "status": "renamed", "previous_filename": "old.md"})
    files.append({"filename": "docs/gone.md", "status": "removed"})
    files.append({"filename": "docs/added.md", "status": "added"})
    return files


def seed(fake: FakeGitHub) -> None:
    """The repository state the cassettes were recorded from."""
    pr = the_pr()
    fake.add_pull_request(json.loads(PAYLOAD.read_text(encoding="utf-8")), files=_files())
    for n in range(120):
        fake.add_issue_comment(REPO, pr.number, f"Review note {n}", author=CODERTOCAT)
    fake.add_issue_comment(REPO, pr.number, "<!-- approvalflow-sync:sticky -->\nold report")
    fake.add_status(REPO, pr.head_sha, "failure", context=CONTEXT, description="old")
    fake.add_status(REPO, pr.head_sha, "success", context="ci/build", description="built")
    fake.add_status(REPO, pr.head_sha, "pending", context=CONTEXT, description="newest")
    fake.set_file_content(REPO, ".github/approvalflow.yml", MAPPING, ref=pr.base_sha)


def _normalize(text: str, root: str) -> str:
    """The fake's address made the replay one, in its URLs of every scheme (``git://``)."""
    return text.replace(root, REPLAY_ROOT).replace(root.split("//")[1], REPLAY_ROOT.split("//")[1])


def _recorder(root: str) -> vcr.VCR:
    """The VCR; ``root`` is the fake's address while recording (rewritten to the replay one)."""

    def request(request: Any) -> Any:
        request.uri = _normalize(request.uri, root)
        return request

    def response(answer: dict[str, Any]) -> dict[str, Any]:
        body = answer["body"]["string"]
        if isinstance(body, bytes):
            body = _normalize(body.decode("utf-8"), root).encode("utf-8")
            answer["body"]["string"] = body
        headers = answer["headers"]
        for name, values in list(headers.items()):
            if name.lower() == "content-length":
                headers[name] = [str(len(body))]
            else:
                headers[name] = [_normalize(value, root) for value in values]
        return answer

    return vcr.VCR(
        cassette_library_dir=str(CASSETTES),
        record_mode="all" if RECORDING else "none",
        match_on=["method", "path", "query", "body"],
        filter_headers=["authorization"],
        decode_compressed_response=True,
        before_record_request=request,
        before_record_response=response,
    )


@dataclass(frozen=True)
class Wire:
    """Where the gateway points and how cassettes are kept, in this mode."""

    api_url: str
    recorder: vcr.VCR
    opened: list[GitHubGateway] = field(default_factory=list)

    def gateway(self, token: str = ACTIONS_TOKEN) -> GitHubGateway:
        """A gateway with ``token`` while recording, with a dummy token on replay."""
        made = GitHubGateway(
            self.api_url, token if RECORDING else REPLAY_TOKEN, retry=RetryPolicy.no_backoff()
        )
        self.opened.append(made)
        return made

    def close(self) -> None:
        """Close every gateway made."""
        for made in self.opened:
            made.close()


@pytest.fixture
def wire() -> Iterator[Wire]:
    """The fake GitHub, seeded, while recording; nothing but a dead address on replay."""
    if RECORDING:
        with FakeGitHub() as fake:
            seed(fake)
            recording = Wire(fake.api_url, _recorder(fake.web_url))
            yield recording
            recording.close()
            assert fake.errors == []
    else:
        replaying = Wire(REPLAY_API_URL, _recorder(REPLAY_ROOT))
        yield replaying
        replaying.close()


def test_identity_of_an_actions_token_is_the_actions_bot(wire: Wire) -> None:
    gateway = wire.gateway()
    with wire.recorder.use_cassette("identity_actions_token.yaml"):
        identity = gateway.identity()
    assert identity == Identity(login="github-actions[bot]")


def test_identity_of_a_personal_token_is_its_user(wire: Wire) -> None:
    gateway = wire.gateway(PAT_TOKEN)
    with wire.recorder.use_cassette("identity_pat.yaml"):
        identity = gateway.identity()
    assert identity == Identity(login="Codertocat")


def test_list_files_reads_every_page(wire: Wire) -> None:
    gateway = wire.gateway()
    with wire.recorder.use_cassette("list_files.yaml") as cassette:
        files = gateway.list_files(the_pr())
    assert len(files) == 250
    assert files[0].path == "docs/page001.md"
    renamed = next(f for f in files if f.status == "renamed")
    assert (renamed.path, renamed.previous_path) == ("docs/new.md", "old.md")
    assert [(f.path, f.status) for f in files[-2:]] == [
        ("docs/gone.md", "removed"),
        ("docs/added.md", "added"),
    ]
    assert len(cassette.requests) == 3
    assert RECORDING or cassette.all_played
    queries = [sorted(r.query) for r in cassette.requests]
    assert queries[0] == [("per_page", "100")]
    assert queries[1:] == [
        [("page", "2"), ("per_page", "100")],
        [("page", "3"), ("per_page", "100")],
    ]


def test_list_comments_reads_every_page(wire: Wire) -> None:
    gateway = wire.gateway()
    with wire.recorder.use_cassette("list_comments.yaml") as cassette:
        comments = gateway.list_comments(the_pr())
    assert len(comments) == 121
    assert len(cassette.requests) == 2
    assert RECORDING or cassette.all_played
    assert {c.author for c in comments[:120]} == {"Codertocat"}
    ours = comments[-1]
    assert ours.author == "github-actions[bot]"
    assert ours.body == "<!-- approvalflow-sync:sticky -->\nold report"
    assert ours.html_url.endswith(f"/{REPO}/pull/2#issuecomment-{ours.id}")
    assert [c.id for c in comments] == sorted(c.id for c in comments)


def test_create_and_update_comment(wire: Wire) -> None:
    gateway = wire.gateway()
    pr = the_pr()
    with wire.recorder.use_cassette("create_update_comment.yaml") as cassette:
        created = gateway.create_comment(pr, "<!-- approvalflow-sync:sticky -->\nfirst")
        updated = gateway.update_comment(pr, created.id, "<!-- approvalflow-sync:sticky -->\nnew")
    assert created.author == "github-actions[bot]"
    assert created.body == "<!-- approvalflow-sync:sticky -->\nfirst"
    assert updated.id == created.id
    assert updated.body == "<!-- approvalflow-sync:sticky -->\nnew"
    post, patch = cassette.requests
    assert (post.method, post.path) == ("POST", f"/api/v3/repos/{REPO}/issues/2/comments")
    assert (patch.method, patch.path) == (
        "PATCH",
        f"/api/v3/repos/{REPO}/issues/comments/{created.id}",
    )
    assert json.loads(patch.body) == {"body": "<!-- approvalflow-sync:sticky -->\nnew"}


def test_latest_status_is_the_newest_of_its_context(wire: Wire) -> None:
    gateway = wire.gateway()
    with wire.recorder.use_cassette("latest_status.yaml") as cassette:
        found = gateway.latest_status(the_pr(), CONTEXT)
        missing = gateway.latest_status(the_pr(), "nobody/else")
    assert found is not None
    assert (found.state, found.description) == ("pending", "newest")
    assert missing is None
    assert {r.path for r in cassette.requests} == {
        f"/api/v3/repos/{REPO}/commits/{the_pr().head_sha}/statuses"
    }


def test_set_status_posts_on_the_head_commit(wire: Wire) -> None:
    gateway = wire.gateway()
    with wire.recorder.use_cassette("set_status.yaml") as cassette:
        gateway.set_status(
            the_pr(),
            state="success",
            context=CONTEXT,
            description="2 of 2 pages can be submitted",
            target_url="https://github.com/Codertocat/Hello-World/actions/runs/1",
        )
    (request,) = cassette.requests
    assert request.path == f"/api/v3/repos/{REPO}/statuses/{the_pr().head_sha}"
    assert json.loads(request.body) == {
        "state": "success",
        "context": CONTEXT,
        "description": "2 of 2 pages can be submitted",
        "target_url": "https://github.com/Codertocat/Hello-World/actions/runs/1",
    }
    (answer,) = cassette.responses
    assert answer["status"]["code"] == 201


def test_read_file_at_a_ref(wire: Wire) -> None:
    gateway = wire.gateway()
    pr = the_pr()
    with wire.recorder.use_cassette("read_file.yaml") as cassette:
        text = gateway.read_file(REPO, ".github/approvalflow.yml", pr.base_sha)
        missing = gateway.read_file(REPO, ".github/approvalflow.yml", pr.head_sha)
    assert text == MAPPING
    assert missing is None
    assert [sorted(r.query) for r in cassette.requests] == [
        [("ref", pr.base_sha)],
        [("ref", pr.head_sha)],
    ]


def test_pull_request_by_number_reads_the_rest_answer(wire: Wire) -> None:
    gateway = wire.gateway()
    with wire.recorder.use_cassette("pull_request.yaml") as cassette:
        found = gateway.pull_request(REPO, 2)
        missing = gateway.pull_request(REPO, 41)
    assert found is not None
    assert found.html_url.endswith(f"/{REPO}/pull/2")
    assert found.changed_files == 250
    event = the_pr()
    assert replace(found, html_url=event.html_url, changed_files=event.changed_files) == event
    assert (found.state, found.merged) == ("open", False)
    assert missing is None
    assert [r.path for r in cassette.requests] == [
        f"/api/v3/repos/{REPO}/pulls/2",
        f"/api/v3/repos/{REPO}/pulls/41",
    ]


def test_the_documented_rest_pull_request_reads_as_an_event_one() -> None:
    """GitHub's own example answer of ``GET /pulls/{number}`` (the OpenAPI description's)."""
    example = json.loads((EXAMPLES / "pulls.get.200.pull-request.json").read_text("utf-8"))
    pr = parse_pull_request({"pull_request": example, "repository": {"full_name": "octocat/x"}})
    assert (pr.number, pr.state, pr.merged) == (example["number"], example["state"], False)
    assert (pr.head_sha, pr.base_sha) == (example["head"]["sha"], example["base"]["sha"])
    assert pr.head_repo == example["head"]["repo"]["full_name"]


def test_a_refused_write_names_the_permission(wire: Wire) -> None:
    gateway = wire.gateway(ACTIONS_READONLY_TOKEN)
    with (
        wire.recorder.use_cassette("refused_comment.yaml"),
        pytest.raises(GitHubError) as refused,
    ):
        gateway.create_comment(the_pr(), "hello")
    assert refused.value.status == 403
    assert "Resource not accessible by integration" in str(refused.value)
    assert "pull-requests: write" in str(refused.value)


def test_no_cassette_holds_a_credential() -> None:
    cassettes = sorted(CASSETTES.glob("*.yaml"))
    assert len(cassettes) == 10
    for path in cassettes:
        text = path.read_text(encoding="utf-8")
        for pattern in SECRET_PATTERNS:
            assert not pattern.search(text), f"{path.name}: {pattern.pattern}"
        for token in (ACTIONS_TOKEN, ACTIONS_READONLY_TOKEN, PAT_TOKEN, REPLAY_TOKEN):
            assert token not in text, f"{path.name} holds {token}"
