"""Benchmark: submitting with dependency.name against native afterok:ID

Starts its own flux instance whose job-ingest loads the dependency plugin
from this source tree, and measures, at several numbers of other (held)
jobs in the instance, the submit throughput of jobs that name their
antecedent (``dependency.name=NAME``) against jobs that give its id
(``dependencies = [afterok:ID]``), both through the same ingest pipeline:

- latency mode: one submission at a time (jobs/s = 1 / mean latency);
- throughput mode: WINDOW submissions in flight.

It also reads the resident memory of the frobnicator workers at each size.
It prints a table with the ratio by-name/native of each cell and writes the
same as JSON (and a PNG plot when matplotlib is there).

Usage: flux python t/bench/bench.py [--sizes 0,1000,10000] [--json FILE]
"""

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

SRCDIR = Path(__file__).resolve().parents[2]
PLUGIN = SRCDIR / "src/bindings/python/flux/job/frobnicator/plugins/dependency.py"


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.partition("\n")[0])
    parser.add_argument("--sizes", default="0,1000,10000")
    parser.add_argument("--latency-jobs", type=int, default=200)
    parser.add_argument("--throughput-jobs", type=int, default=1000)
    parser.add_argument("--window", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--json", default="bench-results.json")
    parser.add_argument("--png", default="bench-ratio.png")
    parser.add_argument("--inner", action="store_true", help=argparse.SUPPRESS)
    return parser.parse_args()


def start_instance(args):
    """Run this script again inside a new flux instance; return its code"""
    conf = Path(args.json).resolve().with_suffix(".broker.toml")
    text = (SRCDIR / "broker.toml").read_text()
    conf.write_text(text.replace('"dependency"', json.dumps(str(PLUGIN))))
    cmd = [
        "flux",
        "start",
        f"-o,--config-path={conf},-Slog-stderr-level=3",
        "flux",
        "python",
        os.path.abspath(__file__),
        "--inner",
        *sys.argv[1:],
    ]
    try:
        return subprocess.call(cmd)
    finally:
        conf.unlink()


def jobspec(name=None, depend_on=None, depend_name=None):
    import flux.job

    spec = flux.job.JobspecV1.from_command(["true"])
    if name:
        spec.setattr("system.job.name", name)
    if depend_on:
        spec.setattr("system.dependencies", [{"scheme": "afterok", "value": depend_on}])
    if depend_name:
        spec.setattr("system.dependency.name", depend_name)
    return spec


def submit_window(handle, spec, count, window):
    """Submit count held jobs, window at a time in flight; return seconds"""
    import flux.job

    encoded = spec.dumps()
    pending = []
    done = 0
    start = time.perf_counter()
    for _ in range(count):
        pending.append(flux.job.submit_async(handle, encoded, urgency=0))
        if len(pending) >= window:
            pending.pop(0).get_id()
            done += 1
    for future in pending:
        future.get_id()
    return time.perf_counter() - start


def submit_one_at_a_time(handle, spec, count):
    """Submit count held jobs sequentially; return seconds"""
    import flux.job

    encoded = spec.dumps()
    start = time.perf_counter()
    for _ in range(count):
        flux.job.submit(handle, encoded, urgency=0)
    return time.perf_counter() - start


def fill(handle, total):
    """Bring the number of held filler jobs in the instance up to total"""
    import flux.job

    have = len(
        flux.job.JobList(handle, user="all", max_entries=0, attrs=["state"]).jobs()
    )
    need = total - have
    for batch in range(0, max(need, 0), 1000):
        futures = [
            flux.job.submit_async(
                handle, jobspec(name=f"other-{(batch + i) % 500}"), urgency=0
            )
            for i in range(min(1000, need - batch))
        ]
        for future in futures:
            future.get_id()


def purge(handle):
    """Cancel the benchmark's dependent jobs and purge all inactive jobs"""
    quiet = {"check": False, "stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    subprocess.run(["flux", "cancel", "--all", "--states=depend"], **quiet)
    subprocess.run(["flux", "queue", "idle"], **quiet)
    subprocess.run(["flux", "job", "purge", "--force", "--num-limit=0"], **quiet)


def worker_rss_mb():
    """Resident memory (MB) of each running frobnicator worker"""
    sizes = []
    for proc in Path("/proc").iterdir():
        try:
            if (proc / "comm").read_text().strip() != "job-frobnicator":
                continue
            for line in (proc / "status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    sizes.append(int(line.split()[1]) / 1024)
        except OSError:
            continue
    return sizes


def measure(handle, args, size, target):
    native = jobspec(depend_on=str(target))
    byname = jobspec(depend_name="bench-target")
    cell = {"size": size}
    for mode in ("latency", "throughput"):
        rates = {"native": [], "name": []}
        for _ in range(args.rounds):
            for kind, spec in (("native", native), ("name", byname)):
                if mode == "latency":
                    count = args.latency_jobs
                    secs = submit_one_at_a_time(handle, spec, count)
                else:
                    count = args.throughput_jobs
                    secs = submit_window(handle, spec, count, args.window)
                rates[kind].append(count / secs)
                purge(handle)
        native_rate = statistics.median(rates["native"])
        name_rate = statistics.median(rates["name"])
        cell[mode] = {
            "native_jobs_per_s": round(native_rate, 1),
            "name_jobs_per_s": round(name_rate, 1),
            "ratio": round(name_rate / native_rate, 3),
        }
    rss = worker_rss_mb()
    cell["worker_rss_mb"] = round(max(rss), 1) if rss else None
    cell["workers"] = len(rss)
    return cell


def plot(results, path):
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    sizes = [cell["size"] for cell in results["cells"]]
    fig, ax = plt.subplots(figsize=(6, 4))
    for mode in ("latency", "throughput"):
        ax.plot(sizes, [c[mode]["ratio"] for c in results["cells"]], "o-", label=mode)
    ax.axhline(0.95, color="grey", linestyle="--", label="target 0.95")
    ax.set_xscale("symlog", linthresh=100)
    ax.set_xlabel("other jobs in the instance")
    ax.set_ylabel("by-name / native throughput")
    ax.set_ylim(0, 1.2)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path)
    return path


def main_inner(args):
    import flux
    import flux.job

    handle = flux.Flux()
    target = flux.job.submit(handle, jobspec(name="bench-target"), urgency=0)
    # start the workers (and whatever they load) before measuring
    submit_one_at_a_time(handle, jobspec(depend_name="bench-target"), 5)
    purge(handle)
    base_rss = worker_rss_mb()
    results = {
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, "
        f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "flux_core": subprocess.run(
            ["flux", "version"], capture_output=True, text=True
        ).stdout.split()[3],
        "window": args.window,
        "worker_rss_mb_at_start": round(max(base_rss), 1) if base_rss else None,
        "cells": [],
    }
    print(
        f"{'jobs':>7}  {'mode':<10} {'native/s':>9} {'name/s':>9} {'ratio':>6}"
        f"  {'worker RSS MB':>13}",
        flush=True,
    )
    for size in [int(s) for s in args.sizes.split(",")]:
        fill(handle, size + 1)
        cell = measure(handle, args, size, target)
        results["cells"].append(cell)
        for mode in ("latency", "throughput"):
            m = cell[mode]
            print(
                f"{size:>7}  {mode:<10} {m['native_jobs_per_s']:>9.1f}"
                f" {m['name_jobs_per_s']:>9.1f} {m['ratio']:>6.3f}"
                f"  {cell['worker_rss_mb'] or 0:>13.1f}",
                flush=True,
            )
    Path(args.json).write_text(json.dumps(results, indent=2) + "\n")
    print(f"results written to {args.json}")
    if plot(results, args.png):
        print(f"plot written to {args.png}")
    return 0


def main():
    args = parse_args()
    if args.inner:
        sys.exit(main_inner(args))
    sys.exit(start_instance(args))


if __name__ == "__main__":
    main()
