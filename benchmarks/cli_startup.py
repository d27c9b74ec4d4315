"""Start-up time of the `zoo` command: help, listing and an argument error, each as a fresh
process, repeated and interleaved; wall and CPU seconds side by side.

    python cli_startup.py --repeats 10

CPU seconds are the children's user + system time (`resource.getrusage(RUSAGE_CHILDREN)`
before and after each run). The baseline rows show what a bare interpreter and an import of
Keras (which every command paid before) cost on the same machine.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

from common import print_table

ROOT = Path(__file__).resolve().parents[1]

COMMANDS = {
    "zoo --help": ["-m", "zoo", "--help"],
    "zoo train --help": ["-m", "zoo", "train", "--help"],
    "zoo list": ["-m", "zoo", "list"],
    "zoo train --onehot-csv missing.csv (error)": ["-m", "zoo", "train", "--onehot-csv", "missing.csv"],
}
BASELINES = {
    "python -c pass (baseline)": ["-c", "pass"],
    "python -c 'import keras' (baseline)": ["-c", "import keras"],
}


def run_once(arguments: list[str]) -> tuple[float, float, int]:
    """(wall seconds, CPU seconds, exit status) of one `python <arguments>` process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    result = subprocess.run([sys.executable, *arguments], cwd=ROOT, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, env={**os.environ, "PYTHONPATH": str(ROOT)})
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, result.returncode


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=10, help="runs of each command (default: %(default)s)")
    parser.add_argument("--no-baselines", action="store_true", help="skip the interpreter and Keras rows")
    args = parser.parse_args()
    commands = {**COMMANDS, **({} if args.no_baselines else BASELINES)}
    times = {name: [] for name in commands}
    statuses = {}
    for _ in range(args.repeats):  # interleaved: each round runs every command once
        for name, arguments in commands.items():
            wall, cpu, status = run_once(arguments)
            times[name].append((wall, cpu))
            statuses[name] = status
    rows = []
    for name, samples in times.items():
        walls, cpus = [w for w, _ in samples], [c for _, c in samples]
        rows.append({"command": name, "exit": statuses[name],
                     "wall min": f"{min(walls):.2f}", "wall median": f"{statistics.median(walls):.2f}",
                     "CPU min": f"{min(cpus):.2f}", "CPU median": f"{statistics.median(cpus):.2f}"})
    print(f"{args.repeats} runs each, seconds, {os.cpu_count()} CPU cores")
    print_table(rows, ["command", "exit", "wall min", "wall median", "CPU min", "CPU median"])


if __name__ == "__main__":
    main()
