"""``approvalflow-sync validate [FILE]``: check a mapping file before a workflow depends on it.

Problems print as ``file:line:col: message``, one per line, errors first; patterns that match no
file of the repository are warnings. Exit 2 when there is an error, else 0. Run anywhere inside
the repository: the default file and the files to check patterns against are the repository's.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import TextIO

from approvalflow_sync.core.mapping import (
    DEFAULT_MAPPING_FILE,
    MappingError,
    compile_mapping,
    read_mapping,
)
from approvalflow_sync.github.checkout import Listing, repository_root

POINT_TO_FILE = "give its path: approvalflow-sync validate FILE"
NO_REPOSITORY = (
    "patterns not checked: no git repository here; run validate inside the repository, "
    "or give --repo DIR"
)


def run(args: argparse.Namespace, env: Mapping[str, str], out: TextIO) -> int:
    """Check the file (default: the repository's ``.github/approvalflow.yml``) and its patterns.

    Problems go to stderr, the verdict to ``out``.
    """
    file, err = args.file, sys.stderr
    root = args.repo or repository_root(os.getcwd())
    listing = Listing(root) if root else None  # git walks the tree while the mapping loads
    path = file or os.path.relpath(Path(root or ".") / DEFAULT_MAPPING_FILE)
    try:
        mapping = read_mapping(path, point_to=POINT_TO_FILE)
        matcher = compile_mapping(mapping)
    except MappingError as error:
        if listing is not None:
            listing.cancel()
        for problem in error.problems:
            print(f"{problem} [{problem.severity}]", file=err)
        return error.exit_code
    if listing is None:
        print(f"{path}: {NO_REPOSITORY} [note]", file=err)
    warnings = matcher.unmatched_patterns(listing.files()) if listing is not None else []
    err.write("".join(f"{problem} [warning]\n" for problem in warnings))  # one write, not 10,000
    pages = {(rule.space, page) for rule in mapping.rules for page in rule.pages}
    spaces = {space for space, _page in pages}
    print(
        f"{path}: OK: {len(mapping.rules)} rules, {len(pages)} pages in {len(spaces)} spaces"
        + (f", {len(warnings)} warning{'' if len(warnings) == 1 else 's'}" if warnings else ""),
        file=out,
    )
    return 0
