"""The fake GitHub is faithful: exercised through PyGithub itself and through httpx.

Every response the fake serves during a test is validated against the OpenAPI response
schema of its operation (tests/data/github/openapi/schemas.json) by the ``fake`` fixture.
"""

from __future__ import annotations

import base64
import hashlib
import json
import ssl
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import github
import httpx
import pytest
from nacl.public import PublicKey, SealedBox

from approvalflow_sync.github.gateway import GitHubGateway
from fakes.github import (
    ACTIONS_READONLY_TOKEN,
    ACTIONS_TOKEN,
    APP_TOKEN,
    FINE_GRAINED_TOKEN,
    GITHUB_ACTIONS_BOT,
    NOT_ACCESSIBLE_BY_INTEGRATION,
    NOT_ACCESSIBLE_BY_PAT,
    OCTOCAT,
    PAT_TOKEN,
    FakeGitHub,
    iter_link_header,
)
from fakes.schema import check_response, load_schemas, response_schema, validate

DATA = Path(__file__).resolve().parent.parent / "data" / "github"
PAYLOADS = DATA / "payloads"
REPO = "Codertocat/Hello-World"
PR_NUMBER = 2
HEAD_SHA = "ec26c3e57ca3a959ca5aad62de7213c562f8c821"
# one TLS context for every httpx client (building one per client costs ~50 ms; the fake
# speaks plain HTTP anyway)
TLS = ssl.create_default_context()


def load_payload(name: str = "pull_request.opened.json") -> dict[str, Any]:
    data: dict[str, Any] = json.loads((PAYLOADS / name).read_text(encoding="utf-8"))
    return data


def docs_url(operation: str) -> str:
    return str(load_schemas()["operations"][operation]["docs_url"])


@pytest.fixture
def fake() -> Iterator[FakeGitHub]:
    with FakeGitHub() as server:
        yield server
        assert server.errors == []
        for call in server.calls:
            if call.operation is not None and not call.injected:
                check_response(call.operation, call.status, call.response)


@pytest.fixture
def seeded(fake: FakeGitHub) -> FakeGitHub:
    fake.add_pull_request(load_payload())
    return fake


def client(fake: FakeGitHub, token: str = ACTIONS_TOKEN, **kwargs: Any) -> github.Github:
    # No client-side throttling against a local fake: PyGithub's defaults (0.25 s between
    # requests, 1 s between writes) exist for GitHub's secondary limits, not for this server.
    return github.Github(
        auth=github.Auth.Token(token),
        base_url=fake.api_url,
        seconds_between_requests=0,
        seconds_between_writes=0,
        **kwargs,
    )


def http(fake: FakeGitHub, token: str | None = ACTIONS_TOKEN) -> httpx.Client:
    headers = {"Accept": "application/vnd.github+json", "X-GitHub-Api-Version": "2022-11-28"}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    return httpx.Client(
        base_url=fake.api_url, headers=headers, timeout=10, trust_env=False, verify=TLS
    )


# --------------------------------------------------------------------------- data copies


def test_payload_copies_are_byte_for_byte() -> None:
    sources = json.loads((PAYLOADS / "SOURCES.json").read_text(encoding="utf-8"))
    assert len(sources["files"]) == 5
    for entry in sources["files"]:
        digest = hashlib.sha256((PAYLOADS / entry["file"]).read_bytes()).hexdigest()
        assert digest == entry["sha256"], entry["file"]


def test_validator_is_not_vacuous() -> None:
    schema = response_schema("issues/get-comment", 200)
    assert validate({"id": 1}, schema)  # required fields missing
    example = json.loads(
        (DATA / "openapi/examples/issues.get-comment.200.issue-comment.json").read_text()
    )
    assert validate(example, schema) == []
    assert validate({**example, "id": "1"}, schema) == ["$.id: expected integer, got str '1'"]
    assert validate({**example, "user": None}, schema) == []  # nullable-simple-user
    files_schema = response_schema("pulls/list-files", 200)
    bad = [{**json.loads(json.dumps(example)), "status": "moved"}]
    assert any("status" in error for error in validate(bad, files_schema))


@pytest.mark.parametrize("name", sorted(p.name for p in PAYLOADS.glob("pull_request.*.json")))
def test_every_payload_seeds_a_pr_served_under_the_fake(fake: FakeGitHub, name: str) -> None:
    payload = load_payload(name)
    stored = fake.add_pull_request(payload)
    full_name = payload["repository"]["full_name"]
    with http(fake) as api:
        response = api.get(f"/repos/{full_name}/pulls/{payload['number']}")
    assert response.status_code == 200
    body = response.json()
    assert body == stored
    assert body["head"]["sha"] == payload["pull_request"]["head"]["sha"]
    assert body["url"] == f"{fake.api_url}/repos/{full_name}/pulls/{payload['number']}"

    def strings(value: Any) -> Iterator[str]:
        if isinstance(value, dict):
            for item in value.values():
                yield from strings(item)
        elif isinstance(value, list):
            for item in value:
                yield from strings(item)
        elif isinstance(value, str):
            yield value

    leaked = [
        s for s in strings(body) if s.startswith(("https://api.github.com", "https://github.com"))
    ]
    assert leaked == []


# --------------------------------------------------------------------------- PR files


def test_250_files_listed_completely_through_pygithub(seeded: FakeGitHub) -> None:
    names = FakeGitHub.make_files(250)
    seeded.set_pull_request_files(REPO, PR_NUMBER, names)
    pr = client(seeded).get_repo(REPO).get_pull(PR_NUMBER)
    assert pr.changed_files == 250
    listed = pr.get_files()
    assert [f.filename for f in listed] == names
    assert listed.totalCount == 250  # PyGithub reads rel="last" of a per_page=1 request
    pages = seeded.calls_to("GET", r"/pulls/2/files$")
    assert len([c for c in pages if c.query.get("per_page") != ["1"]]) == 9  # 30 per page
    # after the first page PyGithub follows the absolute rel="next" URLs GitHub hands out
    repo_id = seeded.repository(REPO)["id"]
    assert any(c.path == f"/api/v3/repositories/{repo_id}/pulls/2/files" for c in pages)


def test_link_header_has_githubs_exact_format(seeded: FakeGitHub) -> None:
    seeded.set_pull_request_files(REPO, PR_NUMBER, FakeGitHub.make_files(250))
    base = f"{seeded.api_url}/repositories/{seeded.repository(REPO)['id']}/pulls/2/files"
    with http(seeded) as api:
        first = api.get(f"/repos/{REPO}/pulls/{PR_NUMBER}/files", params={"per_page": 100})
        middle = api.get(
            f"/repos/{REPO}/pulls/{PR_NUMBER}/files", params={"per_page": 100, "page": 2}
        )
        last = api.get(
            f"/repos/{REPO}/pulls/{PR_NUMBER}/files", params={"per_page": 100, "page": 3}
        )
        default = api.get(f"/repos/{REPO}/pulls/{PR_NUMBER}/files")
        too_many = api.get(f"/repos/{REPO}/pulls/{PR_NUMBER}/files", params={"per_page": 500})
    assert first.headers["link"] == (
        f'<{base}?per_page=100&page=2>; rel="next", <{base}?per_page=100&page=3>; rel="last"'
    )
    assert middle.headers["link"] == (
        f'<{base}?per_page=100&page=1>; rel="prev", <{base}?per_page=100&page=3>; rel="next", '
        f'<{base}?per_page=100&page=3>; rel="last", <{base}?per_page=100&page=1>; rel="first"'
    )
    assert dict(iter_link_header(last.headers["link"])) == {
        "prev": f"{base}?per_page=100&page=2",
        "first": f"{base}?per_page=100&page=1",
    }
    assert [len(r.json()) for r in (first, middle, last, default, too_many)] == [
        100,
        100,
        50,
        30,
        100,
    ]
    assert dict(iter_link_header(default.headers["link"]))["last"] == f"{base}?page=9"


def test_pr_files_are_capped_at_3000(seeded: FakeGitHub) -> None:
    seeded.set_pull_request_files(REPO, PR_NUMBER, FakeGitHub.make_files(3500))
    pr = client(seeded, per_page=100).get_repo(REPO).get_pull(PR_NUMBER)
    assert pr.changed_files == 3500  # the PR still says how many files really changed
    assert len(list(pr.get_files())) == 3000
    with http(seeded) as api:
        page_30 = api.get(f"/repos/{REPO}/pulls/2/files", params={"per_page": 100, "page": 30})
        page_31 = api.get(f"/repos/{REPO}/pulls/2/files", params={"per_page": 100, "page": 31})
    assert page_30.json()[-1]["filename"] == "src/file3000.py"
    assert "next" not in dict(iter_link_header(page_30.headers["link"]))
    assert page_31.status_code == 200
    assert page_31.json() == []


def test_file_entries_follow_the_diff_entry_rules(seeded: FakeGitHub) -> None:
    seeded.set_pull_request_files(
        REPO,
        PR_NUMBER,
        [
            {"filename": "new.txt", "status": "added", "additions": 3},
            {"filename": "b.txt", "status": "renamed", "previous_filename": "a.txt"},
            {"filename": "logo.png", "status": "modified", "patch": None},
        ],
    )
    with pytest.raises(ValueError, match="previous_filename"):
        seeded.set_pull_request_files(REPO, PR_NUMBER, [{"filename": "x", "status": "renamed"}])
    with pytest.raises(ValueError, match="status"):
        seeded.set_pull_request_files(REPO, PR_NUMBER, [{"filename": "x", "status": "moved"}])
    files = list(client(seeded).get_repo(REPO).get_pull(PR_NUMBER).get_files())
    assert [(f.filename, f.status, f.previous_filename) for f in files] == [
        ("new.txt", "added", None),
        ("b.txt", "renamed", "a.txt"),
        ("logo.png", "modified", None),
    ]
    assert files[2].patch is None
    assert files[0].contents_url.startswith(f"{seeded.api_url}/repos/{REPO}/contents/new.txt?ref=")


# --------------------------------------------------------------------------- comments


def test_comments_over_several_pages_in_ascending_order(seeded: FakeGitHub) -> None:
    ids = [
        seeded.add_issue_comment(
            REPO, PR_NUMBER, f"comment {i}", author=OCTOCAT if i % 3 else GITHUB_ACTIONS_BOT
        )
        for i in range(75)
    ]
    comments = list(
        client(seeded, per_page=20).get_repo(REPO).get_pull(PR_NUMBER).get_issue_comments()
    )
    assert [c.id for c in comments] == sorted(ids) == ids
    assert [c.body for c in comments] == [f"comment {i}" for i in range(75)]
    assert len(seeded.calls_to("GET", r"/issues/2/comments$")) == 4
    bots = [c for c in comments if c.user.login == "github-actions[bot]" and c.user.type == "Bot"]
    assert len(bots) == 25


def test_create_and_edit_a_comment_through_pygithub(seeded: FakeGitHub) -> None:
    pr = client(seeded).get_repo(REPO).get_pull(PR_NUMBER)
    comment = pr.create_issue_comment("<!-- approvalflow -->\nfirst")
    assert comment.user.login == "github-actions[bot]"
    assert comment.user.type == "Bot"
    assert comment.user.id == 41898282
    assert comment.url == f"{seeded.api_url}/repos/{REPO}/issues/comments/{comment.id}"
    created = seeded.calls_to("POST", r"/issues/2/comments$")[-1]
    assert created.status == 201
    assert created.response_headers["Location"] == comment.url
    comment.edit("<!-- approvalflow -->\nsecond")
    edit = seeded.calls_to("PATCH", r"/issues/comments/")[-1]
    assert seeded.api_url.endswith("/api/v3")
    assert f"{seeded.web_url}{edit.path}" == comment.url  # PyGithub followed the url field
    assert comment.body == "<!-- approvalflow -->\nsecond"
    stored = seeded.issue_comment(comment.id)
    assert stored is not None
    assert stored["body"] == comment.body
    assert seeded.pull_request(REPO, PR_NUMBER)["comments"] == 1


def test_pat_comments_are_authored_by_the_user(seeded: FakeGitHub) -> None:
    pr = client(seeded, PAT_TOKEN).get_repo(REPO).get_pull(PR_NUMBER)
    comment = pr.create_issue_comment("by a person")
    assert (comment.user.login, comment.user.type) == ("Codertocat", "User")
    assert comment.raw_data["author_association"] == "OWNER"


def test_editing_a_deleted_comment_answers_404(seeded: FakeGitHub) -> None:
    pr = client(seeded).get_repo(REPO).get_pull(PR_NUMBER)
    comment = pr.create_issue_comment("to be deleted")
    seeded.delete_issue_comment(comment.id)
    with pytest.raises(github.UnknownObjectException) as caught:
        comment.edit("too late")
    assert caught.value.status == 404
    assert caught.value.data == {
        "message": "Not Found",
        "documentation_url": docs_url("issues/update-comment"),
        "status": "404",
    }
    with http(seeded) as api:
        other = pr.create_issue_comment("deleted over HTTP")
        assert api.delete(f"/repos/{REPO}/issues/comments/{other.id}").status_code == 204
        assert api.get(f"/repos/{REPO}/issues/comments/{other.id}").status_code == 404
        assert api.get(f"/repos/{REPO}/issues/comments/424242").status_code == 404


def test_comment_body_limit_and_missing_body(seeded: FakeGitHub) -> None:
    with http(seeded) as api:
        too_long = api.post(f"/repos/{REPO}/issues/2/comments", json={"body": "x" * 65537})
        exact = api.post(f"/repos/{REPO}/issues/2/comments", json={"body": "x" * 65536})
        missing = api.post(f"/repos/{REPO}/issues/2/comments", json={})
        unknown_issue = api.post(f"/repos/{REPO}/issues/99/comments", json={"body": "hi"})
    assert too_long.status_code == 422
    assert too_long.json()["errors"] == [
        {
            "resource": "IssueComment",
            "code": "custom",
            "field": "body",
            "message": "body is too long (maximum is 65536 characters)",
        }
    ]
    assert exact.status_code == 201
    assert missing.status_code == 422
    assert missing.json()["message"] == 'Invalid request.\n\n"body" wasn\'t supplied.'
    assert unknown_issue.status_code == 404


# --------------------------------------------------------------------------- statuses


def test_commit_status_on_the_head_sha(seeded: FakeGitHub) -> None:
    repo = client(seeded).get_repo(REPO)
    commit = repo.get_commit(HEAD_SHA)
    status = commit.create_status(
        "pending", target_url="https://ci.example/1", description="checking", context="approvalflow"
    )
    assert (status.state, status.context, status.creator.login) == (
        "pending",
        "approvalflow",
        "github-actions[bot]",
    )
    commit.create_status("success", description="ok", context="approvalflow")
    commit.create_status("success", context="other")
    combined = commit.get_combined_status()
    assert combined.state == "success"
    assert combined.total_count == 2
    assert [s["state"] for s in seeded.statuses(REPO, HEAD_SHA)] == [
        "success",
        "success",
        "pending",
    ]
    listed = list(commit.get_statuses())
    assert [s.state for s in listed] == ["success", "success", "pending"]  # newest first
    with http(seeded) as api:
        by_branch = api.get(f"/repos/{REPO}/commits/changes/status").json()
    assert by_branch["sha"] == HEAD_SHA
    seeded.add_status(REPO, HEAD_SHA, "failure", context="other")
    assert commit.get_combined_status().state == "failure"


def test_commit_status_validation_like_github(seeded: FakeGitHub) -> None:
    url = f"/repos/{REPO}/statuses/{HEAD_SHA}"
    with http(seeded) as api:
        long_description = api.post(url, json={"state": "success", "description": "d" * 141})
        ok_description = api.post(url, json={"state": "success", "description": "d" * 140})
        bad_state = api.post(url, json={"state": "passed"})
        unknown_sha = api.post(f"/repos/{REPO}/statuses/{'0' * 40}", json={"state": "success"})
    assert long_description.status_code == 422
    assert long_description.json() == {
        "message": "Validation Failed",
        "errors": [
            {
                "resource": "Status",
                "code": "custom",
                "field": "description",
                "message": "description is too long (maximum is 140 characters)",
            }
        ],
        "documentation_url": "https://docs.github.com/rest/commits/statuses#create-a-commit-status",
        "status": "422",
    }
    assert ok_description.status_code == 201
    assert ok_description.json()["context"] == "default"
    assert bad_state.status_code == 422
    assert unknown_sha.status_code == 422
    assert unknown_sha.json()["message"] == f"No commit found for SHA: {'0' * 40}"


# --------------------------------------------------------------------------- auth and 403s


def test_403_texts_for_missing_permissions(seeded: FakeGitHub) -> None:
    readonly = client(seeded, ACTIONS_READONLY_TOKEN).get_repo(REPO).get_pull(PR_NUMBER)
    assert readonly.title  # reading works
    with pytest.raises(github.GithubException) as caught:
        readonly.create_issue_comment("from a fork")
    assert caught.value.status == 403
    assert caught.value.data == {
        "message": "Resource not accessible by integration",
        "documentation_url": docs_url("issues/create-comment"),
        "status": "403",
    }
    with http(seeded, ACTIONS_READONLY_TOKEN) as api:
        status = api.post(f"/repos/{REPO}/statuses/{HEAD_SHA}", json={"state": "success"})
    assert status.status_code == 403
    assert status.json()["message"] == NOT_ACCESSIBLE_BY_INTEGRATION
    with http(seeded, FINE_GRAINED_TOKEN) as api:
        status = api.post(f"/repos/{REPO}/statuses/{HEAD_SHA}", json={"state": "success"})
    assert status.status_code == 403
    assert status.json()["message"] == NOT_ACCESSIBLE_BY_PAT


def test_the_actions_token_has_no_user(seeded: FakeGitHub) -> None:
    with pytest.raises(github.GithubException) as caught:
        _ = client(seeded, ACTIONS_TOKEN).get_user().login
    assert caught.value.status == 403
    assert caught.value.data == {
        "message": "Resource not accessible by integration",
        "documentation_url": "https://docs.github.com/rest/users/users#get-the-authenticated-user",
        "status": "403",
    }
    assert client(seeded, PAT_TOKEN).get_user().login == "Codertocat"


def test_bad_and_missing_credentials(seeded: FakeGitHub) -> None:
    with pytest.raises(github.BadCredentialsException) as caught:
        client(seeded, "ghs_unknown").get_repo(REPO)
    assert caught.value.status == 401
    assert caught.value.data == {
        "message": "Bad credentials",
        "documentation_url": "https://docs.github.com/rest",
        "status": "401",
    }
    with http(seeded, token=None) as api:
        assert api.get(f"/repos/{REPO}/pulls/2").status_code == 200  # public repo, like GitHub
        anonymous_write = api.post(f"/repos/{REPO}/issues/2/comments", json={"body": "x"})
    assert anonymous_write.status_code == 401
    assert anonymous_write.json()["message"] == "Requires authentication"
    with httpx.Client(base_url=seeded.api_url, trust_env=False, verify=TLS) as api:
        classic = api.get("/user", headers={"Authorization": f"token {PAT_TOKEN}"})
    assert classic.status_code == 200
    assert classic.json()["login"] == "Codertocat"


def test_private_repositories_need_read_permissions(fake: FakeGitHub) -> None:
    fake.add_repository(full_name="acme/private", private=True)
    fake.add_token("ghs_metadata_only", GITHUB_ACTIONS_BOT, permissions={"metadata": "read"})
    fake.set_file_content("acme/private", "README.md", "hi")
    with http(fake, "ghs_metadata_only") as api:
        assert api.get("/repos/acme/private").status_code == 200
        denied = api.get("/repos/acme/private/contents/README.md")
    assert denied.status_code == 403
    assert denied.json()["message"] == NOT_ACCESSIBLE_BY_INTEGRATION
    with http(fake, token=None) as api:
        assert api.get("/repos/acme/private").status_code == 401
    with http(fake) as api:
        assert api.get("/repos/acme/private/contents/README.md").status_code == 200


def test_response_headers_look_like_githubs(seeded: FakeGitHub) -> None:
    with httpx.Client(base_url=seeded.api_url, trust_env=False, verify=TLS) as api:
        first = api.get(
            f"/repos/{REPO}/pulls/2",
            headers={
                "Authorization": f"Bearer {ACTIONS_TOKEN}",
                "X-GitHub-Api-Version": "2022-11-28",
            },
        )
        second = api.get(
            f"/repos/{REPO}/pulls/2", headers={"Authorization": f"token {ACTIONS_TOKEN}"}
        )
    assert first.headers["content-type"] == "application/json; charset=utf-8"
    assert first.headers["x-github-api-version-selected"] == "2022-11-28"
    assert first.headers["x-ratelimit-limit"] == "1000"
    assert first.headers["x-ratelimit-resource"] == "core"
    assert int(first.headers["x-ratelimit-remaining"]) == 999
    assert int(second.headers["x-ratelimit-used"]) == 2
    assert int(second.headers["x-ratelimit-reset"]) > 0
    assert first.headers["x-github-request-id"] != second.headers["x-github-request-id"]
    assert seeded.rate_limit_used(ACTIONS_TOKEN) == 2


def test_primary_rate_limit_exhaustion(seeded: FakeGitHub) -> None:
    seeded.add_token(
        "ghs_tiny", GITHUB_ACTIONS_BOT, permissions={}, rate_limit=2, installation_id=7
    )
    with http(seeded, "ghs_tiny") as api:
        codes = [api.get(f"/repos/{REPO}/pulls/2").status_code for _ in range(3)]
        limited = api.get(f"/repos/{REPO}/pulls/2")
    assert codes == [200, 200, 403]
    assert limited.json()["message"] == "API rate limit exceeded for installation ID 7."
    assert limited.headers["x-ratelimit-remaining"] == "0"


def test_a_conditional_get_is_answered_304_and_not_counted(seeded: FakeGitHub) -> None:
    with http(seeded) as api:
        first = api.get(f"/repos/{REPO}/pulls/2/files")
        etag = first.headers["etag"]
        again = api.get(f"/repos/{REPO}/pulls/2/files", headers={"If-None-Match": etag})
        seeded.set_pull_request_files(REPO, PR_NUMBER, ["docs/changed.md"])
        changed = api.get(f"/repos/{REPO}/pulls/2/files", headers={"If-None-Match": etag})
    assert etag.startswith('W/"')
    assert (again.status_code, again.content, again.headers["etag"]) == (304, b"", etag)
    assert again.headers["x-ratelimit-remaining"] == first.headers["x-ratelimit-remaining"]
    assert changed.status_code == 200
    assert changed.headers["etag"] != etag
    assert seeded.rate_limit_used(ACTIONS_TOKEN) == 2


def test_an_exhausted_rate_limit_comes_back_at_its_reset(seeded: FakeGitHub) -> None:
    with http(seeded) as api:
        seeded.exhaust_rate_limit(ACTIONS_TOKEN, resets_in=60, status=429)
        limited = api.get(f"/repos/{REPO}/pulls/2")
        seeded.exhaust_rate_limit(ACTIONS_TOKEN, resets_in=0)
        after_reset = api.get(f"/repos/{REPO}/pulls/2")
    assert limited.status_code == 429
    assert limited.headers["x-ratelimit-remaining"] == "0"
    assert int(limited.headers["x-ratelimit-reset"]) >= int(time.time()) + 58
    assert after_reset.status_code == 200


# --------------------------------------------------------------------------- secrets


def test_repository_secret_written_through_pygithub_decrypts(seeded: FakeGitHub) -> None:
    repo = client(seeded, APP_TOKEN).get_repo(REPO)
    repo.create_secret("DEPLOY_TOKEN", "s3cr3t value")
    repo.create_secret("DEPLOY_TOKEN", "rotated")
    puts = seeded.calls_to("PUT", r"/actions/secrets/DEPLOY_TOKEN$")
    assert [c.status for c in puts] == [201, 204]
    assert seeded.secret_value(REPO, "DEPLOY_TOKEN") == "rotated"
    record = seeded.secret(REPO, "DEPLOY_TOKEN")
    assert record is not None
    assert record["key_id"] == seeded.public_key(REPO)["key_id"]
    with pytest.raises(github.GithubException) as caught:
        client(seeded, ACTIONS_TOKEN).get_repo(REPO).create_secret("X", "y")
    assert caught.value.status == 403
    assert caught.value.data["message"] == NOT_ACCESSIBLE_BY_INTEGRATION


def seal(public_key: dict[str, str], value: str) -> str:
    box = SealedBox(PublicKey(base64.b64decode(public_key["key"])))
    return base64.b64encode(box.encrypt(value.encode())).decode()


def test_environment_and_organization_secrets_over_httpx(seeded: FakeGitHub) -> None:
    seeded.add_environment(REPO, "production")
    seeded.add_organization("acme")
    with http(seeded, APP_TOKEN) as api:
        env_key = api.get(f"/repos/{REPO}/environments/production/secrets/public-key").json()
        env_put = api.put(
            f"/repos/{REPO}/environments/production/secrets/API_KEY",
            json={"encrypted_value": seal(env_key, "env-value"), "key_id": env_key["key_id"]},
        )
        missing_env = api.get(f"/repos/{REPO}/environments/staging/secrets/public-key")
        org_key = api.get("/orgs/acme/actions/secrets/public-key").json()
        no_visibility = api.put(
            "/orgs/acme/actions/secrets/ORG_KEY",
            json={"encrypted_value": seal(org_key, "org-value"), "key_id": org_key["key_id"]},
        )
        org_put = api.put(
            "/orgs/acme/actions/secrets/ORG_KEY",
            json={
                "encrypted_value": seal(org_key, "org-value"),
                "key_id": org_key["key_id"],
                "visibility": "all",
            },
        )
        wrong_key = api.put(
            f"/repos/{REPO}/actions/secrets/OTHER",
            json={"encrypted_value": seal(org_key, "v"), "key_id": org_key["key_id"]},
        )
        not_base64 = api.put(
            f"/repos/{REPO}/actions/secrets/OTHER",
            json={"encrypted_value": "not base64!", "key_id": org_key["key_id"]},
        )
        no_key_id = api.put(
            f"/repos/{REPO}/actions/secrets/OTHER", json={"encrypted_value": "AAAA"}
        )
    assert env_put.status_code == 201
    assert env_put.json() == {}
    assert seeded.secret_value(REPO, "API_KEY", environment="production") == "env-value"
    assert missing_env.status_code == 404
    assert no_visibility.status_code == 422
    assert no_visibility.json()["message"] == 'Invalid request.\n\n"visibility" wasn\'t supplied.'
    assert org_put.status_code == 201
    assert seeded.org_secret_value("acme", "ORG_KEY") == "org-value"
    assert wrong_key.status_code == 422
    assert wrong_key.json()["message"] == (
        "Bad request - validation failed due to an improperly encrypted secret"
    )
    assert not_base64.status_code == 422
    assert no_key_id.json()["message"] == 'Invalid request.\n\n"key_id" wasn\'t supplied.'


# --------------------------------------------------------------------------- contents


def test_contents_at_a_ref(seeded: FakeGitHub) -> None:
    pr = seeded.pull_request(REPO, PR_NUMBER)
    base_sha = pr["base"]["sha"]
    config = "rules:\n  - path: docs/**\n" + "# padding\n" * 20
    seeded.set_file_content(REPO, ".github/approvalflow.yml", config, ref=base_sha)
    seeded.set_file_content(REPO, ".github/approvalflow.yml", "rules: []\n", ref="changes")
    repo = client(seeded).get_repo(REPO)
    at_base = repo.get_contents(".github/approvalflow.yml", ref=base_sha)
    assert not isinstance(at_base, list)
    assert at_base.decoded_content.decode() == config
    assert at_base.encoding == "base64"
    assert all(len(line) <= 60 for line in at_base.content.splitlines())
    on_master = repo.get_contents(".github/approvalflow.yml", ref="master")  # base branch name
    assert not isinstance(on_master, list)
    assert on_master.sha == at_base.sha
    at_head = repo.get_contents(".github/approvalflow.yml", ref=HEAD_SHA)
    assert not isinstance(at_head, list)
    assert at_head.decoded_content == b"rules: []\n"
    listing = repo.get_contents(".github", ref=base_sha)
    assert isinstance(listing, list)
    assert [item.path for item in listing] == [".github/approvalflow.yml"]
    with pytest.raises(github.UnknownObjectException):
        repo.get_contents("missing.yml", ref=base_sha)
    with http(seeded) as api:
        unknown_ref = api.get(f"/repos/{REPO}/contents/x.yml", params={"ref": "no-such-branch"})
    assert unknown_ref.status_code == 404
    assert unknown_ref.json()["message"] == "No commit found for the ref no-such-branch"


# --------------------------------------------------------------------------- faults, latency, log


def test_injected_faults(seeded: FakeGitHub) -> None:
    seeded.inject("GET", r"/pulls/2$", 502, count=2)
    seeded.inject("GET", r"/pulls/2/files$", 404, body={"message": "Not Found"})
    seeded.inject("GET", r"/issues/2/comments$", 200, drop=True)
    with http(seeded) as api:
        codes = [api.get(f"/repos/{REPO}/pulls/2").status_code for _ in range(3)]
        assert api.get(f"/repos/{REPO}/pulls/2/files").json() == {"message": "Not Found"}
        with pytest.raises(httpx.RemoteProtocolError):
            api.get(f"/repos/{REPO}/issues/2/comments")
        assert api.get(f"/repos/{REPO}/issues/2/comments").status_code == 200
    assert codes == [502, 502, 200]
    dropped = [c for c in seeded.calls if c.status == 0]
    assert len(dropped) == 1
    assert dropped[0].injected


def test_secondary_rate_limit_makes_pygithub_wait(seeded: FakeGitHub) -> None:
    seeded.inject_secondary_rate_limit("POST", r"/issues/2/comments$", retry_after=1)
    pr = client(seeded).get_repo(REPO).get_pull(PR_NUMBER)
    pr.create_issue_comment("after waiting")
    first, second = seeded.calls_to("POST", r"/issues/2/comments$")
    assert first.status == 403
    assert first.response_headers["Retry-After"] == "1"
    assert str(first.response["message"]).startswith("You have exceeded a secondary rate limit")
    assert second.status == 201
    assert second.started - first.ended >= 0.9
    seeded.inject_secondary_rate_limit("POST", r"/issues/2/comments$", status=429, retry_after=0)
    with http(seeded) as api:
        limited = api.post(f"/repos/{REPO}/issues/2/comments", json={"body": "x"})
    assert limited.status_code == 429
    assert limited.headers["retry-after"] == "0"


def test_latency_and_call_log(seeded: FakeGitHub) -> None:
    seeded.latency = 0.1
    with http(seeded) as api:
        api.post(f"/repos/{REPO}/issues/2/comments", json={"body": "logged"}, params={"x": "1"})
    seeded.latency = 0
    call = seeded.calls[-1]
    assert call.ended - call.started >= 0.1
    assert (call.method, call.route, call.query, call.json, call.status) == (
        "POST",
        f"/repos/{REPO}/issues/2/comments",
        {"x": ["1"]},
        {"body": "logged"},
        201,
    )
    assert call.login == "github-actions[bot]"
    assert "authorization" not in {key.lower() for key in call.request_headers}
    assert ACTIONS_TOKEN not in repr(seeded.calls)


def test_concurrent_writes_get_distinct_ascending_ids(seeded: FakeGitHub) -> None:
    with http(seeded) as api:

        def post(index: int) -> int:
            answer = api.post(f"/repos/{REPO}/issues/2/comments", json={"body": f"c{index}"})
            assert answer.status_code == 201
            return int(answer.json()["id"])

        with ThreadPoolExecutor(max_workers=8) as pool:
            ids = list(pool.map(post, range(24)))
    assert len(set(ids)) == 24
    listed = [c["id"] for c in seeded.issue_comments(REPO, PR_NUMBER)]
    assert listed == sorted(ids)


def test_comments_since_filter(seeded: FakeGitHub) -> None:
    seeded.add_issue_comment(REPO, PR_NUMBER, "old", created_at="2020-01-01T00:00:00Z")
    seeded.add_issue_comment(REPO, PR_NUMBER, "new", created_at="2024-01-01T00:00:00Z")
    with http(seeded) as api:
        since = api.get(
            f"/repos/{REPO}/issues/2/comments", params={"since": "2023-01-01T00:00:00Z"}
        ).json()
    assert [c["body"] for c in since] == ["new"]


# --------------------------------------------------------------------------- listing pulls


def test_pull_requests_listed_by_state_newest_first_over_pages(fake: FakeGitHub) -> None:
    """GitHub's list: ``pull-request-simple`` items (no ``merged``), filtered by state, sorted,
    paged through absolute ``Link`` URLs; the gateway reads merged from ``merged_at``."""
    payload = load_payload()
    for number in range(1, 301):
        pr = {**payload["pull_request"], "number": number}
        pr["updated_at"] = f"2026-01-01T00:{number // 60:02d}:{number % 60:02d}Z"
        if number % 3 == 0:
            pr |= {"state": "closed", "merged_at": "2026-01-02T00:00:00Z"}
            pr["merge_commit_sha"] = f"{number:040x}"
        fake.add_pull_request({**payload, "pull_request": pr})
    with http(fake) as api:
        first = api.get(f"/repos/{REPO}/pulls", params={"state": "closed", "per_page": 30})
    assert "merged" not in first.json()[0]
    assert "merged_at" in first.json()[0]
    assert [pr["number"] for pr in first.json()][:2] == [300, 297]  # created equal: by number
    assert 'rel="next"' in first.headers["Link"]

    gateway = GitHubGateway(fake.api_url, ACTIONS_TOKEN)
    open_prs = gateway.pull_requests(REPO, "open")
    closed = gateway.pull_requests(REPO, "closed", "2026-01-01T00:01:00Z")
    gateway.close()

    assert len(open_prs) == 200
    assert not any(pr.merged for pr in open_prs)
    assert [pr.number for pr in open_prs][:3] == [299, 298, 296]  # updated last, first
    assert [pr.number for pr in closed] == list(range(300, 59, -3))  # stopped at the window
    assert all(pr.merged and pr.state == "closed" for pr in closed)
    assert closed[0].merge_commit_sha == f"{300:040x}"
    pages = fake.calls_to("GET", r"/pulls$")
    assert any("/repositories/" in call.path for call in pages)  # followed the next links
