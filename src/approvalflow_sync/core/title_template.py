"""The change set title's template, checked wherever it comes from before it is filled:
plain fields only, no attribute or index access (Python's internals), no format spec
(``{number:>50000000}`` would allocate 50 MB), no conversion.
"""

from __future__ import annotations

import string

DEFAULT_TITLE_TEMPLATE = "PR-{number} {title}"
TITLE_FIELDS = ("number", "title", "branch", "base", "repo")


def template_problem(text: str) -> str | None:
    """What is wrong with a ``title-template`` (empty, an unknown field, a format), or ``None``."""
    fields = ", ".join("{" + name + "}" for name in TITLE_FIELDS)
    if not text.strip():
        return f"title-template is empty; leave it out or use fields {fields}"
    try:
        parsed = list(string.Formatter().parse(text))
    except ValueError as error:
        return f"title-template: {error}; write {{{{ and }}}} for literal braces"
    for _literal, name, spec, conversion in parsed:
        if name is None:
            continue
        if name not in TITLE_FIELDS:
            shown = "{" + name + "}"
            return f"title-template: unknown field {shown}; use {fields}"
        if spec or conversion:
            return (
                f"title-template: write the field plainly as {{{name}}}, without a format "
                "or conversion"
            )
    return None
