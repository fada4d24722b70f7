"""Page ids in Markdown files: each publisher's form as it writes it, and the union with the
mapping (the mapping's rule wins over a file it contradicts)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from approvalflow_sync.core.mapping import MatchResult, PageKey, compile_mapping, load_mapping
from approvalflow_sync.core.page_ids import (
    MAX_CHARS,
    Contradiction,
    FileId,
    is_markdown,
    read_id,
    with_file_ids,
)


@pytest.mark.parametrize(
    "text",
    [
        # md2conf: the comment it writes first, or after the front matter, or further down
        "<!-- confluence-page-id: 67890 -->\n\n# Title\n",
        "---\ntitle: T\n---\n<!-- confluence-page-id: 67890 -->\n# Title\n",
        "# Title\n\nText.\n\n<!--confluence_page_id:67890-->\n",
        # markdown-confluence: quoted either way, or a YAML number
        "---\nconnie-publish: true\nconnie-page-id: '67890'\n---\n# Title\n",
        '---\nconnie-page-id: "67890"\n---\n',
        "---\nconnie-page-id: 67890\n---\n",
        # Telefonica's markdown-confluence-sync (and md2conf's alias), CRLF and a BOM
        '\ufeff---\r\nconfluence_page_id: "67890"\r\nsync_to_confluence: true\r\n---\r\n# T\r\n',
        # both forms naming the same page are one page
        "---\nconfluence_page_id: 67890\n---\n<!-- confluence-page-id: 67890 -->\n",
    ],
)
def test_each_publishers_form_gives_the_page(text: str) -> None:
    assert read_id(text) == FileId("67890")


def test_the_space_comes_from_our_front_matter_key() -> None:
    text = '---\nconnie-page-id: "76540"\napprovalflow-space-id: 54321\n---\n'
    assert read_id(text) == FileId("76540", "54321")


def test_an_id_is_kept_as_written_not_read_as_a_yaml_number() -> None:
    assert read_id("---\nconfluence_page_id: 0123\n---\n") == FileId("0123")  # not octal 83


@pytest.mark.parametrize(
    "text",
    [
        "# Just a doc\n",
        "",
        "---\ntitle: no id\n---\n",
        "<!-- confluence-space-key: DOCS -->\n",
        # only the first block is front matter; ids in later ones say nothing
        "---\ntitle: t\n---\ntext\n---\nconnie-page-id: 1\n---\n",
        # a comment that is not md2conf's form
        "<!-- confluence-page-id: abc -->\n",
    ],
)
def test_files_without_an_id_name_no_page(text: str) -> None:
    assert read_id(text) is None


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("---\nconnie-page-id: 1\n---\n<!-- confluence-page-id: 2 -->\n", "names 2 pages (1, 2)"),
        ("---\nconfluence_page_id: TBD\n---\n", "confluence_page_id is 'TBD', not"),
        ("---\nconnie-page-id: [1, 2]\n---\n", "connie-page-id is a list or mapping"),
        ("---\nconnie-page-id: 1.5\n---\n", "not a Confluence id"),
        ("---\nconnie-page-id: 1\napprovalflow-space-id: x\n---\n", "approvalflow-space-id"),
        ("---\nconnie-page-id: [1\n---\n", "front matter is not valid YAML"),
    ],
)
def test_a_wrong_id_is_a_problem_naming_it(text: str, says: str) -> None:
    with pytest.raises(ValueError, match=re.escape(says)):
        read_id(text)


def test_only_the_start_of_a_file_is_read() -> None:
    assert read_id("x" * MAX_CHARS + "<!-- confluence-page-id: 1 -->") is None
    assert read_id("x" * (MAX_CHARS - 40) + "<!-- confluence-page-id: 1 -->") == FileId("1")


def test_yaml_tags_construct_nothing(tmp_path: Path) -> None:
    ran = tmp_path / "ran"
    text = f"---\nconnie-page-id: !!python/object/apply:os.system ['touch {ran}']\n---\n"
    with pytest.raises(ValueError, match="connie-page-id is a list or mapping"):
        read_id(text)
    assert not ran.exists()


def test_markdown_suffixes() -> None:
    assert [is_markdown(p) for p in ("a.md", "b.MARKDOWN", "c.mdx", "d.txt", "md")] == [
        True, True, True, False, False,
    ]  # fmt: skip


MAPPING = load_mapping(
    'space: "12345"\npages:\n  - path: docs/auth/**\n    page: "67890"\n', "m.yml"
)


def match(paths: list[str]) -> MatchResult:
    return compile_mapping(MAPPING).match(paths)


def test_the_union_of_the_mapping_and_the_files() -> None:
    paths = ["docs/auth/login.md", "docs/other.md", "src/x.py"]
    ids = {"docs/other.md": PageKey("12345", "67891")}
    merged, contradictions = with_file_ids(match(paths), ids, paths)
    assert merged.pages_by_file == {
        "docs/auth/login.md": frozenset({PageKey("12345", "67890")}),
        "docs/other.md": frozenset({PageKey("12345", "67891")}),
    }
    assert merged.unmatched_files == ("src/x.py",)
    assert contradictions == []


def test_a_file_the_mapping_contradicts_gets_the_mappings_page_and_is_reported() -> None:
    paths = ["docs/auth/login.md", "docs/auth/agrees.md"]
    ids = {
        "docs/auth/login.md": PageKey("12345", "67899"),
        "docs/auth/agrees.md": PageKey("12345", "67890"),
    }
    merged, contradictions = with_file_ids(match(paths), ids, paths)
    assert merged.pages_by_space == {"12345": ("67890",)}
    mapped = frozenset({PageKey("12345", "67890")})
    assert contradictions == [
        Contradiction("docs/auth/login.md", PageKey("12345", "67899"), mapped)
    ]
