"""``make bench``: every benchmark against the emulator, one table of ratios measured side by side.

    .venv/bin/python bench/run.py            # full run (about 12 minutes on 2 cores)
    .venv/bin/python bench/run.py --quick    # fewer repetitions, under a minute: checks that it all runs
    .venv/bin/python bench/run.py --only parse,requests   # some of: parse, requests, throughput, overhead, aepp,
                                                          # upload, zohoexport, dlzpipeline, triggerer

Exits 0 when every benchmark ran, whether or not it met its goal (the table says which).
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import sys
import time

from _common import Row, setup_environment

# parse: (fresh-interpreter pairs, Airflow-preloaded pairs); throughput: (threads, creates, rate req/s, burst);
# overhead: pairs; aepp: pairs of import samples.
FULL = {"parse": (20, 10), "throughput": (12, 150, 12.0, 12), "overhead": 300, "aepp": 10, "upload": ((16, 128), 3),
        "zohoexport": ((10_000, 100_000, 1_000_000), 3), "dlzpipeline": ((100_000, 1_000_000), 3)}
QUICK = {"parse": (1, 1), "throughput": (12, 24, 12.0, 12), "overhead": 30, "aepp": 1, "upload": ((1, 4), 1),
         "zohoexport": ((10_000,), 1), "dlzpipeline": ((10_000,), 1)}
#: Also shown in a full run, for information: a strict bucket (burst 1) and fewer workers.
STRICT = (6, 30, 12.0, 1)


def machine() -> str:
    import airflow

    return (
        f"{os.cpu_count()} CPUs ({platform.machine()}, {platform.system()}), Python {platform.python_version()}, "
        f"Airflow {airflow.__version__}, {datetime.date.today().isoformat()}"
    )


def table(rows: list[Row]) -> str:
    head = ("benchmark", "ours", "baseline", "ratio", "goal", "result")
    lines = [head]
    for r in rows:
        result = "info" if r.passed is None else ("pass" if r.passed else "FAIL")
        lines.append((r.benchmark, r.ours, r.baseline, "-" if r.ratio is None else f"{r.ratio:.3f}", r.goal, result))
    widths = [max(len(line[i]) for line in lines) for i in range(len(head))]
    out = ["| " + " | ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)) + " |" for line in lines]
    out.insert(1, "|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(out)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="fewer repetitions (< 60 s)")
    parser.add_argument("--only",
                        default="parse,requests,throughput,overhead,aepp,upload,zohoexport,dlzpipeline,triggerer")
    args = parser.parse_args()
    setup_environment()
    plan = QUICK if args.quick else FULL

    import dlz_pipeline
    import dlz_upload
    import parse_overhead
    import raw_overhead
    import request_counts
    import throughput
    import triggerer
    import versus_aepp
    import zoho_export

    benchmarks = {
        "parse": lambda: parse_overhead.run(*plan["parse"], warm_up=not args.quick),
        "requests": request_counts.run,
        "throughput": lambda: throughput.run(*plan["throughput"]) + ([] if args.quick else throughput.run(
            *STRICT, informational=True)),
        "overhead": lambda: raw_overhead.run(plan["overhead"]),
        "aepp": lambda: versus_aepp.run(plan["aepp"]),
        "upload": lambda: dlz_upload.run(*plan["upload"]),
        "zohoexport": lambda: zoho_export.run(*plan["zohoexport"]),
        "dlzpipeline": lambda: dlz_pipeline.run(*plan["dlzpipeline"]),
        "triggerer": lambda: triggerer.run(quick=args.quick),
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
    notes = [f"- {r.benchmark}: {note}" for r in rows for note in r.notes]
    if notes:
        print("\nNotes:\n" + "\n".join(notes))
    return 0


if __name__ == "__main__":
    sys.exit(main())
