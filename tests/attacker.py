"""An attacker who holds every figure a partner was ever shown and tries to pin down the
hidden ones with integer linear programming.

Knowledge modelled: every displayed value (a number is exact, `<N` means 0 … N-1, `hidden`
means at least N, a withheld breakdown says nothing about its cells), and the arithmetic of
the tables: the cells of each breakdown of a week and measure add up to that week's total.
For each `<N` cell the attacker minimises and maximises it subject to all of that; the
cell is pinned when fewer than N values remain possible.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

import numpy as np
from scipy.optimize import Bounds, LinearConstraint, milp

WHOLE_WEEK = "Whole week"


@dataclass(frozen=True)
class Cell:
    week: str
    measure: str
    breakdown: str
    category: str


def _knowledge(text: str, n: int) -> tuple[float, float]:
    if text == f"<{n}":
        return 0, n - 1
    if text == "hidden":
        return n, np.inf
    value = int(text.replace(",", ""))
    return value, value


def attack(rows: list[dict[str, str]], n: int) -> dict[Cell, tuple[int, int]]:
    """Feasible [lo, hi] of every `<N` cell in `rows` (dicts with week_start, measure,
    breakdown, category, value, e.g. the rows of many `pulse export` CSVs)."""
    bounds: dict[Cell, tuple[float, float]] = {}
    for r in rows:
        if r["value"] == "withheld":
            continue
        cell = Cell(r["week_start"], r["measure"], r["breakdown"], r["category"])
        lo, hi = _knowledge(r["value"], n)
        if cell in bounds:  # the same cell in two exports: both must hold
            lo, hi = max(lo, bounds[cell][0]), min(hi, bounds[cell][1])
            assert lo <= hi, f"two exports disagree about {cell}"
        bounds[cell] = (lo, hi)
    blocks: dict[tuple[str, str], list[Cell]] = defaultdict(list)
    for cell in bounds:
        blocks[cell.week, cell.measure].append(cell)
    ranges: dict[Cell, tuple[int, int]] = {}
    for block in blocks.values():
        ranges |= _attack_block(block, bounds, n)
    return ranges


def _attack_block(cells: list[Cell], bounds: dict[Cell, tuple[float, float]], n: int) -> dict[Cell, tuple[int, int]]:
    index = {c: i for i, c in enumerate(cells)}
    total = next((c for c in cells if c.breakdown == WHOLE_WEEK), None)
    rows = []
    if total is not None:
        by_breakdown: dict[str, list[Cell]] = defaultdict(list)
        for c in cells:
            if c.breakdown != WHOLE_WEEK:
                by_breakdown[c.breakdown].append(c)
        for members in by_breakdown.values():
            row = np.zeros(len(cells))
            for c in members:
                row[index[c]] = 1
            row[index[total]] = -1
            rows.append(row)
    constraints = [LinearConstraint(np.array(rows), 0, 0)] if rows else []
    lo = np.array([bounds[c][0] for c in cells])
    hi = np.array([bounds[c][1] for c in cells])
    found = {}
    for c in cells:
        if bounds[c] != (0, n - 1):
            continue
        objective = np.zeros(len(cells))
        objective[index[c]] = 1
        ends = []
        for sign in (1, -1):
            res = milp(
                sign * objective, constraints=constraints, bounds=Bounds(lo, hi), integrality=np.ones(len(cells))
            )
            assert res.status == 0, f"the published figures of {c.week} {c.measure} are inconsistent: {res.message}"
            ends.append(round(res.x[index[c]]))
        found[c] = (min(ends), max(ends))
    return found
