"""Complementary suppression: Hypothesis over random small tables, checked by the attacker."""

from __future__ import annotations

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from queries.privacy import HIDDEN, SHOWN, SMALL, WITHHELD, protect, protect_columns, protect_table
from tests.attacker import attack


def displayed(counts: list[int], status: list[str], n: int) -> list[dict[str, str]]:
    """The table as a partner would receive it: its cells and its total."""
    total = sum(counts)
    rows = [
        {"week_start": "w", "measure": "m", "breakdown": "Whole week", "category": "all", "value": str(total)}
        if total >= n
        else {"week_start": "w", "measure": "m", "breakdown": "Whole week", "category": "all", "value": f"<{n}"}
    ]
    text = {
        SHOWN: lambda c: str(c),
        SMALL: lambda c: f"<{n}",
        HIDDEN: lambda c: "hidden",
        WITHHELD: lambda c: "withheld",
    }
    for i, (c, s) in enumerate(zip(counts, status, strict=True)):
        rows.append({"week_start": "w", "measure": "m", "breakdown": "b", "category": str(i), "value": text[s](c)})
    return rows


tables = st.integers(min_value=2, max_value=15).flatmap(
    lambda n: st.tuples(
        st.just(n),
        st.lists(
            st.one_of(st.integers(0, n - 1), st.integers(n, 6 * n)),  # as many small as large cells
            min_size=1,
            max_size=9,
        ),
    )
)


@settings(max_examples=300, deadline=None)
@given(tables)
def test_no_small_cell_can_be_narrowed_below_min_cell_values(table: tuple[int, list[int]]) -> None:
    n, counts = table
    status = protect_table(counts, n)
    assert len(status) == len(counts)
    for c, s in zip(counts, status, strict=True):
        assert s != SHOWN or c >= n, "a count below min_cell was shown"
        assert s != HIDDEN or c >= n, "a small count was marked hidden (it must read <N)"
        assert s != SMALL or c < n
    if sum(counts) < n:
        assert status == [SMALL] * len(counts)
    if WITHHELD in status:
        assert set(status) == {WITHHELD}
        return
    for cell, (lo, hi) in attack(displayed(counts, status, n), n).items():
        assert hi - lo + 1 >= n, f"cell {cell.category} of {counts} pinned to {lo}..{hi} with n={n}"


@settings(max_examples=200, deadline=None)
@given(tables)
def test_cells_are_hidden_only_when_needed(table: tuple[int, list[int]]) -> None:
    """No over-suppression for nothing: a table without small cells is shown whole, and a
    table that had to be withheld could not have been protected with every cell hidden."""
    n, counts = table
    status = protect_table(counts, n)
    if all(c >= n for c in counts):
        assert status == [SHOWN] * len(counts)
    if WITHHELD in status:
        everything_hidden = [SMALL if c < n else HIDDEN for c in counts]
        ranges = attack(displayed(counts, everything_hidden, n), n)
        assert any(hi - lo + 1 < n for lo, hi in ranges.values())


def test_the_classic_single_small_cell_gets_a_partner() -> None:
    # total 52 shown: hiding only the 4 would give it back as 52 - 30 - 18
    assert protect_table([30, 18, 4], 10) == [SHOWN, HIDDEN, SMALL]


def test_two_small_cells_alone_are_not_enough_when_their_sum_is_small() -> None:
    # 3 and 2 hidden, total 45 shown: the two sum to 5, so neither can be 9: pinned to 0..5
    assert protect_table([40, 3, 2], 10) == [HIDDEN, SMALL, SMALL]


def test_a_table_that_cannot_be_protected_is_withheld() -> None:
    # 12 and 3 with total 15: even with both hidden the small one is at most 15 - 10 = 5
    assert protect_table([12, 3], 10) == [WITHHELD, WITHHELD]


def test_a_small_total_hides_everything() -> None:
    assert protect_table([5, 0, 3], 10) == [SMALL, SMALL, SMALL]


def test_protect_treats_each_group_as_its_own_table() -> None:
    df = pl.DataFrame({"t": ["a", "a", "a", "b", "b"], "n": [30, 18, 4, 40, 50]})
    assert protect(df, ["t"], "n", 10)["status"].to_list() == [SHOWN, HIDDEN, SMALL, SHOWN, SHOWN]


@pytest.mark.parametrize("thousands", [False, True])
def test_protect_columns_protects_every_column_on_its_own(thousands: bool) -> None:
    df = pl.DataFrame({"segment": ["x", "y", "z"], "a": [3000, 18, 4], "b": [12, 3, 0], "c": [12, 3, 9]})
    out = protect_columns(df, ["a", "b", "c"], 10, thousands=thousands)
    assert out["a"].to_list() == ["3,000" if thousands else "3000", "hidden", "<10"]
    assert out["b"].to_list() == ["withheld"] * 3
    assert out["c"].to_list() == ["hidden", "<10", "<10"]
