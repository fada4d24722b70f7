"""Writing the refresh token back into an Actions secret, against the fake GitHub over HTTP.

The fake holds a real libsodium key pair per repository, environment and organisation; reading a
secret back decrypts the sealed box with the private key, so a passing test proves the value
would open on a runner.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from approvalflow_sync.errors import ConfigError, SecretWriteError
from approvalflow_sync.github.secrets import parse_secret_target, write_secret
from approvalflow_sync.retry import RetryPolicy
from fakes.github import ACTIONS_TOKEN, APP_TOKEN, FINE_GRAINED_TOKEN, PAT_TOKEN, FakeGitHub
from fakes.schema import check_response

REPO = "Codertocat/Hello-World"
ORG = "octo-org"
NAME = "APPROVALFLOW_REFRESH_TOKEN"
VALUE = "rt-new-value-0123456789"


@pytest.fixture
def github() -> Iterator[FakeGitHub]:
    with FakeGitHub() as fake:
        fake.add_repository(full_name=REPO)
        fake.add_environment(REPO, "production")
        fake.add_organization(ORG)
        yield fake
        assert fake.errors == []
        for call in fake.calls:  # every answer PyGithub got is one GitHub documents
            if call.operation is not None and not call.injected:
                check_response(call.operation, call.status, call.response)


def test_a_repository_secret_decrypts_to_the_value(github: FakeGitHub) -> None:
    target = write_secret(github.api_url, APP_TOKEN, NAME, VALUE, repo=REPO)
    assert target.describe() == f"repository secret {NAME} of {REPO}"
    assert github.secret_value(REPO, NAME) == VALUE


def test_an_existing_secret_is_overwritten(github: FakeGitHub) -> None:
    github.set_secret(REPO, NAME, "the-spent-one")
    write_secret(github.api_url, PAT_TOKEN, NAME.lower(), VALUE, repo=REPO)
    assert github.secret_value(REPO, NAME) == VALUE


def test_an_environment_secret_decrypts_to_the_value(github: FakeGitHub) -> None:
    write_secret(github.api_url, APP_TOKEN, f"env:production/{NAME}", VALUE, repo=REPO)
    assert github.secret_value(REPO, NAME, environment="production") == VALUE
    assert github.secret(REPO, NAME) is None


def test_a_new_organisation_secret_is_shared_with_this_repository_only(
    github: FakeGitHub,
) -> None:
    write_secret(github.api_url, APP_TOKEN, f"org:{ORG}/{NAME}", VALUE, repo=REPO)
    assert github.org_secret_value(ORG, NAME) == VALUE
    record = github.org_secret(ORG, NAME)
    assert record is not None
    assert record["visibility"] == "selected"
    assert record["selected_repository_ids"] == [github.repository(REPO)["id"]]
    with pytest.raises(ConfigError, match="give the repository"):
        write_secret(github.api_url, APP_TOKEN, f"org:{ORG}/OTHER", VALUE)
    assert github.org_secret(ORG, "OTHER") is None


def test_an_organisation_secret_keeps_its_visibility(github: FakeGitHub) -> None:
    github.set_org_secret(ORG, NAME, "the-spent-one", visibility="all")
    write_secret(github.api_url, APP_TOKEN, f"org:{ORG}/{NAME}", VALUE)
    record = github.org_secret(ORG, NAME)
    assert record is not None
    assert (record["visibility"], record["selected_repository_ids"]) == ("all", [])
    assert github.org_secret_value(ORG, NAME) == VALUE


def test_a_selected_organisation_secret_keeps_every_repository(github: FakeGitHub) -> None:
    ids = [github.add_repository(full_name=f"{ORG}/repo-{n}")["id"] for n in range(105)]
    github.set_org_secret(
        ORG, NAME, "the-spent-one", visibility="selected", selected_repository_ids=ids
    )
    write_secret(github.api_url, APP_TOKEN, f"org:{ORG}/{NAME}", VALUE)
    record = github.org_secret(ORG, NAME)
    assert record is not None
    assert record["visibility"] == "selected"
    assert sorted(record["selected_repository_ids"]) == sorted(ids), "every page was read"
    assert github.org_secret_value(ORG, NAME) == VALUE


def test_an_organisation_secret_that_cannot_be_read_is_not_rewritten(github: FakeGitHub) -> None:
    github.set_org_secret(ORG, NAME, "the-spent-one", visibility="selected")
    github.inject("GET", rf"/orgs/{ORG}/actions/secrets/{NAME}$", 502, count=10)
    with pytest.raises(SecretWriteError) as failed:
        write_secret(
            github.api_url, APP_TOKEN, f"org:{ORG}/{NAME}", VALUE, retry=RetryPolicy.no_backoff(2)
        )
    assert failed.value.status == 502
    assert github.calls_to("PUT", rf"/orgs/{ORG}/actions/secrets/{NAME}$") == []
    assert github.org_secret_value(ORG, NAME) == "the-spent-one"


@pytest.mark.parametrize(
    ("route", "body"),
    [
        (r"/secrets/public-key$", {"key_id": "1", "key": "not a key"}),
        (r"/secrets/[A-Z_]+/repositories$", {"total_count": 1, "repositories": None}),
    ],
)
def test_an_answer_not_as_documented_is_a_write_error(
    github: FakeGitHub, route: str, body: dict[str, object]
) -> None:
    github.set_org_secret(ORG, NAME, "the-spent-one", visibility="selected")
    github.inject("GET", route, 200, body)
    with pytest.raises(SecretWriteError, match="GitHub's answer could not be used"):
        write_secret(github.api_url, APP_TOKEN, f"org:{ORG}/{NAME}", VALUE)
    assert github.org_secret_value(ORG, NAME) == "the-spent-one"


def test_a_5xx_on_the_write_is_retried(github: FakeGitHub) -> None:
    github.inject("PUT", rf"/actions/secrets/{NAME}$", 502, count=1)
    write_secret(github.api_url, APP_TOKEN, NAME, VALUE, repo=REPO, retry=RetryPolicy.no_backoff())
    assert [c.status for c in github.calls_to("PUT", rf"/actions/secrets/{NAME}$")] == [502, 201]
    assert github.secret_value(REPO, NAME) == VALUE


def test_the_default_github_token_is_told_it_cannot_write_secrets(github: FakeGitHub) -> None:
    with pytest.raises(SecretWriteError) as refused:
        write_secret(github.api_url, ACTIONS_TOKEN, NAME, VALUE, repo=REPO)
    text = str(refused.value)
    assert refused.value.status == 403
    assert "Resource not accessible by integration" in text
    assert "default GITHUB_TOKEN never can" in text
    assert "secrets-token" in text
    assert '"Secrets: Read and write"' in text
    assert refused.value.target == NAME
    assert github.secret(REPO, NAME) is None


def test_an_org_secret_refusal_names_the_organisation_permission(github: FakeGitHub) -> None:
    with pytest.raises(SecretWriteError) as refused:
        write_secret(github.api_url, ACTIONS_TOKEN, f"org:{ORG}/{NAME}", VALUE)
    assert "Organization permissions" in str(refused.value)
    assert refused.value.target == f"org:{ORG}/{NAME}"


def test_a_fine_grained_token_without_the_permission_is_told_what_it_lacks(
    github: FakeGitHub,
) -> None:
    with pytest.raises(SecretWriteError) as refused:
        write_secret(github.api_url, FINE_GRAINED_TOKEN, NAME, VALUE, repo=REPO)
    assert "personal access token lacks" in str(refused.value)


def test_an_unknown_repository_or_environment_is_a_404_that_says_so(github: FakeGitHub) -> None:
    with pytest.raises(SecretWriteError) as missing:
        write_secret(github.api_url, APP_TOKEN, NAME, VALUE, repo="Codertocat/Nope")
    assert missing.value.status == 404
    assert "does not exist, or the token cannot see it" in str(missing.value)
    with pytest.raises(SecretWriteError, match="environment 'staging'"):
        write_secret(github.api_url, APP_TOKEN, f"env:staging/{NAME}", VALUE, repo=REPO)


def test_no_error_carries_the_value_or_the_token(github: FakeGitHub) -> None:
    for token, target in ((ACTIONS_TOKEN, NAME), ("ghp_unknown_token", NAME), (APP_TOKEN, "X")):
        with pytest.raises(SecretWriteError) as failed:
            write_secret(github.api_url, token, target, VALUE, repo="Codertocat/Nope")
        assert VALUE not in str(failed.value)
        assert token not in str(failed.value)
        assert token not in repr(failed.value)


@pytest.mark.parametrize(
    ("target", "repo", "problem"),
    [
        ("env:production", REPO, "expected env:ENVIRONMENT/NAME"),
        ("org:NAME", None, "expected org:ORG/NAME"),
        ("repo:x/NAME", REPO, "unknown prefix 'repo:'"),
        ("1TOKEN", REPO, "not a secret name"),
        ("MY-TOKEN", REPO, "not a secret name"),
        ("GITHUB_TOKEN2", REPO, "cannot start with GITHUB_"),
        ("env:/NAME", REPO, "expected env:ENVIRONMENT/NAME"),
        ("org:bad org/NAME", None, "not an organisation login"),
        (NAME, None, "needs the repository"),
        (NAME, "just-a-name", "expected OWNER/REPO"),
        ("env:../NAME", REPO, "not an environment name"),
        ("env:./NAME", REPO, "not an environment name"),
        (NAME, "Codertocat/..", "expected OWNER/REPO"),
        (NAME, "../Hello-World", "expected OWNER/REPO"),
        (NAME, "./Hello-World", "expected OWNER/REPO"),
        ("org:octo-org\n/NAME", None, "not an organisation login"),
    ],
)
def test_bad_targets_are_config_errors_that_show_the_forms(
    target: str, repo: str | None, problem: str
) -> None:
    with pytest.raises(ConfigError) as bad:
        parse_secret_target(target, repo)
    assert problem in str(bad.value)


def test_targets_parse_into_their_three_kinds() -> None:
    assert parse_secret_target("my_token", REPO).spec == "MY_TOKEN"
    env = parse_secret_target("env:Production EU/NAME", REPO)
    assert (env.kind, env.environment, env.repo) == ("environment", "Production EU", REPO)
    org = parse_secret_target(f"org:{ORG}/NAME", None)
    assert (org.kind, org.org, org.spec) == ("organization", ORG, f"org:{ORG}/NAME")
