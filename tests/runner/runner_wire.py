"""Test-side models of what GitHub does with our output, written from its sources and docs.

* How the Actions runner finds workflow commands in a log line (actions/runner,
  ``ActionCommand.TryParseV2`` and the legacy ``TryParse``), including a stricter variant that
  ignores zero-width characters, as .NET's culture-aware string matching may.
* How it reads the ``GITHUB_OUTPUT`` file (``FileCommandManager``, Linux line ends).
* How GitHub's markdown splits a table row into cells (cmark-gfm ``table.c``) and what an
  inline code span shows (CommonMark 0.31, "Code spans").

These are deliberately independent of the code under test.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

# char.IsWhiteSpace in .NET: what String.TrimStart() removes.
DOTNET_WHITESPACE = (
    "\t\n\x0b\x0c\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008"
    "\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)
_RUNNER_LINE_END = re.compile(r"\r\n|\r|\n")


@dataclass
class Command:
    """One workflow command as the runner parsed it."""

    name: str
    properties: dict[str, str] = field(default_factory=dict)
    data: str = ""


def runner_lines(output: str) -> list[str]:
    """The lines the runner reads from ``output`` (.NET ReadLine: CR, LF and CRLF end a line)."""
    lines = _RUNNER_LINE_END.split(output)
    if lines and lines[-1] == "":
        lines.pop()
    return lines


def _unescape(s: str, mapping: list[tuple[str, str]]) -> str:
    for token, replacement in mapping:
        s = s.replace(replacement, token)
    return s


_DATA = [("\r", "%0D"), ("\n", "%0A"), ("%", "%25")]
_PROPERTY = [("\r", "%0D"), ("\n", "%0A"), (":", "%3A"), (",", "%2C"), ("%", "%25")]
_LEGACY = [(";", "%3B"), ("\r", "%0D"), ("\n", "%0A"), ("]", "%5D"), ("%", "%25")]


def unescape_data(s: str) -> str:
    """What the runner makes of a command's escaped data."""
    return _unescape(s, _DATA)


def unescape_property(s: str) -> str:
    """What the runner makes of a command's escaped property value."""
    return _unescape(s, _PROPERTY)


def _parse_v2(message: str) -> Command | None:
    message = message.lstrip(DOTNET_WHITESPACE)
    if not message.startswith("::"):
        return None
    end = message.find("::", 2)
    if end < 0:
        return None
    info = message[2:end]
    name, space, rest = info.partition(" ")
    if not name:
        return None
    command = Command(name)
    if space:
        for prop in rest.strip(DOTNET_WHITESPACE).split(","):
            pair = [part for part in prop.split("=", 1) if part]
            if len(pair) == 2:
                command.properties[pair[0]] = unescape_property(pair[1])
    command.data = unescape_data(message[end + 2 :])
    return command


def _parse_v1(message: str) -> Command | None:
    start = message.find("##[")
    if start < 0:
        return None
    end = message.find("]", start)
    if end < 0:
        return None
    info = message[start + 3 : end]
    name, space, rest = info.partition(" ")
    if not name:
        return None
    command = Command(name)
    if space:
        for prop in rest.split(";"):
            pair = [part for part in prop.split("=", 1) if part]
            if len(pair) == 2:
                command.properties[pair[0]] = _unescape(pair[1], _LEGACY)
    command.data = _unescape(message[end + 1 :], _LEGACY)
    return command


def _ignorable(c: str) -> bool:
    """Characters an ICU culture comparison may skip: format characters and fillers."""
    return (
        unicodedata.category(c) == "Cf"
        or c in ("\u034f\u115f\u1160\u17b4\u17b5\u180b\u180c\u180d\u3164\uffa0")
        or "\ufe00" <= c <= "\ufe0f"
        or "\U000e0100" <= c <= "\U000e01ef"
    )


def skeleton(line: str) -> str:
    """``line`` without the characters culture-aware matching may look through."""
    return "".join(c for c in line if not _ignorable(c))


def parse_line(line: str) -> Command | None:
    """The command the runner would see in ``line``: any name counts, ignorables are looked
    through (stricter than the runner, which checks names against its registered commands)."""
    for candidate in (line, skeleton(line)):
        command = _parse_v2(candidate) or _parse_v1(candidate)
        if command is not None:
            return command
    return None


def commands(output: str) -> list[Command]:
    """Every command in a log, in order."""
    found = (parse_line(line) for line in runner_lines(output))
    return [command for command in found if command is not None]


def parse_output_file(text: str) -> list[tuple[str, str]]:
    """``(name, value)`` pairs the runner reads from a ``GITHUB_OUTPUT`` file, in order."""
    pairs: list[tuple[str, str]] = []
    index = 0

    def read_line() -> tuple[str | None, str | None]:
        nonlocal index
        if index >= len(text):
            return None, None
        start = index
        lf = text.find("\n", index)
        if lf < 0:
            index = len(text)
            return text[start:], None
        index = lf + 1
        return text[start:lf], "\n"

    line, _ = read_line()
    while line is not None:
        if line:
            equals = line.find("=")
            heredoc = line.find("<<")
            if equals >= 0 and (heredoc < 0 or equals < heredoc):
                name, _, value = line.partition("=")
                pairs.append((name, value))
            elif heredoc >= 0 and (equals < 0 or heredoc < equals):
                name, _, delimiter = line.partition("<<")
                if not name or not delimiter:
                    raise ValueError(f"invalid format {line!r}")
                start = end = index
                temp, newline = read_line()
                while temp != delimiter:
                    if temp is None or newline is None:
                        raise ValueError(f"matching delimiter not found {delimiter!r}")
                    end = index - len(newline)
                    temp, newline = read_line()
                pairs.append((name, text[start:end] if end > start else ""))
            else:
                raise ValueError(f"invalid format {line!r}")
        line, _ = read_line()
    return pairs


def table_cells(row: str) -> list[str]:
    """The cells of a table row as GitHub's cmark-gfm splits them, ``\\|`` unescaped.

    A pipe right after a backslash belongs to the cell (the scanner takes the longest match
    of ``(escaped_char | [^|])+`` and the backslash can always be read as a plain character),
    and then ``\\|`` becomes ``|`` in the cell.
    """
    row = row.strip()
    if row.startswith("|"):
        row = row[1:]
    if row.endswith("|") and not row.endswith("\\|"):
        row = row[:-1]
    return [cell.replace("\\|", "|").strip() for cell in re.split(r"(?<!\\)\|", row)]


def code_span_content(span: str) -> str:
    """What a CommonMark inline code span ``span`` (and nothing else) shows."""
    opening = len(span) - len(span.lstrip("`"))
    closing = len(span) - len(span.rstrip("`"))
    assert opening > 0, span
    assert opening == closing, span
    content = span[opening:-closing]
    assert "`" * opening not in re.findall(r"`+", content), "a run of the fence length inside"
    content = content.replace("\n", " ")
    if content.startswith(" ") and content.endswith(" ") and content.strip(" "):
        content = content[1:-1]
    return content
