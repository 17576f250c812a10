#!/usr/bin/env python3
"""Runs every cargo-fuzz target for a fixed time and reports executions, speed and coverage.

    cd fuzz && python3 campaign.py --seconds 1800 --parallel 2 [--only bpe_encode ...]

Each target runs as ``cargo +nightly fuzz run <target> -O`` (AddressSanitizer, optimised, debug
assertions on) with libFuzzer's per-input timeout and memory limit, starting from the corpus in
``corpus/<target>/``; the log goes to ``logs/<target>.log``. The report gives, per target: seconds run,
total executions, executions per second, coverage (libFuzzer's ``cov``: edges reached) at the
quarter, half, three-quarter marks and the end (so a plateau shows), features (``ft``), the corpus
size, and whether libFuzzer reported a crash, leak, timeout or out-of-memory (its artifacts go to
``artifacts/<target>/``). Needs nightly Rust and cargo-fuzz (``cargo install cargo-fuzz``).
"""
from __future__ import annotations

import argparse
import re
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
STAT = re.compile(r"^#(\d+)\s+\w+\s+cov: (\d+) ft: (\d+) corp: (\d+)/\S+.*?exec/s: (\d+)")
FAIL = ("ERROR: AddressSanitizer", "ERROR: libFuzzer", "==ERROR", "panicked at", "SUMMARY: ",
        "Test unit written to")


def targets() -> list[str]:
    out = subprocess.run(["cargo", "+nightly", "fuzz", "list"], cwd=HERE, capture_output=True, text=True,
                         check=True)
    return out.stdout.split()


def start(target: str, seconds: int, logs: Path) -> tuple[subprocess.Popen, float]:
    (HERE / "corpus" / target).mkdir(parents=True, exist_ok=True)
    (HERE / "artifacts" / target).mkdir(parents=True, exist_ok=True)
    cmd = ["cargo", "+nightly", "fuzz", "run", target, "-O", "--",
           f"-max_total_time={seconds}", "-timeout=10", "-rss_limit_mb=2048", "-print_final_stats=1",
           f"-artifact_prefix={HERE / 'artifacts' / target}/"]
    log = open(logs / f"{target}.log", "w")
    return subprocess.Popen(cmd, cwd=HERE, stdout=log, stderr=subprocess.STDOUT), time.time()


def summarize(target: str, log: Path, seconds: float) -> str:
    rows = []
    failure = ""
    for line in log.read_text(errors="replace").splitlines():
        m = STAT.match(line)
        if m:
            rows.append(tuple(int(g) for g in m.groups()))
        if not failure and any(f in line for f in FAIL):
            failure = line.strip()[:100]
    if not rows:
        return f"| {target} | {seconds:.0f} | no libFuzzer statistics (see {log}) | | | | | {failure or '-'} |"
    execs, cov, ft, corp, _ = rows[-1]

    def cov_at(frac: float) -> int:
        # the last report at or before that share of the executions (about that share of the time)
        return next((r[1] for r in reversed(rows) if r[0] <= frac * execs), rows[0][1])

    marks = " / ".join(str(cov_at(f)) for f in (0.25, 0.5, 0.75, 1.0))
    return (f"| {target} | {seconds:.0f} | {execs:,} | {execs / max(seconds, 1e-9):,.0f} | {marks} | {ft} | "
            f"{corp} | {failure or 'none'} |")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seconds", type=int, default=1800, help="time per target")
    ap.add_argument("--parallel", type=int, default=1, help="targets run at once (one core each)")
    ap.add_argument("--only", nargs="+", help="these targets instead of all")
    ap.add_argument("--report", action="store_true", help="only tabulate the logs of an earlier run")
    a = ap.parse_args()
    logs = HERE / "logs"
    logs.mkdir(exist_ok=True)
    if a.report:
        print("| target | s | executions | exec/s | cov at 1/4 / 1/2 / 3/4 / end | ft | corpus | failure |")
        print("|---|---|---|---|---|---|---|---|")
        for log in sorted(logs.glob("*.log")):
            m = re.search(r"Done \d+ runs in (\d+) second", log.read_text(errors="replace"))
            print(summarize(log.stem, log, float(m.group(1)) if m else float("nan")))
        return
    todo = a.only or targets()
    running: dict[str, tuple[subprocess.Popen, float]] = {}
    done: dict[str, tuple[int, float]] = {}
    while todo or running:
        while todo and len(running) < a.parallel:
            t = todo.pop(0)
            running[t] = start(t, a.seconds, logs)
            print(f"started {t}", flush=True)
        time.sleep(2)
        for t, (p, t0) in list(running.items()):
            if p.poll() is not None:
                done[t] = (p.returncode, time.time() - t0)
                del running[t]
                print(f"finished {t}: exit {p.returncode} after {done[t][1]:.0f} s", flush=True)
    print("\n| target | s | executions | exec/s | cov at 1/4 / 1/2 / 3/4 / end | ft | corpus | failure |")
    print("|---|---|---|---|---|---|---|---|")
    for t, (_, secs) in done.items():
        print(summarize(t, logs / f"{t}.log", secs))
    sys.exit(1 if any(rc != 0 for rc, _ in done.values()) else 0)


if __name__ == "__main__":
    main()
