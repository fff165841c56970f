#!/usr/bin/env python3
"""bench/plot.py [RESULTS_JSON] [PNG]: rows/s of each case of a bench/run against its floor.

Reads bench/out/results.json (written by bench/run) and draws bench/results.png: one bar per case,
the SQLite floor of the same rows beside it, the Fivetran SDK's local debug run when it was measured,
and, when bench/run --sweep ran, the host's peak RSS against the row count. Needs matplotlib, which
bench/setup_venv.sh installs in bench/.venv (never a project dependency):

    bench/.venv/bin/python bench/plot.py
"""

import json
import os
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

BENCH = os.path.dirname(os.path.abspath(__file__))


def main():
    source = sys.argv[1] if len(sys.argv) > 1 else os.path.join(BENCH, "out", "results.json")
    target = sys.argv[2] if len(sys.argv) > 2 else os.path.join(BENCH, "results.png")
    with open(source) as f:
        data = json.load(f)
    results = [r for r in data["results"] if r.get("rows_per_s")]
    floors = data["floors"]
    sweep = data.get("sweep") or []

    figure, axes = plt.subplots(1, 2 if sweep else 1, figsize=(13 if sweep else 10, 5.5), squeeze=False)
    ax = axes[0][0]
    names = [r["case"] for r in results]
    values = [r["rows_per_s"] / 1000 for r in results]
    colors = []
    for r in results:
        if r["case"].startswith("floor"):
            colors.append("#9e9e9e")
        elif r["case"].startswith("fivetran"):
            colors.append("#d95f02")
        elif r["case"].startswith("python"):
            colors.append("#7570b3")
        else:
            colors.append("#1b9e77")
    bars = ax.bar(range(len(values)), values, color=colors)
    for bar, r in zip(bars, results):
        base = floors.get(r.get("floor_case"))
        label = "%.0fk" % (r["rows_per_s"] / 1000) if r["rows_per_s"] >= 1000 else "%.1fk" % (r["rows_per_s"] / 1000)
        if base and not r["case"].startswith("floor"):
            label += "\n%.0f%%" % (100 * r["rows_per_s"] / base)
        ax.annotate(label, (bar.get_x() + bar.get_width() / 2, bar.get_height()), ha="center", va="bottom",
                    fontsize=8)
    ax.set_xticks(range(len(values)))
    ax.set_xticklabels([n.replace(" ", "\n", 1) for n in names], fontsize=8)
    ax.set_ylabel("thousand rows per second (log scale)")
    ax.set_yscale("log")
    ax.set_title("workload W, %s rows (wide100, kib-strings, fivetran: fewer)\n%s, %d cores; %% = of the floor"
                 % (format(data["rows"], ","), data["machine"]["cpu"], data["machine"]["cores"]), fontsize=9)
    ax.grid(axis="y", alpha=0.3)

    if sweep:
        ax2 = axes[0][1]
        ax2.plot([p["rows"] / 1e6 for p in sweep], [p["host_rss_mb"] for p in sweep], marker="o", color="#1b9e77")
        ax2.set_xlabel("rows (millions)")
        ax2.set_ylabel("host peak RSS (MB)")
        ax2.set_ylim(0, max(50, max(p["host_rss_mb"] for p in sweep) * 1.2))
        ax2.axhline(50, color="#d95f02", linestyle="--", linewidth=1)
        ax2.annotate("target: 50 MB", (sweep[0]["rows"] / 1e6, 50), va="bottom", fontsize=8, color="#d95f02")
        ax2.set_title("host peak RSS, Swift connector", fontsize=9)
        ax2.grid(alpha=0.3)

    figure.tight_layout()
    figure.savefig(target, dpi=110)
    print("bench/plot.py: wrote %s" % target)


if __name__ == "__main__":
    main()
