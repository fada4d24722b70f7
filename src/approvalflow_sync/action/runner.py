"""The workflow-command surface: the only place that writes commands, outputs and the summary.

The runner obeys ``::name k=v::data`` at a line's start and the legacy ``##[name]data`` anywhere
in a line (actions/runner, ``ActionCommand.cs``), on stdout and stderr. So untrusted text is
only ever a command's escaped data or a :func:`plain_line`, and secrets are redacted from all
that is written. Outside Actions no command is printed (``::add-mask::`` would show the secret).
"""

from __future__ import annotations

import logging
import os
import re
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TextIO, TypedDict

from approvalflow_sync.core import markdown
from approvalflow_sync.safe_text import scrub

if TYPE_CHECKING:
    from typing_extensions import Unpack

ANNOTATIONS_SHOWN = 10
"""GitHub shows at most this many annotations of one kind (error, warning, notice) per step."""
ANNOTATION_MESSAGE_LIMIT = 4096
"""The runner cuts an annotation's message to this many characters."""
FOLD_MESSAGE = (
    "… and {count} more {kind}s not shown here (GitHub shows {shown} per step), "
    "see the job summary."
)
SUMMARY_CUT_NOTE = (
    "> [!WARNING]\n"
    "> The rest of this summary was cut: GitHub shows at most 1 MiB of summary per step."
)

_KINDS = ("notice", "warning", "error")
_FOLD_LISTED = 20
_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_OUTPUT_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")
_COMMAND_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]*")
_PROPERTY_NAME = re.compile(r"[a-z][A-Za-z0-9_]*")
# Characters .NET's culture-aware StartsWith/IndexOf may skip (format characters and the other
# default-ignorable code points): treated as absent when looking for "::" and "##[".
_IGNORABLE = (
    "\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180f\u200b-\u200f\u202a-\u202e"
    "\u2060-\u206f\u3164\ufe00-\ufe0f\ufeff\uffa0\ufff0-\ufffb\u0600-\u0605\u06dd\u070f"
    "\u0890\u0891\u08e2\U000110bd\U000110cd\U00013430-\U0001345f\U0001bca0-\U0001bca3"
    "\U0001d173-\U0001d17a\U000e0000-\U000e0fff"
)
_SURROGATES = re.compile("[\ud800-\udfff]")

_LEADING_COMMAND = re.compile(f"^([\\s{_IGNORABLE}]*):([{_IGNORABLE}]*:)")
_LEGACY_COMMAND = re.compile(f"(#[{_IGNORABLE}]*#[{_IGNORABLE}]*)\\[")


def _same(s: str) -> str:
    return s


def escape_data(s: str) -> str:
    return s.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(s: str) -> str:
    return escape_data(s).replace(":", "%3A").replace(",", "%2C")


def _command(
    name: str, message: str, properties: Mapping[str, object], finish: Callable[[str], str]
) -> str:
    if not _COMMAND_NAME.fullmatch(name):
        raise ValueError(f"invalid workflow command name {name!r}")
    pairs = []
    for key, value in properties.items():
        if value is None:
            continue
        if not _PROPERTY_NAME.fullmatch(key):
            raise ValueError(f"invalid workflow command property name {key!r}")
        pairs.append(f"{key}={finish(escape_property(str(value)))}")
    head = f"{name} {','.join(pairs)}" if pairs else name
    return f"::{head}::{finish(escape_data(message))}"


def command(name: str, message: str = "", /, **properties: object) -> str:
    """``::name k=v,…::message``, escaped; None properties left out. ValueError on a bad name."""
    return _command(name, message, properties, _same)


def output_block(name: str, value: str, delimiter: str) -> str:
    """``name<<delimiter``, ``value`` and ``delimiter`` as lines, for the ``GITHUB_OUTPUT`` file;
    ValueError for a bad name, or a delimiter that is not one line absent from ``value``."""
    if not _OUTPUT_NAME.fullmatch(name):
        raise ValueError(f"invalid output name {name!r}")
    if not delimiter or "\n" in delimiter or "\r" in delimiter:
        raise ValueError("the delimiter must be one non-empty line")
    if delimiter in value:
        raise ValueError("the delimiter occurs in the value")
    return f"{name}<<{delimiter}\n{value}\n{delimiter}\n"


class PlainLineFormatter(logging.Formatter):
    """A log record as one plain line, its traceback as plain lines, redacted: the runner
    scans stderr for commands too, and records quote servers' texts."""

    def __init__(self, fmt: str, redact: Callable[[str], str] = _same) -> None:
        super().__init__(fmt)
        self._redact = redact

    def formatMessage(self, record: logging.LogRecord) -> str:  # noqa: N802 - logging's name
        return plain_line(super().formatMessage(record), self._redact)

    def formatException(self, ei: Any) -> str:  # noqa: N802 - logging's name
        return plain_lines(super().formatException(ei), self._redact)

    def formatStack(self, stack_info: str) -> str:  # noqa: N802 - logging's name
        return plain_lines(stack_info, self._redact)


def plain_line(s: str, redact: Callable[[str], str] = _same) -> str:
    """``s`` redacted, as one log line that the runner reads as no workflow command.

    Escaped as command data (one line, reversible); a leading ``::`` and every ``##[`` are
    broken with ``%3A``/``%5B``, looking through the ignorable characters .NET's culture-aware
    matching skips; controls, bidi overrides and lone surrogates become U+FFFD.
    """
    line = redact(escape_data(scrub(redact(s))))
    line = _LEGACY_COMMAND.sub(r"\1%5B", line)
    return _LEADING_COMMAND.sub(r"\1%3A\2", line, count=1)


def plain_lines(text: str, redact: Callable[[str], str] = _same) -> str:
    """Each line of ``text`` as :func:`plain_line` (for tracebacks)."""
    return "\n".join(plain_line(line, redact) for line in _LINE_BREAK.split(text))


class Where(TypedDict, total=False):
    """Where an annotation points; every key may be left out."""

    title: str | None
    file: str | None
    line: int | None
    col: int | None


@dataclass(frozen=True)
class _Annotation:
    message: str
    title: str | None
    file: str | None
    line: int | None
    col: int | None

    def brief(self) -> str:
        """One short line naming the annotation, for the folded one."""
        where = ":".join(str(p) for p in (self.file, self.line) if p is not None)
        what = self.title or _LINE_BREAK.split(self.message, 1)[0]
        text = f"{where}: {what}" if where else what
        return text if len(text) <= 160 else text[:159] + "…"


class Runner:
    """Prints workflow commands and writes the output and summary files of one step; as a
    context manager, so that :meth:`close` folds the annotations past the limit."""

    def __init__(
        self,
        out: TextIO,
        env: Mapping[str, str],
        token_factory: Callable[[], str] = secrets.token_hex,
        *,
        summary_limit: int = markdown.SUMMARY_LIMIT,
    ) -> None:
        self._out = out
        self._in_actions = env.get("GITHUB_ACTIONS") == "true"
        self._output_path = env.get("GITHUB_OUTPUT") or None
        self._summary_path = env.get("GITHUB_STEP_SUMMARY") or None
        self._token_factory = token_factory
        self._summary_limit = summary_limit
        self._masked: set[str] = set()
        self._mask_pattern: re.Pattern[str] | None = None
        self._outputs: dict[str, str] = {}
        self._summary: list[str] = []
        self._summary_cut = False
        self._counts = dict.fromkeys(_KINDS, 0)
        self._held: dict[str, list[_Annotation]] = {kind: [] for kind in _KINDS}

    def __enter__(self) -> Runner:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @property
    def outputs(self) -> Mapping[str, str]:
        return dict(self._outputs)

    @property
    def summary(self) -> str:
        return "".join(self._summary)

    def _print(self, line: str) -> None:
        self._out.write(line + "\n")
        self._out.flush()

    def _clean(self, s: str) -> str:
        return scrub(self.redact(s))

    def mask(self, value: str) -> None:
        """Have GitHub mask ``value`` from now on, and :meth:`redact` hide it (line by line, as
        GitHub masks the log; it refuses blank lines)."""
        for piece in _LINE_BREAK.split(value):
            if not piece.strip() or piece in self._masked:
                continue
            self._masked.add(piece)
            if self._in_actions:
                self._print(f"::add-mask::{escape_data(_SURROGATES.sub(chr(0xFFFD), piece))}")
        ordered = sorted(self._masked, key=len, reverse=True)
        self._mask_pattern = re.compile("|".join(map(re.escape, ordered))) if ordered else None

    def redact(self, text: str) -> str:
        if self._mask_pattern is None:
            return text
        return self._mask_pattern.sub("***", text)

    def info(self, message: str) -> None:
        """Print ``message`` as one plain log line, redacted."""
        self._print(plain_line(message, self.redact))

    def _annotate(self, kind: str, message: str, **where: Unpack[Where]) -> None:
        """An annotation of untrusted text (scrubbed, escaped, redacted); past the ninth of a
        kind they are held back, to be folded into one by :meth:`close`."""
        title, file = where.get("title"), where.get("file")
        line, col = where.get("line"), where.get("col")
        title, file = (None if t is None else self._clean(t) for t in (title, file))
        annotation = _Annotation(self._clean(message), title, file, line, col)
        self._counts[kind] += 1
        if not self._in_actions:
            place = ":".join(str(p) for p in (file, line, col) if p is not None)
            head = f"{kind.capitalize()}: " + (f"{place}: " if place else "")
            head += f"{annotation.title}: " if annotation.title else ""
            self.info(head + annotation.message)
        elif self._counts[kind] < ANNOTATIONS_SHOWN:
            self._print_annotation(kind, annotation)
        else:
            self._held[kind].append(annotation)

    def _print_annotation(self, kind: str, note: _Annotation) -> None:
        where = {"file": note.file, "line": note.line, "col": note.col, "title": note.title}
        self._print(_command(kind, note.message, where, self.redact))

    def notice(self, message: str, **where: Unpack[Where]) -> None:
        self._annotate("notice", message, **where)

    def warning(self, message: str, **where: Unpack[Where]) -> None:
        self._annotate("warning", message, **where)

    def error(self, message: str, **where: Unpack[Where]) -> None:
        self._annotate("error", message, **where)

    def close(self) -> None:
        """Print the annotations held back past the ninth: one as itself, more folded into one."""
        for kind in _KINDS:
            held, self._held[kind] = self._held[kind], []
            if len(held) == 1:
                self._print_annotation(kind, held[0])
            elif held:
                self._print_annotation(kind, self._fold(kind, held))

    def _fold(self, kind: str, held: list[_Annotation]) -> _Annotation:
        count = len(held)
        lines = [FOLD_MESSAGE.format(count=count, kind=kind, shown=ANNOTATIONS_SHOWN)]
        lines.extend(f"- {annotation.brief()}" for annotation in held[:_FOLD_LISTED])
        if count > _FOLD_LISTED:
            lines.append(f"- … and {count - _FOLD_LISTED} more")
        message = "\n".join(lines)[:ANNOTATION_MESSAGE_LIMIT]
        return _Annotation(message, f"{count} more {kind}s", None, None, None)

    def set_output(self, name: str, value: str, *, secret: bool = False) -> None:
        """Set the step output ``name`` to ``value`` (redacted), with a fresh random delimiter;
        ``secret=True`` hands on a masked secret (a rotated token) on purpose, unredacted."""
        if secret and value not in self._masked:
            raise ValueError(f"output {name!r}: mask a secret before handing it on")
        value = _SURROGATES.sub("\ufffd", value if secret else self.redact(value))
        for _ in range(5):
            delimiter = f"ghadelimiter_{self._token_factory()}"
            if delimiter not in value:
                break
        else:
            raise ValueError("could not make an output delimiter that is not in the value")
        block = output_block(name, value, delimiter)
        if self._output_path is not None:
            _append(self._output_path, block)
        self._outputs[name] = value

    def append_summary(self, text: str) -> None:
        """Append markdown to the job summary, redacted; GitHub drops a step's summary over 1 MiB,
        so past that it is cut with :data:`SUMMARY_CUT_NOTE` and later appends are dropped."""
        if self._summary_cut:
            return
        text = _SURROGATES.sub("\ufffd", self.redact(text))
        if not text:
            return
        if not text.endswith("\n"):
            text += "\n"
        if self._summary_path is not None and os.path.exists(self._summary_path):
            used = os.path.getsize(self._summary_path)
        else:
            used = sum(markdown.utf8_size(part) for part in self._summary)
        room = self._summary_limit - used
        if markdown.utf8_size(text) > room:
            self._summary_cut = True
            try:
                text = markdown.truncate(text, room, SUMMARY_CUT_NOTE, size=markdown.utf8_size)
            except ValueError:
                return
        if self._summary_path is not None:
            _append(self._summary_path, text)
        self._summary.append(text)


def _append(path: str, text: str) -> None:
    with open(path, "a", encoding="utf-8", newline="") as file:
        file.write(text)
