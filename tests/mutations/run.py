"""``make test-mutations``: does each test docs/guarantees.md names actually catch the break it guards against?

For every entry of :data:`tests.mutations.breaks.BREAKS`, in a scratch copy of the repository (the working tree
is never touched): replace the entry's original text with its break, run the tests the entry names, put the
original back. A break the tests fail on is *caught*; one they pass with *survived*. An entry whose original
text is no longer in its file (the code moved on) is *stale* and must be rewritten, never skipped. Exit status
is 0 only when every break was caught.

    python tests/mutations/run.py                 # the whole list
    python tests/mutations/run.py --fast          # the entries marked fast (also: MUTATIONS=fast)
    python tests/mutations/run.py -k tls -k sleep # entries whose name contains any of these
    python tests/mutations/run.py --list          # print the list and exit

Before the breaks, the named tests run once on the unbroken copy (the baseline): a test that fails without
its break would prove nothing by failing with it.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from tests.mutations.breaks import BREAKS, Break  # noqa: E402

#: Left out of the scratch copy: environments, caches, Airflow homes, VCS data.
IGNORED = shutil.ignore_patterns(".venv", ".git", ".airflow", ".bench", ".azurite", "__pycache__", ".pytest_cache",
                                 ".ruff_cache", "*.pyc", "node_modules")
#: A break whose tests run longer than this is reported as an error (a hang is not a catch).
TIMEOUT_S = 600


@dataclass
class Outcome:
    brk: Break
    verdict: str  # caught | survived | stale | error
    seconds: float
    detail: str = ""


def make_scratch(root: Path) -> Path:
    """Copy the working tree to ``root/<name>``, with the shared reference folder linked beside it."""
    scratch = root / REPO.name
    shutil.copytree(REPO, scratch, ignore=IGNORED, symlinks=True)
    shared = REPO.parent / "shared"
    if shared.exists():  # tests read Adobe's OpenAPI file from ../shared
        (root / "shared").symlink_to(shared.resolve(), target_is_directory=True)
    return scratch


def scratch_env(scratch: Path) -> dict[str, str]:
    env = dict(os.environ)
    # The scratch copy first on sys.path, ahead of the editable install's path entry for the working tree.
    env["PYTHONPATH"] = str(scratch)
    env.pop("PYTEST_ADDOPTS", None)
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    # The copy leaves .azurite/ out: point the Data Landing Zone tests at the checkout's Azurite.
    azurite = REPO / ".azurite" / "node_modules" / ".bin" / "azurite-blob"
    if azurite.exists():
        env.setdefault("ZOHO_AEP_AZURITE_BLOB", str(azurite))
    return env


def check_imports_from(scratch: Path, env: dict[str, str]) -> None:
    """Fail loudly if the package or the emulator would be imported from anywhere but the scratch copy."""
    code = ("import airflow_provider_zoho_aep, emulator; "
            "print(airflow_provider_zoho_aep.__file__); print(emulator.__file__)")
    out = subprocess.run([sys.executable, "-c", code], env=env, cwd=scratch, capture_output=True, text=True,
                         check=True).stdout.split()
    for path in out:
        if not Path(path).resolve().is_relative_to(scratch.resolve()):
            raise SystemExit(f"mutations: {path} is imported instead of the scratch copy under {scratch}")


def problems(brk: Break, scratch: Path) -> str:
    """Why an entry cannot be applied as written ('' when it can)."""
    target = scratch / brk.file
    if not target.is_file():
        return f"{brk.file} does not exist"
    count = target.read_text(encoding="utf-8").count(brk.original)
    if count != 1:
        return f"the original text is in {brk.file} {count} times (must be exactly once): {brk.original!r}"
    missing = [t for t in brk.tests if not (scratch / t.split("::")[0]).exists()]
    if missing:
        return f"named test file(s) missing: {', '.join(missing)}"
    return ""


def pytest(scratch: Path, env: dict[str, str], tests: list[str], *, stop_first: bool) -> tuple[int, float, str]:
    args = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--no-header", "-rfE", "--tb=no"]
    if stop_first:
        args.append("-x")
    start = time.monotonic()
    try:
        run = subprocess.run([*args, *tests], env=env, cwd=scratch, capture_output=True, text=True,
                             timeout=TIMEOUT_S)
    except subprocess.TimeoutExpired:
        return -1, time.monotonic() - start, f"timed out after {TIMEOUT_S} s"
    lines = [line for line in run.stdout.strip().splitlines() if line.strip()]
    # The first failure's summary line says what caught the break (or broke the baseline), then the totals.
    failed = [line[:200] for line in lines if line.startswith(("FAILED", "ERROR"))][:1]
    tail = " | ".join(failed + lines[-1:]) or run.stderr.strip()[-300:]
    return run.returncode, time.monotonic() - start, tail


def try_break(brk: Break, scratch: Path, env: dict[str, str]) -> Outcome:
    trouble = problems(brk, scratch)
    if trouble:
        return Outcome(brk, "stale", 0.0, trouble)
    target = scratch / brk.file
    original = target.read_text(encoding="utf-8")
    target.write_text(original.replace(brk.original, brk.replacement, 1), encoding="utf-8")
    try:
        code, seconds, tail = pytest(scratch, env, list(brk.tests), stop_first=True)
    finally:
        target.write_text(original, encoding="utf-8")
    # pytest: 0 all passed, 1 some failed; anything else (collection error, no test found, timeout) is not a
    # proof either way.
    verdict = {0: "survived", 1: "caught"}.get(code, "error")
    return Outcome(brk, verdict, seconds, tail)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--fast", action="store_true", default=os.environ.get("MUTATIONS") == "fast",
                        help="only the entries marked fast (CI); also MUTATIONS=fast")
    parser.add_argument("-k", dest="names", action="append", default=[], help="entries whose name contains this")
    parser.add_argument("--list", action="store_true", help="print the entries and exit")
    parser.add_argument("--no-baseline", action="store_true", help="skip the run of the named tests without breaks")
    args = parser.parse_args(argv)

    names = [b.name for b in BREAKS]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise SystemExit(f"mutations: duplicate entry names: {', '.join(duplicates)}")
    chosen = [b for b in BREAKS
              if (b.fast or not args.fast) and (not args.names or any(k in b.name for k in args.names))]
    if args.list:
        for b in chosen:
            print(f"{b.name:<34} {'fast' if b.fast else '    '} {b.file}\n    breaks: {b.promise}\n    tests: "
                  + " ".join(b.tests))
        return 0
    if not chosen:
        raise SystemExit("mutations: no entry selected")

    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="zoho-aep-mutations-") as tmp:
        scratch = make_scratch(Path(tmp))
        env = scratch_env(scratch)
        check_imports_from(scratch, env)
        print(f"mutations: {len(chosen)} break(s) in a scratch copy at {scratch}", flush=True)

        if not args.no_baseline:
            tests = list(dict.fromkeys(t for b in chosen if not problems(b, scratch) for t in b.tests))
            code, seconds, tail = pytest(scratch, env, tests, stop_first=False)
            print(f"baseline   {seconds:6.1f}s  the named tests without any break: {tail}", flush=True)
            if code != 0:
                print("mutations: the named tests fail without any break; fix them first", file=sys.stderr)
                return 1

        outcomes: list[Outcome] = []
        for brk in chosen:
            outcome = try_break(brk, scratch, env)
            outcomes.append(outcome)
            print(f"{outcome.verdict:<9}  {outcome.seconds:6.1f}s  {brk.name}: {brk.promise}\n"
                  f"                    {outcome.detail}", flush=True)

    total = time.monotonic() - started
    counts = {v: sum(o.verdict == v for o in outcomes) for v in ("caught", "survived", "stale", "error")}
    print(f"mutations: {counts['caught']}/{len(outcomes)} caught, {counts['survived']} survived, "
          f"{counts['stale']} stale, {counts['error']} error(s) in {total:.0f} s")
    for o in outcomes:
        if o.verdict == "stale":
            print(f"  stale entry {o.brk.name!r} in tests/mutations/breaks.py: {o.detail}", file=sys.stderr)
    return 0 if counts["caught"] == len(outcomes) else 1


if __name__ == "__main__":
    sys.exit(main())
