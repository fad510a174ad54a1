"""``make bench``: what a user of the provider pays, measured against the emulator, in one table.

    .venv/bin/python bench/run.py            # full run (DAG parse, requests, throughput, 1,000 triggers,
                                             # the window task at 100,000 and 1,000,000 records)
    .venv/bin/python bench/run.py --quick    # fewer repetitions and small sizes: checks that it all runs
    .venv/bin/python bench/run.py --only parse,requests   # some of: parse, requests, throughput, triggerer, memory

Exits 0 when every benchmark ran, whether or not it met its goal (the table says which).
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import sys
import time

from _common import Row, setup_environment, table

# parse: (fresh-interpreter pairs, Airflow-preloaded pairs); throughput: (threads, creates, rate req/s, burst);
# memory: window sizes in records.
FULL = {"parse": (20, 10), "throughput": (12, 150, 12.0, 12), "memory": (100_000, 1_000_000)}
QUICK = {"parse": (1, 1), "throughput": (12, 24, 12.0, 12), "memory": (10_000,)}
#: Also shown in a full run, for information: a strict bucket (burst 1) and fewer workers.
STRICT = (6, 30, 12.0, 1)
ALL = "parse,requests,throughput,triggerer,memory"


def machine() -> str:
    import airflow

    return (
        f"{os.cpu_count()} CPUs ({platform.machine()}, {platform.system()}), Python {platform.python_version()}, "
        f"Airflow {airflow.__version__}, {datetime.date.today().isoformat()}"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="fewer repetitions and small sizes")
    parser.add_argument("--only", default=ALL)
    args = parser.parse_args()
    setup_environment()
    plan = QUICK if args.quick else FULL

    import dlz_memory
    import parse_overhead
    import request_counts
    import throughput
    import triggerer

    tables: list[str] = []  # a benchmark's own table, printed after the main one

    def memory() -> list[Row]:
        rows, text = dlz_memory.run(plan["memory"])
        tables.append("Peak memory of the Data Landing Zone window task:\n\n" + text)
        return rows

    benchmarks = {
        "parse": lambda: parse_overhead.run(*plan["parse"], warm_up=not args.quick),
        "requests": request_counts.run,
        "throughput": lambda: throughput.run(*plan["throughput"]) + ([] if args.quick else throughput.run(
            *STRICT, informational=True)),
        "triggerer": lambda: triggerer.run(quick=args.quick),
        "memory": memory,
    }
    rows: list[Row] = []
    started = time.monotonic()
    for name in args.only.split(","):
        t = time.monotonic()
        rows += benchmarks[name]()
        print(f"[{name}: {time.monotonic() - t:.0f} s]", file=sys.stderr, flush=True)
    sys.stderr.flush()

    print(f"Machine: {machine()}")
    print(f"Mode: {'quick' if args.quick else 'full'}; took {time.monotonic() - started:.0f} s\n")
    print(table(rows))
    for text in tables:
        print("\n" + text)
    notes = [f"- {r.benchmark}: {note}" for r in rows for note in r.notes]
    if notes:
        print("\nNotes:\n" + "\n".join(notes))
    return 0


if __name__ == "__main__":
    sys.exit(main())
