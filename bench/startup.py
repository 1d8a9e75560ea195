"""Start-up time of the command line: wall time of whole processes, and who imports what.

    .venv/bin/python bench/startup.py [--runs 10] [--config PATH]

Times ``newsmon --help`` and ``newsmon alerts list --limit 20`` (against the config
given, or a demo database made first in a temporary folder), and ``python -c pass`` as
the interpreter's own floor: one warm-up run each, then the minimum, median and maximum
of ``--runs`` runs. Then, from one ``-X importtime`` run of each, the packages whose
modules took the most import time (their own time, summed per top-level package), and
newsmon's own modules that took longest (with everything they import).

Python's bytecode caches are written and used (PYTHONDONTWRITEBYTECODE is dropped), as
in an installed newsmon. On a shared machine, quote the median and the minimum; the
median CPU time (user and system) is printed too, as it depends less on the load.
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

_LINE = re.compile(r"import time:\s+(\d+) \|\s+(\d+) \| (\s*)(\S+)")


def newsmon() -> list[str]:
    script = Path(sys.executable).parent / "newsmon"
    return [str(script)] if script.exists() else [sys.executable, "-m", "monitor"]


def environment() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["COLUMNS"] = "120"
    return env


def _cpu() -> float:
    """CPU seconds (user and system) of the child processes waited for so far."""
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    return used.ru_utime + used.ru_stime


def timed(command: list[str], runs: int) -> tuple[list[float], list[float]]:
    """(wall seconds, CPU seconds) of each run. On a busy machine the CPU time moves
    less than the wall time: it leaves out the time spent waiting for a core."""
    env = environment()
    subprocess.run(command, env=env, capture_output=True, check=True)  # warm-up, caches
    wall, cpu = [], []
    for _ in range(runs):
        started, used = time.perf_counter(), _cpu()
        subprocess.run(command, env=env, capture_output=True, check=True)
        wall.append(time.perf_counter() - started)
        cpu.append(_cpu() - used)
    return wall, cpu


def importers(command: list[str], top: int) -> tuple[list[tuple[str, float]], list[str]]:
    """(top-level package, milliseconds of its modules' own import time), largest first;
    and newsmon's own modules that took longest with what they import, as "name ms"."""
    if command[0] != sys.executable:  # the newsmon script: run its module instead
        command = [sys.executable, "-m", "monitor", *command[1:]]
    done = subprocess.run(
        [command[0], "-X", "importtime", *command[1:]],
        env=environment(),
        capture_output=True,
        text=True,
        check=True,
    )
    spent: dict[str, float] = {}
    ours: dict[str, float] = {}
    for m in _LINE.finditer(done.stderr):
        package = m.group(4).split(".")[0]
        spent[package] = spent.get(package, 0.0) + int(m.group(1)) / 1000
        if package == "monitor" and m.group(4) != "monitor":
            ours[m.group(4)] = int(m.group(2)) / 1000
    slowest = sorted(ours.items(), key=lambda kv: -kv[1])[:top]
    return sorted(spent.items(), key=lambda kv: -kv[1])[:top], [
        f"{name} {ms:.0f}" for name, ms in slowest
    ]


def demo_config(folder: Path) -> Path:
    subprocess.run(
        [*newsmon(), "demo", "--dir", str(folder / "newsmon-demo")],
        env=environment(),
        capture_output=True,
        check=True,
    )
    return folder / "newsmon-demo" / "newsmon.toml"


def report(name: str, command: list[str], runs: int, top: int) -> None:
    times, cpu = timed(command, runs)
    print(
        f"{name:<28} min {min(times):.3f} s  median {statistics.median(times):.3f} s  "
        f"max {max(times):.3f} s  ({runs} runs; CPU median {statistics.median(cpu):.3f} s)"
    )
    if top:
        packages, ours = importers(command, top)
        shown = ", ".join(f"{p} {ms:.0f}" for p, ms in packages)
        print(f"{'':<28} imports (ms, own time per package): {shown}")
        print(f"{'':<28} newsmon's modules (ms, with their imports): {', '.join(ours)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--top", type=int, default=8, help="packages listed per command")
    parser.add_argument("--config", type=Path, help="default: a demo database made first")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        config = args.config or demo_config(Path(folder))
        print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
        report("python -c pass", [sys.executable, "-c", "pass"], args.runs, 0)
        report("newsmon --help", [*newsmon(), "--help"], args.runs, args.top)
        listing = [*newsmon(), "--config", str(config), "alerts", "list", "--limit", "20"]
        report("newsmon alerts list", listing, args.runs, args.top)


if __name__ == "__main__":
    main()
