"""``approvalflow-sync validate [FILE]``: check a mapping file before a workflow depends on it.

Problems print as ``file:line:col: message``, one per line, errors first; patterns that match no
file of the repository are warnings. Exit 2 when there is an error, else 0.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TextIO

from approvalflow_sync.core.mapping import (
    DEFAULT_MAPPING_FILE,
    MappingError,
    compile_mapping,
    read_mapping,
)
from approvalflow_sync.github.checkout import Listing


def run(file: str | None, repo: str | None, out: TextIO, err: TextIO) -> int:
    """Check ``file`` (default ``.github/approvalflow.yml``) and its patterns against ``repo``."""
    listing = Listing(repo or os.getcwd())  # git walks the tree while the mapping loads
    path = str(Path(file or DEFAULT_MAPPING_FILE))
    try:
        mapping = read_mapping(path)
        matcher = compile_mapping(mapping)
    except MappingError as error:
        listing.cancel()
        for problem in error.problems:
            print(f"{problem} [{problem.severity}]", file=err)
        return error.exit_code
    warnings = matcher.unmatched_patterns(listing.files())
    err.write("".join(f"{problem} [warning]\n" for problem in warnings))  # one write, not 10,000
    pages = {(rule.space, page) for rule in mapping.rules for page in rule.pages}
    spaces = {space for space, _page in pages}
    print(
        f"{path}: OK: {len(mapping.rules)} rules, {len(pages)} pages in {len(spaces)} spaces"
        + (f", {len(warnings)} warning{'' if len(warnings) == 1 else 's'}" if warnings else ""),
        file=out,
    )
    return 0
