"""Cold paths: langfuse_nb vs the reference SDK (langfuse 3.11.2), each measurement in a fresh process.

Run: ``python benchmarks/bench_cold.py [--rounds 5]``. Rounds interleave the two SDKs; each sample is a new
interpreter, so imports, first connections and caches are cold. Reports medians and the paired ratio
ours/reference per metric. Targets (issue 15): ``Langfuse(...)`` <= 1.0x (wall and CPU), re-creating it
<= 1.0x, first ``get_prompt`` <= 2x, import + client + first traced call + first flush <= 0.3x; and
``%load_ext langfuse_nb`` that has to start the local server <= 0.5 s to its one-line message.
A local langfuse_nb server in its own process serves both SDKs (prompts and OTLP).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PK, SK = "pk-lf-bench-cold", "sk-lf-bench-cold"

# Each probe prints one JSON object; `url` is the server, `mod` the SDK's module name.
PROBE = r"""
import json, sys, time
t0 = time.perf_counter(); c0 = time.process_time()
mod_name, url, what = sys.argv[1], sys.argv[2], sys.argv[3]
mod = __import__(mod_name)
t_import = time.perf_counter(); c_import = time.process_time()
out = {"import": t_import - t0}
kwargs = dict(public_key="PK", secret_key="SK")
kwargs["base_url" if mod_name == "langfuse_nb" else "host"] = url
if what == "client":
    t1, c1 = time.perf_counter(), time.process_time()
    client = mod.Langfuse(**kwargs)
    out["client_wall"], out["client_cpu"] = time.perf_counter() - t1, time.process_time() - c1
    t1, c1 = time.perf_counter(), time.process_time()
    again = mod.Langfuse(**kwargs)
    out["again_wall"], out["again_cpu"] = time.perf_counter() - t1, time.process_time() - c1
elif what == "prompt":
    client = mod.Langfuse(**kwargs)
    t1, c1 = time.perf_counter(), time.process_time()
    client.get_prompt("bench-cold")
    out["first_prompt"], out["first_prompt_cpu"] = time.perf_counter() - t1, time.process_time() - c1
    out["to_prompt"], out["to_prompt_cpu"] = time.perf_counter() - t0, time.process_time() - c0
elif what == "e2e":
    client = mod.Langfuse(**kwargs)
    with client.start_as_current_span(name="first") as span:
        span.update(output="ok")
    client.flush()
    out["e2e"] = time.perf_counter() - t0
print(json.dumps(out))
""".replace('"PK"', repr(PK)).replace('"SK"', repr(SK))

# What %load_ext does, on a free port instead of 3939 (the extension itself always uses the default port):
# import the notebook layer, connect (start the server: nothing is configured), register the magics.
LOAD_EXT = r"""
import json, sys, time
t0 = time.perf_counter()
from IPython.core.interactiveshell import InteractiveShell
shell = InteractiveShell.instance()
t0 = time.perf_counter()
from langfuse_nb.notebook import connect, extension
from langfuse_nb.notebook.magics import LangfuseMagics
connection = connect.connect(port=int(sys.argv[1]))
print(connection.message, file=sys.stderr)
shell.register_magics(LangfuseMagics(shell, connection))
out = {"load_ext": time.perf_counter() - t0}
from langfuse_nb import Langfuse
client = Langfuse()
client.start_span(name="first").end()
client.flush(timeout=10)
print(json.dumps(out))
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _probe(mod: str, url: str, what: str) -> dict[str, float]:
    env = {**os.environ, "LANGFUSE_TRACING_ENVIRONMENT": "bench"}
    done = subprocess.run(
        [sys.executable, "-c", PROBE, mod, url, what],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def _load_ext(port: int) -> dict[str, float]:
    """%load_ext's path in a fresh process with nothing configured: it must start the server itself."""
    home = tempfile.mkdtemp()
    env = {k: v for k, v in os.environ.items() if not k.startswith("LANGFUSE_")}
    env.update(HOME=home, LANGFUSE_NB_DB=str(Path(home) / "lf.db"))
    command = [sys.executable, "-c", LOAD_EXT, str(port)]
    done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=120, check=False)
    stop = [sys.executable, "-m", "langfuse_nb", "stop", "--port", str(port)]
    subprocess.run(stop, env=env, capture_output=True, timeout=60, check=False)
    if done.returncode:
        raise RuntimeError(f"%load_ext probe failed: {done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--out", type=Path, default=None, help="raw samples JSON (default: results/)")
    args = parser.parse_args()
    _compile_package()
    from langfuse_nb import Langfuse
    from langfuse_nb.server.runner import start_detached

    handle = start_detached(
        port=_free_port(), db_path=Path(tempfile.mkdtemp()) / "lf.db", public_key=PK, secret_key=SK
    )
    try:
        setup = Langfuse(public_key=PK, secret_key=SK, base_url=handle.url)
        setup.create_prompt(name="bench-cold", prompt="Hello {{name}}", labels=["production"])
        samples: dict[str, dict[str, list[float]]] = {"langfuse_nb": {}, "langfuse": {}}
        for _ in range(args.rounds):
            for mod in ("langfuse_nb", "langfuse"):
                for what in ("client", "prompt", "e2e"):
                    for key, value in _probe(mod, handle.url, what).items():
                        samples[mod].setdefault(f"{what}:{key}", []).append(value)
        load_ext = [_load_ext(_free_port())["load_ext"] for _ in range(args.rounds)]
    finally:
        handle.stop()
    _report(samples, load_ext)
    _save(args.out, {"machine": machine(), "rounds": args.rounds, "samples": samples, "load_ext": load_ext})
    return 0


def _compile_package() -> None:
    """Write the package's bytecode first, as ``pip install`` does: the reference's is compiled, and with
    ``PYTHONDONTWRITEBYTECODE`` (set in this environment) an edited module would be compiled from source
    in every probe, which measures the edit, not the SDK."""
    import compileall

    import langfuse_nb

    compileall.compile_dir(str(Path(langfuse_nb.__file__).parent), quiet=1)


def machine() -> dict[str, object]:
    """Where the numbers come from: cores, CPU model, Python, load at the end of the run."""
    model = ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return {
        "cores": os.cpu_count(),
        "cpu": model or platform.processor(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "loadavg": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }


def _save(out: Path | None, data: dict[str, object]) -> None:
    if out is None:
        stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
        out = Path(__file__).resolve().parent / "results" / f"bench_cold-{stamp}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(data, indent=1))
    print(f"raw samples: {out}")


def _report(samples: dict[str, dict[str, list[float]]], load_ext: list[float]) -> None:
    rows = [
        ("Langfuse(...) wall", "client:client_wall", 1.0),
        ("Langfuse(...) CPU", "client:client_cpu", 1.0),
        ("re-create wall", "client:again_wall", 1.0),
        ("re-create CPU", "client:again_cpu", 1.0),
        ("first get_prompt", "prompt:first_prompt", 2.0),
        ("first get_prompt CPU", "prompt:first_prompt_cpu", 2.0),
        ("import..get_prompt", "prompt:to_prompt", None),
        ("import..get_prompt CPU", "prompt:to_prompt_cpu", None),
        ("import..first flush", "e2e:e2e", 0.3),
        ("import", "client:import", None),
    ]
    print(f"{'metric':24s} {'ours ms':>9s} {'ref ms':>9s} {'ratio':>6s}  target")
    for label, key, target in rows:
        ours, ref = samples["langfuse_nb"][key], samples["langfuse"][key]
        ratio = statistics.median([o / r for o, r in zip(ours, ref, strict=True) if r > 0])
        verdict = "" if target is None else ("met" if ratio <= target else "MISSED") + f" (<= {target}x)"
        print(
            f"{label:24s} {statistics.median(ours) * 1e3:9.2f} {statistics.median(ref) * 1e3:9.2f} "
            f"{ratio:6.2f}  {verdict}"
        )
    median = statistics.median(load_ext)
    print(
        f"{'%load_ext (starts srv)':24s} {median * 1e3:9.1f} {'':>9s} {'':>6s}  "
        f"{'met' if median <= 0.5 else 'MISSED'} (<= 500 ms)"
    )
    info = machine()
    print(f"machine: {info['cores']} cores, {info['cpu']}, Python {info['python']}, load {info['loadavg']}")


if __name__ == "__main__":
    sys.exit(main())
