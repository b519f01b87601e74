"""Run every benchmark once, one after another, and keep each one's full output as a raw result file.

Run: ``python benchmarks/run_all.py [--only cold,server] [--full]``. Each script runs in its own process in
the mode listed below (``--full``: the scripts' own defaults, which take much longer). The output goes to
``benchmarks/results/<script>-<stamp>.txt`` headed by the machine, the commit and the load average at the
start of that script, so a table in the docs can name the run and the raw samples it came from.
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"

# label -> (script name, arguments) of the run the docs table reports (short enough for one sitting)
RUNS: dict[str, tuple[str, str]] = {
    "cold": ("cold", "--rounds 5"),
    "prompts": ("prompts", ""),
    "tracing": (
        "tracing",
        "--rounds 3 --spans 10000 --burst-rounds 3 --outage-spans 50000 --outage-rounds 2",
    ),
    "server": ("server", "--traces 30000"),
    "server-io": ("server", "--io-bytes 1000 --traces 2000"),
    "server-io-sdk": ("server", "--io-bytes 1000 --traces 2000 --via-reference-sdk"),
    "server_reads": ("server_reads", "--traces 1000000 --rounds 8 --ingest-seconds 8 --phases 2"),
    "notebook": ("notebook", "--rounds 50"),
    "experiments": ("experiments", "--items 1000 --rounds 7 --traces 2000 --skip-batch-reference"),
    "analysis": ("analysis", "--traces 10000 --rounds 3"),
}


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    system = f"{platform.system()} {platform.release()}"
    return f"{os.cpu_count()} cores ({cpu}), {system}, Python {platform.python_version()}"


def commit() -> str:
    done = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=HERE, capture_output=True, text=True)
    return done.stdout.strip() or "unknown"


def run(label: str, name: str, args: list[str], stamp: str) -> int:
    script = HERE / f"bench_{name}.py"
    if not script.exists():
        print(f"SKIP {name}: {script.name} does not exist")
        return 0
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    out = RESULTS / f"bench_{label}-{stamp}.txt"
    header = (
        f"# {script.name} {' '.join(args)}\n# machine: {machine()}\n# commit: {commit()}\n"
        f"# started: {time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())}, load average {load}\n"
    )
    print(header, end="", flush=True)
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, str(script), *args], capture_output=True, text=True, cwd=HERE.parent
    )
    took = time.perf_counter() - started
    body = done.stdout + (f"\n# stderr:\n{done.stderr}" if done.returncode else "")
    out.write_text(f"{header}{body}\n# exit {done.returncode} after {took:.0f} s\n")
    print(done.stdout, flush=True)
    print(
        f"# {name}: exit {done.returncode} after {took:.0f} s -> {out.relative_to(HERE.parent)}\n", flush=True
    )
    return done.returncode


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default="", help="comma-separated labels, e.g. cold,server-io")
    parser.add_argument("--full", action="store_true", help="each script's own defaults (much longer)")
    opts = parser.parse_args()
    names = [n for n in opts.only.split(",") if n] or list(RUNS)
    RESULTS.mkdir(exist_ok=True)
    stamp = time.strftime("%Y%m%dT%H%MZ", time.gmtime())
    failed = [n for n in names if run(n, RUNS[n][0], [] if opts.full else RUNS[n][1].split(), stamp)]
    if failed:
        sys.exit(f"failed: {', '.join(failed)}")


if __name__ == "__main__":
    main()
