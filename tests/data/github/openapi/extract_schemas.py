"""Regenerate ``schemas.json`` and ``examples/`` from the @octokit/openapi description.

Not used by the tests at run time (they read only the generated files next to this
script). Run by hand when the OpenAPI description is updated::

    .venv/bin/python tests/data/github/openapi/extract_schemas.py \
        /work/shared/github/openapi/api.github.com.octokit-openapi-23.0.2.json.gz

What it does: for each operation the fake GitHub serves, take the ``application/json``
response schema of every documented status code, the request body schema and the
``externalDocs`` URL, inline every ``$ref`` and drop documentation-only keys (description,
example, examples, externalDocs, discriminator, ``x-*``; title is kept). Also writes the
named example answers that are not in the shared examples folder, from
``components/examples``.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent

OPERATIONS = [
    "pulls/list",
    "pulls/get",
    "pulls/list-files",
    "issues/list-comments",
    "issues/create-comment",
    "issues/get-comment",
    "issues/update-comment",
    "issues/delete-comment",
    "repos/create-commit-status",
    "repos/get-combined-status-for-ref",
    "repos/list-commit-statuses-for-ref",
    "actions/get-repo-public-key",
    "actions/create-or-update-repo-secret",
    "actions/get-environment-public-key",
    "actions/create-or-update-environment-secret",
    "actions/get-org-public-key",
    "actions/create-or-update-org-secret",
    "actions/get-org-secret",
    "actions/list-selected-repos-for-org-secret",
    "repos/get-content",
    "repos/get",
    "repos/get-commit",
    "users/get-authenticated",
]

# components/examples copied as examples/<operationId with . for />.<status>.<name>.json
EXTRA_EXAMPLES = [
    ("actions.get-repo-public-key.200", "actions-public-key"),
    ("repos.get-content.200", "content-file-response-if-content-is-a-file"),
    ("repos.get-content.200", "content-file-response-if-content-is-a-directory"),
    ("repos.list-commit-statuses-for-ref.200", "status-items"),
    ("repos.get.200", "full-repository-default-response"),
    (
        "users.get-authenticated.200",
        "private-user-response-with-public-and-private-profile-information",
    ),
]

DROP_KEYS = {"description", "example", "examples", "externalDocs", "discriminator"}


def resolve(node: Any, root: dict[str, Any], stack: tuple[str, ...] = ()) -> Any:
    if isinstance(node, list):
        return [resolve(item, root, stack) for item in node]
    if not isinstance(node, dict):
        return node
    if "$ref" in node:
        ref = node["$ref"]
        if ref in stack:  # recursive schema: stop with an open schema
            return {"x-recursive-ref": ref}
        target: Any = root
        for part in ref.removeprefix("#/").split("/"):
            target = target[part]
        return resolve(target, root, (*stack, ref))
    return {
        key: resolve(value, root, stack)
        for key, value in node.items()
        if key not in DROP_KEYS and not key.startswith("x-")
    }


def main(source: str) -> None:
    raw = gzip.decompress(Path(source).read_bytes())
    api: dict[str, Any] = json.loads(raw)
    by_id: dict[str, tuple[str, str, dict[str, Any]]] = {}
    for path, item in api["paths"].items():
        for method, op in item.items():
            if isinstance(op, dict) and "operationId" in op:
                by_id[op["operationId"]] = (method.upper(), path, op)

    operations: dict[str, Any] = {}
    for op_id in OPERATIONS:
        method, path, op = by_id[op_id]
        responses: dict[str, Any] = {}
        for status, response in op["responses"].items():
            resolved = resolve(response, api)
            content = resolved.get("content") or {}
            media = content.get("application/json") or next(iter(content.values()), None)
            responses[status] = None if media is None else media.get("schema")
        entry: dict[str, Any] = {
            "method": method,
            "path": path,
            "docs_url": op["externalDocs"]["url"],
            "responses": responses,
        }
        body = op.get("requestBody")
        if body is not None:
            entry["request"] = resolve(body, api)["content"]["application/json"]["schema"]
        operations[op_id] = entry

    out = {
        "_source": {
            "package": "npm @octokit/openapi@23.0.2",
            "file": "generated/api.github.com.json (shared copy: "
            "api.github.com.octokit-openapi-23.0.2.json.gz)",
            "uncompressed_sha256": hashlib.sha256(raw).hexdigest(),
            "info.version": api["info"]["version"],
            "how": "tests/data/github/openapi/extract_schemas.py: application/json response "
            "schema per status code (null = no body), request body schema and "
            "externalDocs url (docs_url) of each operationId below; every $ref inlined; "
            "description/example/examples/discriminator/x-* keys dropped.",
        },
        "operations": operations,
        "components": {
            name: resolve(api["components"]["schemas"][name], api)
            for name in ("basic-error", "validation-error", "validation-error-simple")
        },
    }
    (HERE / "schemas.json").write_text(json.dumps(out, indent=1, sort_keys=False) + "\n")

    examples_dir = HERE / "examples"
    examples_dir.mkdir(exist_ok=True)
    for prefix, name in EXTRA_EXAMPLES:
        value = api["components"]["examples"][name]["value"]
        (examples_dir / f"{prefix}.{name}.json").write_text(json.dumps(value, indent=2) + "\n")


if __name__ == "__main__":
    main(sys.argv[1])
