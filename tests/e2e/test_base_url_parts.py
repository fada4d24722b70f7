"""The base URL built from its parts reaches ApprovalFlow: both documented forms, over HTTP.

The parts give ``https://api.atlassian.com/...`` or ``https://<site>/gateway/...``; a transport
sends those requests to the sandbox on loopback, path and all, so the path the program builds is
the one the sandbox must recognise (with the right cloud, app and environment ids only).
"""

from __future__ import annotations

import httpx
import pytest

from approvalflow_sync.approvalflow.base_url import build_base_url
from approvalflow_sync.approvalflow.client import ApprovalFlowClient
from approvalflow_sync.errors import APIStatusError
from approvalflow_sync.retry import RetryPolicy
from approvalflow_sync.sandbox import APP_ID, CLOUD_ID, DEFAULT_TOKEN, ENVIRONMENT_ID, SandboxServer
from change_sets import create_and_find

LINK = "https://github.com/acme/docs/pull/3"
FORMS = {"cloud-id": {"cloud_id": CLOUD_ID}, "site": {"site": "acme.atlassian.net"}}


class ToSandbox(httpx.BaseTransport):
    """Sends every request to the sandbox's host and port, keeping its path and query."""

    def __init__(self, sandbox: SandboxServer) -> None:
        self._inner = httpx.HTTPTransport()
        self._host, self._port = sandbox.host, sandbox.port

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        request.url = request.url.copy_with(scheme="http", host=self._host, port=self._port)
        return self._inner.handle_request(request)

    def close(self) -> None:
        self._inner.close()


def client_for(sandbox: SandboxServer, base_url: str) -> ApprovalFlowClient:
    http = httpx.Client(transport=ToSandbox(sandbox), trust_env=False)
    return ApprovalFlowClient(base_url, DEFAULT_TOKEN, http=http, retry=RetryPolicy.no_backoff(1))


@pytest.mark.parametrize("form", list(FORMS))
def test_a_base_url_built_from_its_parts_does_a_whole_round(
    sandbox: SandboxServer, form: str
) -> None:
    base_url = build_base_url(app_id=APP_ID, environment_id=ENVIRONMENT_ID, **FORMS[form])
    with client_for(sandbox, base_url) as af:
        cs = create_and_find(af, "12345", "PR-3 Docs", ["67890"], reference_url=LINK)
        af.archive_change_set(cs.id)
        archived = af.get_change_set(cs.id)

    assert base_url.startswith("https://")
    assert base_url.endswith(f"/{APP_ID}_{ENVIRONMENT_ID}")
    assert (archived.id, archived.page_ids, archived.is_open) == (cs.id, ["67890"], False)


def test_a_wrong_part_is_not_found(sandbox: SandboxServer) -> None:
    base_url = build_base_url(cloud_id=CLOUD_ID, app_id=APP_ID, environment_id="wrong-env")

    with client_for(sandbox, base_url) as af, pytest.raises(APIStatusError, match="environment id"):
        af.list_change_sets("12345")
