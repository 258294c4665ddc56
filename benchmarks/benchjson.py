"""What a benchmark's --json file holds: its settings, its figures, and when and where it ran.

scripts/bench_figures.py renders the README's benchmark table and the figures in its prose
from these files (benchmarks/results/<name>.json, committed), so a figure the README quotes is
one a benchmark wrote.
"""
import datetime
import json
import os
import platform
import statistics
import subprocess


def spread(values):
    """{"median", "min", "max", "n", "values"} of a list of numbers."""
    values = list(values)
    return {"median": statistics.median(values), "min": min(values), "max": max(values), "n": len(values),
            "values": values}


def alternate(k, peer, others):
    """Round k's order (k from 0): the peer first in even rounds and last in odd ones, so neither
    side always runs on the colder machine."""
    return [peer, *others] if k % 2 == 0 else [*others, peer]


def _version(argv):
    try:
        return subprocess.run(argv, capture_output=True, text=True, timeout=30).stdout.strip() or None
    except (OSError, subprocess.TimeoutExpired):
        return None


def machine():
    """Where the figures were measured: enough to tell another machine's figures apart."""
    return {"cpus": os.cpu_count(), "system": f"{platform.system()} {platform.machine()}",
            "python": platform.python_version(), "rustc": _version(["rustc", "-V"]),
            "load_average": list(os.getloadavg())}   # at the end of the run: was the machine shared?


def write(path, benchmark, settings, figures):
    """Write the benchmark's JSON (settings and figures, with the date and the machine) to path,
    through a temporary file, so a run cut short leaves the old file whole."""
    data = {"benchmark": benchmark, "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d"),
            "machine": machine(), "settings": settings, **figures}
    tmp = f"{path}.tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(data, f, indent=1)
        f.write("\n")
    os.replace(tmp, path)
    print(f"figures written to {path}")
