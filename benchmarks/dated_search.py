"""History search with dates on a large history (issue 17): the store query alone.

Usage: python benchmarks/dated_search.py DATA_DIR [DATA_DIR ...] [--runs 5]
(databases made by history_scale.py's generator, e.g. --calls 50000). Prints, per database,
the first and the median time of list_calls for a common word with an end date, with a
one-month range, with a one-year range, and with a start date only. Target: < 150 ms.
"""

from __future__ import annotations

import argparse
import statistics
import time
from datetime import date
from pathlib import Path


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("dirs", nargs="+")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    from p2pcall.domain.history import HistoryFilter
    from p2pcall.store import Store
    from p2pcall.store.history import list_calls

    cases = {
        "until 2018": HistoryFilter(search="reviewer", until=date(2018, 1, 1)),
        "one month": HistoryFilter(
            search="reviewer", since=date(2019, 6, 1), until=date(2019, 6, 30)
        ),
        "one year": HistoryFilter(
            search="reviewer", since=date(2020, 1, 1), until=date(2020, 12, 31)
        ),
        "since 2024": HistoryFilter(search="reviewer", since=date(2024, 1, 1)),
    }
    worst = 0.0
    for folder in args.dirs:
        store = Store.open(Path(folder))
        try:
            for label, flt in cases.items():
                times = []
                for _ in range(args.runs):
                    t0 = time.perf_counter()
                    page = list_calls(store, flt)
                    times.append((time.perf_counter() - t0) * 1000)
                median = statistics.median(times)
                worst = max(worst, median)
                print(
                    f"{Path(folder).name:>8} {label:<11} first {times[0]:7.1f} ms  "
                    f"median {median:7.1f} ms  rows {len(page.entries)}"
                )
        finally:
            store.close()
    return 0 if worst < 150 else 1


if __name__ == "__main__":
    raise SystemExit(main())
