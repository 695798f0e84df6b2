"""Small-cell suppression for publishable figures (R20). Pure functions, no database.

Figures are named counts; `Sum(total, parts)` says that one figure is the sum of others
(a table's margin, a derived total). Shared names link tables: the same figure appears
once, whichever tables show it.

1. Primary suppression: every count with 0 < value < threshold.
2. Complementary suppression: a reader who knows every published count and every sum
   can solve the linear system for the suppressed ones. While a sum has exactly one
   suppressed member, suppress its smallest other member (non-zero first; zeros only when
   nothing else is left). Then, while any suppressed figure is still determined by the
   whole system (through several sums), suppress one more figure of a sum that
   contains it, and start again.

"Determined" is exact: figure i is determined when the unit vector e_i lies in the row
space of the sums restricted to the suppressed figures (Gaussian elimination over
fractions on those few unknowns), so linked tables and derived totals are covered too.
Zero counts are published: a zero says nothing about a person.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from fractions import Fraction


@dataclass(frozen=True)
class Sum:
    total: str
    parts: tuple[str, ...]


def suppress(values: Mapping[str, int], sums: Iterable[Sum], *, threshold: int) -> frozenset[str]:
    """The names of the figures to suppress so that none below `threshold` can be
    recovered from the published figures and `sums`."""
    sums = [s for s in sums if s.parts]
    hidden = {name for name, value in values.items() if 0 < value < threshold}
    while True:
        # A sum with one hidden member gives it away directly: hide the smallest other
        # member of that sum. Only then look for figures exposed through several sums.
        lone = next((s for s in sums if len(hidden & {s.total, *s.parts}) == 1), None)
        if lone is not None:
            hidden.add(_smallest({lone.total, *lone.parts} - hidden, values))
            continue
        exposed = determined(hidden, sums)
        if not exposed:
            return frozenset(hidden)
        extra = _complement(min(exposed), hidden, sums, values)
        if extra is None:
            # Everything that shares a sum with it is already suppressed and it is still
            # determined: hide every figure of every sum, the last resort.
            hidden |= {name for s in sums for name in (s.total, *s.parts)}
            return frozenset(hidden)
        hidden.add(extra)


def _complement(
    name: str, hidden: set[str], sums: list[Sum], values: Mapping[str, int]
) -> str | None:
    candidates = {
        other
        for s in sums
        if name == s.total or name in s.parts
        for other in (s.total, *s.parts)
        if other not in hidden
    }
    if not candidates:
        # Determined through a chain of sums: widen to any sum touching a hidden figure.
        candidates = {
            other
            for s in sums
            if hidden & {s.total, *s.parts}
            for other in (s.total, *s.parts)
            if other not in hidden
        }
    if not candidates:
        return None
    return _smallest(candidates, values)


def _smallest(candidates: set[str], values: Mapping[str, int]) -> str:
    """The smallest non-zero figure (a zero only when there is nothing else)."""
    return min(candidates, key=lambda c: (values.get(c, 0) == 0, values.get(c, 0), c))


def determined(hidden: set[str] | frozenset[str], sums: Iterable[Sum]) -> set[str]:
    """The hidden figures that the published figures and the sums pin down exactly."""
    unknowns = sorted(hidden)
    index = {name: i for i, name in enumerate(unknowns)}
    rows: list[list[Fraction]] = []
    for s in sums:
        row = [Fraction(0)] * len(unknowns)
        for part in s.parts:
            if part in index:
                row[index[part]] += 1
        if s.total in index:
            row[index[s.total]] -= 1
        if any(row):
            rows.append(row)
    pivots = _reduce(rows, len(unknowns))
    free = set(range(len(unknowns))) - set(pivots)
    return {
        unknowns[column] for column, row in pivots.items() if not any(rows[row][f] for f in free)
    }


def _reduce(rows: list[list[Fraction]], width: int) -> dict[int, int]:
    """Reduced row echelon form in place; {pivot column: its row}."""
    pivots: dict[int, int] = {}
    top = 0
    for column in range(width):
        found = next((r for r in range(top, len(rows)) if rows[r][column]), None)
        if found is None:
            continue
        rows[top], rows[found] = rows[found], rows[top]
        lead = rows[top][column]
        rows[top] = [v / lead for v in rows[top]]
        for r in range(len(rows)):
            if r != top and rows[r][column]:
                factor = rows[r][column]
                rows[r] = [a - factor * b for a, b in zip(rows[r], rows[top], strict=True)]
        pivots[column] = top
        top += 1
    return pivots
