"""Reading Keras's Google-style docstrings: the summary and each argument's text."""

from __future__ import annotations

import inspect
import re

_ARGUMENT = re.compile(r"^(\*{0,2}\w+)(?:\s*\([^)]*\))?:\s*(.*)$")
_SECTION = re.compile(r"^(Args|Arguments)\s*:\s*$")


def summary(doc: str | None) -> str:
    """The docstring's first paragraph, as one line."""
    text = inspect.cleandoc(doc or "")
    first = text.split("\n\n", 1)[0]
    return " ".join(first.split())


def arguments(doc: str | None) -> dict[str, str]:
    """Each argument's text from the ``Args:`` section, as one line (its first paragraph)."""
    lines = inspect.cleandoc(doc or "").splitlines()
    found: dict[str, list[str]] = {}
    inside, indent, current = False, 0, ""
    for line in lines:
        stripped = line.strip()
        depth = len(line) - len(line.lstrip())
        if not inside:
            if _SECTION.match(stripped):
                inside, indent = True, -1
            continue
        if not stripped:
            continue
        if indent == -1:
            indent = depth
        if depth < indent:  # the next section ("Returns:", "Input shape:")
            break
        match = _ARGUMENT.match(stripped) if depth == indent else None
        if match:
            current = match.group(1).lstrip("*")
            found[current] = [match.group(2)]
        elif current:
            found[current].append(stripped)
    return {name: " ".join(" ".join(parts).split()) for name, parts in found.items()}
