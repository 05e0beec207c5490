"""Our embedded load without Prefect, as a fresh process (for `pulse bench --scale-out`):

    .venv/bin/python -m benchmarks.embedded_load DATA_DIR

The whole refresh of DATA_DIR's landing zone (pipelines.refresh.refresh: hash, read, validate,
key the user ids, dedupe, marts, check, publish) with the benchmark's HMAC key, exactly what
`pulse refresh` runs inside its Prefect flow; prints the run's counts as one JSON object."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m benchmarks.embedded_load DATA_DIR", file=sys.stderr)
        return 2
    from benchmarks.refresh import BENCH_KEY

    os.environ.setdefault("PULSE_HMAC_KEY", BENCH_KEY)
    from core.datadir import DataDir
    from core.settings import Settings
    from pipelines.refresh import refresh

    result = refresh(Settings(), DataDir(Path(args[0])).ensure(), settle_seconds=0)
    print(json.dumps(result.to_json(), ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
