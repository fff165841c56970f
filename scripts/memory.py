#!/usr/bin/env python3
"""Shows that the host's memory stays flat during a long sync.

    scripts/memory.py                  # 2,000,000 rows of workload W, a checkpoint every 100,000
    scripts/memory.py --rows 500000 --variant kib-strings --limit-mb 100

Builds the release `connector-host` and `bench-connector` (the benchmark's Swift connector, see
bench/), runs one sync into a fresh warehouse, and samples the host's resident memory (VmRSS in
/proc, Linux) every 0.2 s. Prints RSS at each tenth of the run, the peak (VmHWM), and the growth
from the first tenth to the end. Exits 1 when the peak is over --limit-mb (default 100) or the
RSS grew by more than --growth-mb (default 10) after the first tenth of the run.
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RELEASE = os.path.join(ROOT, ".build", "release")


def status_kib(pid, field):
    try:
        with open("/proc/%d/status" % pid) as status:
            for line in status:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=2_000_000)
    parser.add_argument("--variant", default="w", help="w (default), wide100 or kib-strings")
    parser.add_argument("--checkpoint-every", type=int, default=100_000)
    parser.add_argument("--limit-mb", type=float, default=100)
    parser.add_argument("--growth-mb", type=float, default=10)
    parser.add_argument("--no-build", action="store_true")
    options = parser.parse_args()

    if not options.no_build:
        for product in ("connector-host", "bench-connector"):
            print("memory: swift build -c release --product %s" % product, file=sys.stderr, flush=True)
            subprocess.run(["swift", "build", "-c", "release", "--product", product], cwd=ROOT, check=True,
                           stdout=subprocess.DEVNULL)
    folder = tempfile.mkdtemp(prefix="connector-host-memory-")
    try:
        with open(os.path.join(folder, "connector.json"), "w") as manifest:
            json.dump({"name": "memory", "command": [os.path.join(RELEASE, "bench-connector")]}, manifest)
        with open(os.path.join(folder, "configuration.json"), "w") as configuration:
            json.dump({"rows": str(options.rows), "variant": options.variant,
                       "checkpointEvery": str(options.checkpoint_every)}, configuration)
        started = time.monotonic()
        host = subprocess.Popen([os.path.join(RELEASE, "connector-host"), "run", folder, "--quiet", "--json"],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        samples = []  # (seconds, RSS KiB)
        peak = 0
        while host.poll() is None:
            rss = status_kib(host.pid, "VmRSS")
            peak = max(peak, status_kib(host.pid, "VmHWM") or 0)
            if rss is not None:
                samples.append((time.monotonic() - started, rss))
            time.sleep(0.2)
        output, errors = host.communicate()
        seconds = time.monotonic() - started
        if host.returncode != 0:
            sys.stderr.write(errors)
            print("memory: the sync failed (exit %d)" % host.returncode)
            return 1
        report = json.loads(output.strip().splitlines()[-1])
        upserts = report["counts"]["upserts"]
        if upserts != options.rows or len(samples) < 10:
            print("memory: expected %d upserts and at least 10 samples, got %d and %d" % (options.rows, upserts, len(samples)))
            return 1
        print("memory: %s rows of %s in %.1f s (%.0f rows/s), %d RSS samples" % (
            format(upserts, ","), options.variant, seconds, upserts / seconds, len(samples)))
        deciles = []
        for tenth in range(1, 11):
            at = seconds * tenth / 10
            sample = min(samples, key=lambda entry: abs(entry[0] - at))
            deciles.append(sample[1])
            print("  %3d%% of the run (%5.1f s): host RSS %6.1f MB" % (tenth * 10, sample[0], sample[1] / 1024))
        after_warmup = [rss for (at, rss) in samples if at >= seconds / 10]
        growth = (max(after_warmup) - deciles[0]) / 1024
        print("memory: host peak RSS %.1f MB (limit %.0f MB); growth after the first tenth %.1f MB (limit %.0f MB)" % (
            peak / 1024, options.limit_mb, growth, options.growth_mb))
        ok = peak / 1024 <= options.limit_mb and growth <= options.growth_mb
        print("memory: rows=%d peak_rss_mb=%.1f growth_mb=%.1f %s" % (upserts, peak / 1024, growth, "ok" if ok else "FAILED"))
        return 0 if ok else 1
    finally:
        shutil.rmtree(folder, ignore_errors=True)


sys.exit(main())
