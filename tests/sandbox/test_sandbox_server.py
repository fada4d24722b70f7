"""The sandbox as a process: state file, seed files, concurrency, start-up, stop, the command."""

from __future__ import annotations

import io
import json
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sandbox_helpers import DOCS, Sandbox, refs

from approvalflow_sync.cli import sandbox as sandbox_command
from approvalflow_sync.cli.main import build_parser
from approvalflow_sync.errors import ConfigError
from approvalflow_sync.sandbox import DEFAULT_TOKEN, SandboxServer, load_seed
from approvalflow_sync.sandbox.server import MAX_CONNECTIONS
from conftest import interruptible

SEED_YAML = """\
spaces:
  - id: 100            # a YAML number is taken as the id "100"
    key: OPS
    name: Operations
    workflows:
      - {id: wf-ops, name: Ops review}
    pages:
      - {id: 1001, title: Runbook, version: 4}
      - {id: 1002, title: Alerts}
tokens:
  - {token: ci-token, scopes: ["read:forge-app:confluence", "read:change-set:custom"]}
"""


@pytest.fixture(scope="module")
def http() -> Iterator[httpx.Client]:
    with httpx.Client(trust_env=False, timeout=5) as client:
        yield client


# -- the state file -------------------------------------------------------------------------------


def test_the_state_file_survives_a_restart(tmp_path: Path, http: httpx.Client) -> None:
    state_file = tmp_path / "state.json"
    with SandboxServer(state_file=state_file, answers="rich") as server:
        af = Sandbox(server, http)
        cs = af.create(["67890", "67891"], referenceUrl="https://x/pull/1")
        af.submit(cs["id"])
        af.admin("approve", {"pageId": "67890"})
        af.admin("tokens", {"token": "kept-token", "scopes": ["read:forge-app:confluence"]})
        before = af.detail(cs["id"])
    saved = json.loads(state_file.read_text())
    assert [c["id"] for c in saved["changeSets"]] == [cs["id"]]

    with SandboxServer(state_file=state_file, answers="rich") as again:
        af = Sandbox(again, http)
        assert af.detail(cs["id"]) == before
        assert af.rollup(cs["id"]) == "partially_approved"
        assert af.call("GET", "/changeSets/detail", token="kept-token").status_code == 403
        assert af.create(["67892"])["id"] != cs["id"]
    assert [p.name for p in tmp_path.iterdir()] == ["state.json"]


def test_the_state_file_is_written_at_start_and_after_each_change(
    tmp_path: Path, http: httpx.Client
) -> None:
    state_file = tmp_path / "state.json"
    with SandboxServer(state_file=state_file, answers="rich") as server:
        assert json.loads(state_file.read_text())["changeSets"] == []
        af = Sandbox(server, http)
        af.create(["67890"])
        assert len(json.loads(state_file.read_text())["changeSets"]) == 1
        af.admin("edit-page", {"pageId": "67891"})
        pages = json.loads(state_file.read_text())["spaces"][0]["pages"]
        assert next(p for p in pages if p["id"] == "67891")["version"] == 6
        af.admin("reset")
        assert json.loads(state_file.read_text())["changeSets"] == []


def test_the_state_file_is_deterministic(tmp_path: Path, http: httpx.Client) -> None:
    texts = []
    for name in ("a.json", "b.json"):
        with SandboxServer(state_file=tmp_path / name) as server:
            Sandbox(server, http).admin("edit-page", {"pageId": "67890"})
        texts.append((tmp_path / name).read_text())
    assert texts[0] == texts[1]
    assert texts[0] == json.dumps(json.loads(texts[0]), indent=2, sort_keys=True) + "\n"


def test_a_state_file_wins_over_the_seed(tmp_path: Path, http: httpx.Client) -> None:
    state_file = tmp_path / "state.json"
    with SandboxServer(state_file=state_file, answers="rich") as server:
        Sandbox(server, http).create(["67890"])
    with SandboxServer(
        seed=load_seed(_write(tmp_path, "s.yaml", SEED_YAML)), state_file=state_file
    ):
        pass
    assert len(json.loads(state_file.read_text())["changeSets"]) == 1


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ("{oops", "not valid JSON"),
        ('{"spaces": []}', "not a sandbox state file"),
        ('{"format": 2, "spaces": [], "changeSets": [{"id": "cs-1"}]}', "not a sandbox state file"),
    ],
)
def test_a_broken_state_file_is_a_config_error(tmp_path: Path, content: str, problem: str) -> None:
    state_file = _write(tmp_path, "state.json", content)
    with pytest.raises(ConfigError) as caught:
        SandboxServer(state_file=state_file, answers="rich")
    assert str(state_file) in str(caught.value)
    assert problem in str(caught.value)


def test_an_unwritable_state_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot write it"):
        SandboxServer(state_file=tmp_path / "missing-dir" / "state.json")


# -- seed files ------------------------------------------------------------------------------------


def test_a_yaml_seed_file_is_served(tmp_path: Path, http: httpx.Client) -> None:
    seed = load_seed(_write(tmp_path, "seed.yaml", SEED_YAML))
    with SandboxServer(seed=seed, answers="rich") as server:
        af = Sandbox(server, http)
        cs = af.create(["1001", "1002"], space="100")
        assert af.preflight(cs["id"])["results"][0]["workflowId"] == "wf-ops"
        assert af.detail(cs["id"])["pageRefs"][0]["currentPageVersion"] == 4
        assert af.detail(cs["id"])["pageRefs"][1]["currentPageVersion"] == 1
        listed = af.call("GET", "/changeSets", params={"spaceId": "100"}, token="ci-token")
        assert listed.status_code == 200
        assert af.refused(400, "GET", "/changeSets", params={"spaceId": DOCS}) == "Space not found"


def test_a_json_seed_file_is_served(tmp_path: Path, http: httpx.Client) -> None:
    seed = {"spaces": [{"id": "7", "workflows": [{"id": "w"}], "pages": [{"id": "70"}]}]}
    loaded = load_seed(_write(tmp_path, "seed.json", json.dumps(seed)))
    assert loaded.spaces[0].key == "SPACE7"
    with SandboxServer(seed=loaded, answers="rich") as server:
        page = Sandbox(server, http).ok("POST", "/pages/preflight", {"pageId": "70"})
        assert page["workflowId"] == "w"


@pytest.mark.parametrize(
    ("name", "content", "problem"),
    [
        ("s.yaml", "spaces: [", "not valid YAML"),
        ("s.json", "{", "not valid JSON: Expecting property name"),
        ("s.yaml", "", "must be a mapping (the seed), got nothing"),
        ("s.yaml", "spaces: {}", "spaces: Input should be a valid list"),
        ("s.yaml", "space: []", "space: unknown field"),
        ("s.yaml", "spaces: [{id: 1, pages: [{id: a1}]}]",
         "spaces[0].pages[0].id: must be a string of digits, got 'a1'"),
        ("s.yaml", "spaces: [{id: 1, pages: [{id: 5}]}, {id: 2, pages: [{id: 5}]}]",
         "page id '5' appears twice"),
        ("s.yaml", "spaces: [{id: 1, pages: [{id: 5, workflow: wf-9}]}]",
         "spaces[0]: page 5: 'wf-9' is not a workflow of space 1"),
        ("s.yaml", "spaces: [{id: 1, pages: [{id: 5, version: 0}]}]",
         "spaces[0].pages[0].version: Input should be greater than or equal to 1, got 0"),
        ("s.yaml", "spaces: [{id: 1, workflows: [{id: w, active: maybe}]}]",
         "spaces[0].workflows[0].active: Input should be a valid boolean, got 'maybe'"),
        ("s.yaml", "spaces: []\ntokens: [{token: t}]", "tokens[0].scopes: Field required"),
    ],
)  # fmt: skip
def test_a_bad_seed_file_is_one_line_naming_the_file(
    tmp_path: Path, name: str, content: str, problem: str
) -> None:
    path = _write(tmp_path, name, content)
    with pytest.raises(ConfigError) as caught:
        load_seed(path)
    message = str(caught.value)
    assert message.startswith(f"seed file {path}: ")
    assert problem in message
    assert "\n" not in message


def test_a_missing_seed_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"seed file .*nope\.yaml: cannot read it"):
        load_seed(tmp_path / "nope.yaml")


def serve(*argv: str) -> int:
    """The ``sandbox`` command as the command line runs it, on a free port."""
    args = build_parser().parse_args(["sandbox", "--port", "0", *argv])
    return sandbox_command.run(args, {}, io.StringIO())


def test_the_command_refuses_a_bad_seed_before_listening(tmp_path: Path) -> None:
    path = _write(tmp_path, "seed.yaml", "spaces: 3")
    with pytest.raises(
        ConfigError, match=r"seed file .*seed\.yaml: spaces: Input should be a valid list"
    ):
        serve("--seed", str(path))


@pytest.mark.parametrize("latency", [-1.0, 1e308, float("nan")])
def test_the_command_refuses_a_latency_out_of_bounds(latency: float) -> None:
    with pytest.raises(ConfigError, match=r"--latency: must be 0 to 60 seconds"):
        serve("--latency", str(latency))


def test_a_bad_seed_given_to_the_constructor_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match=r"^seed: spaces: Input should be a valid list"):
        SandboxServer(seed={"spaces": "none"})


# -- concurrency, start-up and stop ---------------------------------------------------------------


def test_concurrent_creates_all_succeed_with_distinct_ids(http: httpx.Client) -> None:
    with SandboxServer(answers="rich") as server:
        ids: list[str] = []
        errors: list[Exception] = []
        barrier = threading.Barrier(20)

        def create(n: int) -> None:
            try:
                barrier.wait(timeout=5)
                body = {"spaceId": DOCS, "title": f"PR-{n}", "pageRefs": refs(["67890"])}
                answer = http.post(
                    server.base_url + "/changeSets",
                    json=body,
                    headers={"Authorization": f"Bearer {DEFAULT_TOKEN}"},
                )
                answer.raise_for_status()
                ids.append(answer.json()["changeSet"]["id"])
            except Exception as exc:  # reported by the assertion below
                errors.append(exc)

        threads = [threading.Thread(target=create, args=(n,)) for n in range(20)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=20)
        assert errors == []
        assert len(set(ids)) == 20
        listed = Sandbox(server, http).ok("GET", "/changeSets", params={"spaceId": DOCS})
        assert {cs["id"] for cs in listed["changeSets"]} == set(ids)


def test_a_slow_call_does_not_hold_up_the_others(http: httpx.Client) -> None:
    with SandboxServer(answers="rich") as server:
        af = Sandbox(server, http)
        af.admin("faults", {"path": "/changeSets/preflight", "delay": 0.6})
        slow = threading.Thread(target=af.call, args=("POST", "/changeSets/preflight", {}))
        slow.start()
        time.sleep(0.05)
        started = time.monotonic()
        with httpx.Client(trust_env=False) as other:
            Sandbox(server, other).ok("GET", "/changeSets", params={"spaceId": DOCS})
        assert time.monotonic() - started < 0.5
        slow.join()


def test_it_starts_and_answers_in_well_under_a_second() -> None:
    started = time.monotonic()
    server = SandboxServer(port=0)
    server.start()
    try:
        with urllib.request.urlopen(server.admin_url + "/health", timeout=2) as answer:  # noqa: S310 - a loopback URL we built
            assert json.load(answer) == {"ok": True}
        assert time.monotonic() - started < 1.0
    finally:
        server.stop()
    assert server.base_url.startswith("http://127.0.0.1:")
    assert server.port != 0
    assert server.admin_url == server.base_url + "/_sandbox"


def test_stop_is_quick_closes_kept_alive_connections_and_is_idempotent() -> None:
    server = SandboxServer(answers="rich")
    server.start()
    with httpx.Client(trust_env=False) as client:
        client.get(server.admin_url + "/health")  # leaves a kept-alive connection open
        started = time.monotonic()
        server.stop()
        assert time.monotonic() - started < 0.5
        server.stop()
        with pytest.raises(httpx.TransportError):
            client.get(server.admin_url + "/health")


def test_serve_forever_returns_when_stopped_from_another_thread() -> None:
    server = SandboxServer(answers="rich")
    runner = threading.Thread(target=server.serve_forever)
    runner.start()
    with urllib.request.urlopen(server.admin_url + "/health", timeout=2):  # noqa: S310 - loopback
        pass
    server.stop()
    runner.join(timeout=2)
    assert not runner.is_alive()


# -- bounded resources (issue 12, item 8) ---------------------------------------------------------


def test_idle_connections_take_at_most_max_connections_threads() -> None:
    with SandboxServer() as server:
        before = threading.active_count()
        address = (server.host, server.port)
        idle = [socket.create_connection(address, timeout=5) for _ in range(MAX_CONNECTIONS + 40)]
        try:
            assert idle[-1].recv(100).startswith(b"HTTP/1.1 503"), "one too many: refused"
            assert threading.active_count() - before <= MAX_CONNECTIONS
        finally:
            for connection in idle:
                connection.close()
        deadline = time.monotonic() + 5  # their threads see the end and give their slots back
        while httpx.get(f"{server.admin_url}/health").status_code != 200:
            assert time.monotonic() < deadline
            time.sleep(0.05)


@pytest.mark.parametrize(
    "framing",
    [b"Transfer-Encoding: chunked\r\n\r\n-1\r\n", b"Content-Length: 1000000000000\r\n\r\n"],
    ids=["negative chunk size", "huge length"],
)
def test_a_body_is_not_read_whole_when_its_size_is_unbounded(framing: bytes) -> None:
    with SandboxServer() as server, socket.create_connection((server.host, server.port)) as conn:
        conn.settimeout(5)
        conn.sendall(b"POST /changeSets HTTP/1.1\r\nHost: sandbox\r\n" + framing)
        answer = conn.recv(4096)  # while the stream stays open
    assert answer.startswith(b"HTTP/1.1 400")


def test_a_busy_port_is_a_config_error() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(ConfigError, match=f"cannot listen on 127.0.0.1:{port}"):
            SandboxServer(port=port)


def test_the_command_prints_its_address_serves_and_exits_0_on_ctrl_c(tmp_path: Path) -> None:
    seed = _write(tmp_path, "seed.yaml", SEED_YAML)
    command = [sys.executable, "-m", "approvalflow_sync", "sandbox", "--port", "0"]
    started = time.monotonic()
    with subprocess.Popen(
        [*command, "--seed", str(seed)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=interruptible,  # noqa: PLW1509 - one signal() call before exec
    ) as process:
        assert process.stdout is not None
        line = process.stdout.readline()
        ready = time.monotonic() - started
        try:
            words = line.split()
            assert words[:3] == ["ApprovalFlow", "sandbox", "on"]
            assert len(words) == 4  # the URLs and commands follow on lines of their own
            with urllib.request.urlopen(words[3] + "/_sandbox/state", timeout=2) as answer:  # noqa: S310 - loopback
                assert json.load(answer)["spaces"][0]["key"] == "OPS"
        finally:
            process.send_signal(signal.SIGINT)
            _out, err = process.communicate(timeout=10)
    assert process.returncode == 0, err
    assert "Traceback" not in err
    assert ready < 2.0  # a whole Python start; the server itself is timed in-process above


def test_the_sandbox_imports_neither_httpx_nor_yaml() -> None:
    code = (
        "import sys, approvalflow_sync.sandbox; "
        "print(sorted({m.split('.')[0] for m in sys.modules} & "
        "{'httpx', 'github', 'yaml', 'tenacity'}))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=30
    )
    assert result.stdout.strip() == "[]"


def _write(directory: Path, name: str, content: str) -> Path:
    path = directory / name
    path.write_text(content, encoding="utf-8")
    return path
