"""What changed between two versions of the terms, line by line (the text's paragraphs and
list items are lines). Pure functions: no database, no templates."""

import difflib
from dataclasses import dataclass
from typing import Literal

Kind = Literal["same", "added", "removed"]


@dataclass(frozen=True)
class DiffLine:
    kind: Kind
    text: str


def _lines(text: str) -> list[str]:
    return [line.rstrip() for line in text.strip().splitlines() if line.strip()]


def terms_diff(old: str, new: str, *, context: int = 1) -> list[list[DiffLine]]:
    """The changed passages from `old` to `new`: groups of lines, each with up to `context`
    unchanged lines around the changes. A changed line is a removed one then an added one.
    No groups when the texts have the same lines (blank lines and trailing spaces ignored)."""
    before, after = _lines(old), _lines(new)
    matcher = difflib.SequenceMatcher(a=before, b=after, autojunk=False)
    groups: list[list[DiffLine]] = []
    for opcodes in matcher.get_grouped_opcodes(context):
        group: list[DiffLine] = []
        for tag, i1, i2, j1, j2 in opcodes:
            if tag == "equal":
                group += [DiffLine("same", line) for line in before[i1:i2]]
                continue
            group += [DiffLine("removed", line) for line in before[i1:i2]]
            group += [DiffLine("added", line) for line in after[j1:j2]]
        groups.append(group)
    return groups
