"""Reading the mapping file: every problem in one pass, each with its line and column.

:func:`read_mapping` does the I/O and :func:`load_mapping` the rest, purely.
"""

from __future__ import annotations

import gc
import os
from pathlib import Path

from approvalflow_sync.core.mapping.model import MAX_FILE_BYTES, Mapping
from approvalflow_sync.core.mapping.yaml_walk import load_yaml
from approvalflow_sync.errors import MappingError, Problem

POINT_TO_INPUT = "set the mapping-file input to the mapping file's path"
"""How the action's user points at another file; ``validate`` says how its own user does."""


def read_mapping(
    path: Path | str, source: str | None = None, *, point_to: str = POINT_TO_INPUT
) -> Mapping:
    """Read and load the mapping file; a missing, unreadable or non-UTF-8 file is a problem too.

    ``source`` names the file in messages (repository-relative, for annotations).
    """
    name = os.fspath(path)
    source = source or name

    def fail(message: str, line: int = 0, column: int = 0) -> MappingError:
        return MappingError([Problem(source, line, column, message)])

    try:
        if os.path.isdir(name):
            raise fail(f"{source} is a directory; {point_to}")
        size = os.stat(name).st_size
        if size > MAX_FILE_BYTES:
            raise fail(too_big(size), 1, 1)
        with open(name, "rb") as file:
            data = file.read()
    except FileNotFoundError:
        raise fail(f"mapping file {source} does not exist; create it, or {point_to}") from None
    except PermissionError:
        raise fail(f"mapping file {source} cannot be read (permission denied)") from None
    except OSError as error:
        raise fail(f"mapping file {source} cannot be read: {error.strerror or error}") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        line, column = _byte_position(data, error.start)
        raise fail(
            f"the file is not UTF-8 text (byte 0x{data[error.start]:02x}); save it as UTF-8",
            line,
            column,
        ) from None
    return load_mapping(text.removeprefix("\ufeff"), source)


def load_mapping(text: str, source: str) -> Mapping:
    """The validated mapping in ``text``, or :class:`MappingError` with every problem found."""
    size = len(text.encode("utf-8", "surrogatepass"))
    if size > MAX_FILE_BYTES:
        raise MappingError([Problem(source, 1, 1, too_big(size))])
    # No garbage collection while loading: it took three quarters of the time of 10,000 rules,
    # walking again and again many small objects that form no reference cycle.
    enabled = gc.isenabled()
    gc.disable()
    try:
        return load_yaml(text, source)
    finally:
        if enabled:
            gc.enable()


def too_big(size: int) -> str:
    return (
        f"the mapping file has {size:,} bytes, over the {MAX_FILE_BYTES // (1024 * 1024)} MB "
        "this action reads; map whole directories (docs/team/**) instead of single files"
    )


def _byte_position(data: bytes, offset: int) -> tuple[int, int]:
    """1-based line and column (in characters) of a byte offset in possibly broken UTF-8."""
    head = data[:offset]
    line_start = head.rfind(b"\n") + 1
    column = len(head[line_start:].decode("utf-8", "replace")) + 1
    return head.count(b"\n") + 1, column
