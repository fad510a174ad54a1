"""Benchmark 1: DAG-parse overhead of the provider's operators, and what a DAG file's import may not do.

Each sample is a fresh interpreter importing one DAG file (``bench/probes/parse_probe.py``); the example DAG
(``dags/zoho_crm_to_aep.py``) and the same shape from Airflow's own operators (``bench/dags/airflow_only.py``)
alternate, pair by pair. The cold ratio includes importing Airflow itself (what a fresh process pays); the warm
row imports Airflow first, so what is left is the DAG file's own cost, closer to a DAG processor that has Airflow
loaded already.
"""

from __future__ import annotations

from _common import BENCH, PYTHON, REPO, Row, median, paired, paired_ratio, quartiles, run_json

OURS = REPO / "dags" / "zoho_crm_to_aep.py"
BASELINE = BENCH / "dags" / "airflow_only.py"
PROBE = BENCH / "probes" / "parse_probe.py"


def _sample(path, warm: bool) -> float:
    result = run_json([PYTHON, str(PROBE), "time", str(path), *(["--warm"] if warm else [])])
    assert result["tasks"] == 6, result
    return float(result["seconds"])


def isolation_check() -> Row:
    """Import the example DAG with sockets blocked, no Connection, and the provider registry watched."""
    ours = run_json([PYTHON, str(PROBE), "isolate", str(OURS)])
    base = run_json([PYTHON, str(PROBE), "isolate", str(BASELINE)])
    extra = sorted(set(ours["loaded"]) - set(base["loaded"]))
    provider = [m for m in extra if m.split(".")[0] == "airflow_provider_zoho_aep"]
    airflow = [m for m in extra if m.split(".")[0] == "airflow"]  # Airflow's own, which every worker has loaded
    foreign = sorted({m.split(".")[0] for m in extra} - {"airflow_provider_zoho_aep", "airflow"})
    touched = ours["touched"]
    return Row(
        "DAG import: network, Connection, provider registry, extra packages",
        ", ".join(touched + foreign) or "none",
        ", ".join(base["touched"]) or "none",
        None,
        "none",
        not touched and not foreign,
        [f"beyond the Airflow-only DAG, the example DAG loads {len(provider)} modules of this provider, "
         f"{len(airflow)} more of Airflow ({', '.join(airflow) or '-'}) and "
         f"{'no other package' if not foreign else 'also ' + ', '.join(foreign)}"],
    )


def run(reps: int, warm_reps: int, warm_up: bool = True) -> list[Row]:
    if warm_up:  # one throw-away pair: Airflow writes its config and both files get their bytecode cached
        _sample(OURS, False), _sample(BASELINE, False)
    cold_ours, cold_base = paired(reps, lambda: _sample(OURS, False), lambda: _sample(BASELINE, False))
    warm_ours, warm_base = paired(warm_reps, lambda: _sample(OURS, True), lambda: _sample(BASELINE, True))
    lo, hi = quartiles([o / b for o, b in zip(cold_ours, cold_base, strict=True)])
    cold_ratio = paired_ratio(cold_ours, cold_base)
    return [
        Row(
            "DAG parse: import example DAG, fresh interpreter",
            f"{median(cold_ours) * 1000:.0f} ms",
            f"{median(cold_base) * 1000:.0f} ms",
            cold_ratio,
            "<= 1.03",
            cold_ratio <= 1.03,
            [f"{reps} interleaved pairs; per-pair ratio quartiles {lo:.3f}-{hi:.3f}"],
        ),
        Row(
            "DAG parse: the DAG file alone, Airflow already imported",
            f"{median(warm_ours) * 1000:.0f} ms",
            f"{median(warm_base) * 1000:.0f} ms",
            paired_ratio(warm_ours, warm_base),
            notes=[f"{warm_reps} interleaved pairs; difference "
                   f"{(median(warm_ours) - median(warm_base)) * 1000:+.0f} ms per parse"],
        ),
        isolation_check(),
    ]
