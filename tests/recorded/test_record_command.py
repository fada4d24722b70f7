"""``approvalflow-sync record``: only reads, redacted cassettes, and cassettes that replay.

The cassettes under ``cassettes/reads`` are what users share from real sites (and one recorded
against the sandbox, regenerated with ``APPROVALFLOW_RECORD=1``): each replays through the client
in record mode ``none``, answer by answer.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest
import yaml

from approvalflow_sync.approvalflow.client import ApprovalFlowClient
from approvalflow_sync.cli.main import main
from approvalflow_sync.cli.record import (
    CASSETTE,
    RECORDED_BASE_URL,
    Redactor,
    record_reads,
    recorder,
)
from approvalflow_sync.errors import APIStatusError
from approvalflow_sync.retry import RetryPolicy
from approvalflow_sync.sandbox import DEFAULT_TOKEN, SandboxServer
from change_sets import create_and_find

READS = Path(__file__).parent / "cassettes" / "reads"
RECORDING = os.environ.get("APPROVALFLOW_RECORD") == "1"
TITLE = "PR-7 Secret launch plan"
SUMMARY = "Moves the payroll pages."
REFERENCE = "https://github.com/acme/secret-repo/pull/7"
ARGS = ("--space", "12345", "--page", "67894")


@dataclass(frozen=True)
class Recorded:
    cassette: Path
    said: list[str]
    kept: str
    archived: str


def _client(base_url: str, token: str) -> ApprovalFlowClient:
    http = httpx.Client(trust_env=False)
    return ApprovalFlowClient(base_url, token, http=http, retry=RetryPolicy.no_backoff(1))


@pytest.fixture
def recorded(
    sandbox: SandboxServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> Recorded:
    """Two change sets in the sandbox (one archived), then ``record`` on them."""
    with _client(sandbox.base_url, DEFAULT_TOKEN) as client:
        kept = create_and_find(
            client, "12345", TITLE, ["67890", "67891"], summary=SUMMARY, reference_url=REFERENCE
        )
        archived = create_and_find(
            client,
            "12345",
            "PR-6 Old plan",
            ["88800"],
            summary="Old.",
            reference_url=REFERENCE + "6",
        )
        client.archive_change_set(archived.id)
    httpx.delete(f"{sandbox.admin_url}/calls", trust_env=False)
    monkeypatch.setenv("APPROVALFLOW_TOKEN", DEFAULT_TOKEN)
    assert main(["record", str(tmp_path), *ARGS, "--base-url", sandbox.base_url]) == 0
    said = capsys.readouterr().out.split("\n\n")[0].splitlines()
    calls = httpx.get(f"{sandbox.admin_url}/calls", trust_env=False).json()["calls"]
    assert {(call["method"], call["path"]) for call in calls} == {
        ("GET", "/changeSets"),
        ("GET", "/changeSets/detail"),
        ("POST", "/changeSets/preflight"),
        ("POST", "/pages/preflight"),
    }
    if RECORDING:
        shutil.copy(tmp_path / CASSETTE, READS / "sandbox-reads.yaml")
    return Recorded(tmp_path / CASSETTE, said, kept.id, archived.id)


def _strings(value: Any, key: str = "") -> Iterator[tuple[str, str]]:
    """Every (field name, string) in a JSON value."""
    if isinstance(value, dict):
        for name, item in value.items():
            yield from _strings(item, name)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item, key)
    elif isinstance(value, str):
        yield key, value


def test_record_reads_a_space_and_leaves_nothing_that_names_the_customer(
    recorded: Recorded, sandbox: SandboxServer
) -> None:
    assert recorded.said[0] == "list space 12345: 2 change sets"
    assert f"preflight {recorded.kept}: 2 of 2 pages can be submitted" in recorded.said
    assert any(line.startswith(f"detail {recorded.archived}: status ") for line in recorded.said)
    assert recorded.said[-4:] == [
        "page preflight 67894: can be submitted",
        "page preflight 88800: blocked",
        "page preflight 67890: can be submitted",
        "page preflight 67891: can be submitted",
    ]
    text = recorded.cassette.read_text()
    host = urlsplit(sandbox.base_url).netloc
    for secret in (DEFAULT_TOKEN, "Bearer", TITLE, SUMMARY, "secret-repo", "sandbox-user", host):
        assert secret not in text
    interactions = yaml.safe_load(text)["interactions"]
    assert len(interactions) == len(recorded.said)
    for interaction in interactions:
        assert interaction["request"]["uri"].startswith(RECORDED_BASE_URL)
        body = json.loads(interaction["response"]["body"]["string"])
        for key, value in _strings(body):
            if key in ("title", "summary", "createdBy"):
                assert value.split("-")[0] in ("title", "summary", "account"), (key, value)
            if key == "referenceUrl":
                assert value.startswith("https://redacted.invalid/")


def test_what_record_wrote_replays_through_the_client(recorded: Recorded) -> None:
    cassettes = recorder(recorded.cassette.parent, "none")
    with _client(RECORDED_BASE_URL, "replay-token") as client:
        with cassettes.use_cassette(CASSETTE):
            assert record_reads(client, ["12345"], ["67894"], 3) == recorded.said
        with cassettes.use_cassette(CASSETTE):
            listed = {cs.id: cs for cs in client.list_change_sets("12345")}
            detail = client.get_change_set(recorded.kept)
    kept = listed[recorded.kept]
    assert kept.page_ids == detail.page_ids == ["67890", "67891"]
    assert kept.title == detail.title
    assert kept.title.startswith("title-")
    assert (kept.summary or "").startswith("summary-")
    assert (kept.referenceUrl or "").startswith("https://redacted.invalid/")
    assert (kept.status, listed[recorded.archived].status == "open") == ("open", False)


def test_the_redactor_replaces_what_names_the_customer_wherever_it_appears() -> None:
    account = "557058:f58131cb-b67d-43c7-b30d-6b58d40bd077"
    cloud = "4f2a9c1e-0b7d-4e5a-9c3f-2d1e0f9a8b7c"
    base_url = f"https://api.atlassian.com/svc/confluence/{cloud}/apps/app-31415_env-27182"
    redactor = Redactor(base_url, "tok-SECRET-123")
    body = {
        "success": False,
        "error": f"Denied for {account} (jane@acme.example) on https://acme.atlassian.net/wiki"
        f" via {base_url} with tok-SECRET-123",
        "changeSet": {
            "id": "cs-1",
            "spaceId": "12345",
            "pageRefs": ["67890"],
            "pageTitle": "Payroll",
            "createdBy": {"accountId": account, "displayName": "Jane Roe", "id": "5b10ac8d"},
        },
    }
    response = {
        "status": {"code": 403, "message": "Forbidden"},
        "headers": {"Set-Cookie": ["s=1"], "Content-Type": ["application/json"]}
        | {"X-RateLimit-Remaining": ["9"], "ATL-TraceId": ["abc"]},
        "body": {"string": json.dumps(body).encode()},
    }
    cleaned = redactor.response(response)
    text = cleaned["body"]["string"].decode()
    for secret in (account, "jane@", "acme.atlassian.net", cloud, "31415", "27182", "tok-SECRET"):
        assert secret not in text
    for gone in ("Payroll", "Jane Roe", "5b10ac8d"):
        assert gone not in text
    answer = json.loads(text)
    assert answer["changeSet"]["createdBy"]["accountId"] in answer["error"]  # one placeholder
    assert answer["changeSet"]["pageRefs"] == ["67890"]
    assert (answer["changeSet"]["id"], answer["changeSet"]["spaceId"]) == ("cs-1", "12345")
    assert set(cleaned["headers"]) == {"Content-Type", "X-RateLimit-Remaining"}
    assert (
        redactor.response({**response, "body": {"string": f"<a href={base_url}>".encode()}})[
            "body"
        ]["string"]
        == f"<a href={RECORDED_BASE_URL}>".encode()
    )


@pytest.mark.parametrize(
    ("argv", "said"),
    [
        (["--limit", "0"], "--limit: must be 1 or more"),
        (["--base-url", "http://127.0.0.1:9"], "--token: not set"),
    ],
)
def test_record_refuses_bad_settings_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str], said: str
) -> None:
    assert main(["record", str(tmp_path), *ARGS, *argv]) == 2
    assert said in capsys.readouterr().err


def test_record_overwrites_nothing_and_says_when_vcrpy_is_missing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    argv = ["record", str(tmp_path), *ARGS, "--base-url", "http://127.0.0.1:9", "--token", "t"]
    (tmp_path / CASSETTE).write_text("mine")
    assert main(argv) == 2
    assert "exists; move it away" in capsys.readouterr().err
    assert (tmp_path / CASSETTE).read_text() == "mine"
    (tmp_path / CASSETTE).unlink()
    monkeypatch.setitem(sys.modules, "vcr", None)
    assert main(argv) == 2
    assert "pip install 'approvalflow-sync[record]'" in capsys.readouterr().err


ReadCall = Callable[[ApprovalFlowClient, str], object]
READ_CALLS: dict[tuple[str, str], tuple[str, ReadCall]] = {
    ("GET", "/changeSets"): ("spaceId", ApprovalFlowClient.list_change_sets),
    ("GET", "/changeSets/detail"): ("changeSetId", ApprovalFlowClient.get_change_set),
    ("POST", "/changeSets/preflight"): ("changeSetId", ApprovalFlowClient.preflight_change_set),
    ("POST", "/pages/preflight"): ("pageId", ApprovalFlowClient.preflight_page),
}


@pytest.mark.parametrize("path", sorted(READS.glob("*.yaml")), ids=lambda path: path.name)
def test_every_shared_cassette_replays_through_the_client(path: Path) -> None:
    interactions = yaml.safe_load(path.read_text())["interactions"]
    assert interactions
    with (
        _client(RECORDED_BASE_URL, "replay-token") as client,
        recorder(READS, "none").use_cassette(path.name),
    ):
        for interaction in interactions:
            request = interaction["request"]
            url = urlsplit(request["uri"])
            query = dict(parse_qsl(url.query))
            if "cursor" in query:
                continue  # the list call before it followed the cursor
            name, call = READ_CALLS[(request["method"], url.path)]
            argument = query.get(name) or json.loads(request["body"])[name]
            status = interaction["response"]["status"]["code"]
            if status < 300:
                call(client, argument)
            else:
                with pytest.raises(APIStatusError) as refused:
                    call(client, argument)
                assert refused.value.status == status


def test_a_dir_that_cannot_be_made_is_a_configuration_error_not_a_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    a_file = tmp_path / "a-file"
    a_file.write_text("x")
    argv = ["record", str(a_file / "below"), *ARGS, "--base-url", "http://127.0.0.1:9"]
    assert main([*argv, "--token", "t"]) == 2
    assert "cannot be made" in capsys.readouterr().err
