"""The one scrubber of untrusted text, for every place we print it (terminal, log, markdown):
a title cannot move the cursor, recolour the terminal or read backwards anywhere."""

from __future__ import annotations

import re

# Controls other than tab, CR and LF (ANSI escapes recolour or hide text; NEL, VT, FF and the
# Unicode line separators end a line for some readers), bidirectional overrides (text that reads
# backwards) and lone surrogates (cannot be encoded).
_UNSAFE = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]"
)


def scrub(s: str) -> str:
    """``s`` with every unsafe character (see above) replaced by U+FFFD; tab, CR, LF kept."""
    return _UNSAFE.sub("\ufffd", s)
