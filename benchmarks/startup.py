"""Start-up benchmark (issue "Figures at any moment…", item 6): how long `ledger --help` takes.

Times, in the same run and interleaved (so machine load hits all alike), the median wall time of
N runs of each of:

- `python -c pass`: the interpreter alone, the floor every command pays;
- a bare typer app's `--help` (one command): what typer and rich cost before any ledger code;
- `python -m ledger --help` and the console script `ledger --help`;
- `ledger verify` on an empty SQLite home (a command that opens the store).

Target: `ledger --help` <= 150 ms. Prints each median and its ratio to `python -c pass`. With
`--ref DIR` (a checkout of another commit, e.g. `git worktree add /tmp/before <commit>`), also
times `python -m ledger --help` run from there, for a before/after in one run.

    .venv/bin/python benchmarks/startup.py [--runs 15] [--ref /tmp/before]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TARGET_MS = 150.0
BARE_TYPER = """
import typer
app = typer.Typer()
@app.command()
def hello(name: str = "x") -> None:
    pass
@app.command()
def bye() -> None:
    pass
app()
"""


def _time(argv: list[str], cwd: Path, env: dict[str, str]) -> float:
    started = time.perf_counter()
    subprocess.run(argv, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--ref", type=Path, help="another checkout: also time its `python -m ledger --help`")
    args = parser.parse_args()

    python = sys.executable
    script = Path(python).with_name("ledger")
    home = Path(tempfile.mkdtemp(prefix="ledger-startup-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEDGER_")}
    env["LEDGER_HOME"] = str(home)
    cases: dict[str, tuple[list[str], Path]] = {
        "python -c pass": ([python, "-c", "pass"], ROOT),
        "bare typer app --help": ([python, "-c", BARE_TYPER, "--help"], ROOT),
        "python -m ledger --help": ([python, "-m", "ledger", "--help"], ROOT),
        "ledger --help": ([str(script), "--help"], ROOT),
        "ledger verify (empty SQLite)": ([str(script), "verify"], ROOT),
    }
    if args.ref is not None:
        cases["python -m ledger --help (--ref)"] = ([python, "-m", "ledger", "--help"], args.ref.resolve())
    for argv, cwd in cases.values():  # warm the file cache and the bytecode
        _time(argv, cwd, env)
    times: dict[str, list[float]] = {name: [] for name in cases}
    for _ in range(args.runs):
        for name, (argv, cwd) in cases.items():
            times[name].append(_time(argv, cwd, env))
    floor = statistics.median(times["python -c pass"])
    print(f"start-up, median of {args.runs} interleaved runs ({python})")
    for name, samples in times.items():
        median = statistics.median(samples)
        print(f"  {name:<34} {median * 1000:7.1f} ms  {median / floor:5.1f}x python -c pass")
    help_ms = statistics.median(times["ledger --help"]) * 1000
    verdict = "met" if help_ms <= TARGET_MS else "NOT met"
    print(f"target ledger --help <= {TARGET_MS:.0f} ms: {verdict} ({help_ms:.1f} ms)")


if __name__ == "__main__":
    main()
