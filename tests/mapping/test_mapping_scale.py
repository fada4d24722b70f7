"""Scale: 10,000 rules against 3,000 changed files and 50,000 repository files, quickly."""

from __future__ import annotations

import time

from approvalflow_sync.core.mapping import (
    compile_mapping,
    load_mapping,
)
from naive_mapping import naive_match

RULES = 10_000
TEAMS = 97


def mapping_text() -> str:
    """80% exact files, 15% directory patterns, 5% ``**`` globs with an exclusion."""
    lines = ['space: "100"', "pages:"]
    for i in range(RULES):
        kind = i % 20
        if kind < 16:
            lines += [f"  - path: docs/team-{i % TEAMS}/page-{i}.md", f"    page: {10_000 + i}"]
        elif kind < 19:
            style = ("docs/area-{i}/**", "docs/area-{i}/", "/docs/area-{i}")[i % 3]
            lines += [f"  - path: {style.format(i=i)}", f'    page: "{10_000 + i}"']
        else:
            team = f"docs/team-{i % TEAMS}"
            lines += [
                f'  - path: ["{team}/**/*.md", "!{team}/**/draft-*.md"]',
                f"    page: {10_000 + i}",
            ]
    return "\n".join(lines) + "\n"


def changed_files(count: int, seed: int) -> list[str]:
    """A reproducible mix: mapped files, files under mapped directories, drafts, other code."""
    files = []
    for n in range(count):
        i = (n * 7_919 + seed * 104_729) % RULES
        choices = (
            f"docs/team-{i % TEAMS}/page-{i}.md",
            f"docs/area-{i}/guide/part-{n}.md",
            f"docs/team-{i % TEAMS}/deep/draft-{n}.md",
            f"docs/team-{i % TEAMS}/deep/note-{n}.md",
            f"src/module_{n}.py",
        )
        files.append(choices[(n * 31 + seed) % len(choices)])
    return files


def test_ten_thousand_rules_against_three_thousand_files() -> None:
    started = time.perf_counter()
    mapping = load_mapping(mapping_text(), "approvalflow.yml")
    loaded = time.perf_counter()
    files = changed_files(3_000, seed=1)
    result = compile_mapping(mapping).match(files)
    matched = time.perf_counter()

    assert len(mapping.rules) == RULES
    assert matched - loaded < 5, f"compiling and matching took {matched - loaded:.2f}s"
    assert loaded - started < 10, f"loading took {loaded - started:.2f}s"
    assert 0 < len(result.unmatched_files) < len(set(files))
    assert len(result.files_by_page) > 1_000

    subset = files[:30]
    assert compile_mapping(mapping).match(subset) == naive_match(mapping, subset)


def test_unmatched_patterns_over_fifty_thousand_repository_files() -> None:
    mapping = load_mapping(mapping_text(), "approvalflow.yml")
    repo_files = changed_files(50_000, seed=2)

    started = time.perf_counter()
    warnings = compile_mapping(mapping).unmatched_patterns(repo_files)
    elapsed = time.perf_counter() - started

    assert elapsed < 5, f"took {elapsed:.2f}s"
    assert warnings
    assert all(w.severity == "warning" for w in warnings)
    present = set(repo_files)
    for warning in warnings[:50]:
        pattern = warning.message.split("'")[1]
        assert pattern not in present
