"""Publish: the staged load's ledger checked inside its transaction, then committed; the
lake's new snapshot is what every reader sees from its next query."""

from __future__ import annotations

import json

from core.datadir import DataDir
from core.lake import latest_snapshot_id
from pipelines.lake_write import check_counts, check_lease, fault_point
from pipelines.stage import Staged
from queries.warehouse import published_snapshot_id


def publish(d: DataDir, staged: Staged) -> str | None:
    """Commit the staged load after checking its ledger inside the transaction: the lake's new
    snapshot id (the published one when there was nothing to load)."""
    if staged.lake is None:
        return published_snapshot_id(d)
    return _commit_lake(d, staged)


def _commit_lake(d: DataDir, staged: Staged) -> str:
    """Check the ledger inside the transaction, then commit it: the lake's new snapshot."""
    con = staged.lake
    assert con is not None
    try:
        check_counts(con, f"load {staged.snapshot_id}")
        (alias,) = con.sql("select current_database()").fetchall()[0]
        con.execute(
            f"call {alias}.set_commit_message('pulse refresh', $message, extra_info => $info)",
            {"message": f"load {staged.snapshot_id}", "info": json.dumps({"load_id": staged.snapshot_id})},
        )
        check_lease(d)  # another machine may be writing since a lost lease: never commit then
        fault_point("before_commit")
        con.execute("commit")
        staged.lake_snapshot = str(latest_snapshot_id(con))
        fault_point("after_commit")
        return staged.lake_snapshot
    finally:
        staged.lake = None
        con.close()
