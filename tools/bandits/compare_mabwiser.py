#!/usr/bin/env python3
"""Side-by-side: Kairos's UCB1 and Thompson sampling against MABWiser's on the same streams.

Not part of the product or of CI. Needs `pip install mabwiser` (tested with 2.7.4) and a built
`kairos` binary. For every seed it writes the three benchmark streams with
`kairos meta streams`, runs `kairos meta simulate --policy ucb1|thompson` on them, runs
MABWiser's LearningPolicy.UCB1(alpha=1) (mean + sqrt(2 ln N / n), the same index) and
LearningPolicy.ThompsonSampling() (Beta(1, 1) priors, binary rewards) online on the same reward
matrices (MABWiser is first fitted on one pull of each arm, steps 0-3, as UCB1 starts), and
computes the same pseudo-regret against the per-step best arm for both from the true means.

    python3 tools/bandits/compare_mabwiser.py --kairos .build/debug/kairos --seeds 20 --work /tmp/bandits

Prints a markdown table (mean ± sd over seeds) and the Python per-decision time.
"""
import argparse
import csv
import os
import statistics
import subprocess
import time

import numpy as np
from mabwiser.mab import MAB, LearningPolicy

STREAMS = ["stationary", "switching", "drift"]


def load(path):
    with open(path) as f:
        rows = list(csv.reader(f))
    return np.array([[float(x) for x in r] for r in rows[1:]])


def pseudo_regret(choices, means):
    best = means.max(axis=1)
    return float((best - means[np.arange(len(choices)), choices]).sum())


def kairos_run(kairos, rewards, means, policy, seed, work):
    out = os.path.join(work, f"choices-{policy}-{seed}.csv")
    subprocess.run([kairos, "meta", "simulate", "--rewards", rewards, "--policy", policy,
                    "--seed", str(seed), "--out", out, "--means", means], check=True, capture_output=True)
    with open(out) as f:
        rows = list(csv.reader(f))[1:]
    names = ["a0", "a1", "a2", "a3"]
    return np.array([names.index(r[1]) for r in rows])


def mabwiser_run(R, policy, seed):
    T, K = R.shape
    mab = MAB(arms=list(range(K)), learning_policy=policy, seed=seed)
    choices = np.zeros(T, dtype=int)
    choices[:K] = np.arange(K)
    mab.fit(decisions=list(range(K)), rewards=[R[i, i] for i in range(K)])
    for t in range(K, T):
        a = int(mab.predict())
        choices[t] = a
        mab.partial_fit([a], [R[t, a]])
    return choices


def fmt(xs):
    return f"{statistics.mean(xs):.1f} ± {statistics.stdev(xs) if len(xs) > 1 else 0:.1f}"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--kairos", default=".build/debug/kairos")
    ap.add_argument("--seeds", type=int, default=20)
    ap.add_argument("--work", default="/tmp/kairos-bandits")
    args = ap.parse_args()
    os.makedirs(args.work, exist_ok=True)
    res = {(s, k): [] for s in STREAMS for k in ["k-ucb1", "m-ucb1", "k-ts", "m-ts"]}
    py_time, py_steps = 0.0, 0
    for seed in range(1, args.seeds + 1):
        subprocess.run([args.kairos, "meta", "streams", "--out", args.work, "--seed", str(seed)],
                       check=True, capture_output=True)
        for s in STREAMS:
            rp = os.path.join(args.work, f"{s}-s{seed}-rewards.csv")
            mp = os.path.join(args.work, f"{s}-means.csv")
            R, M = load(rp), load(mp)
            res[(s, "k-ucb1")].append(pseudo_regret(kairos_run(args.kairos, rp, mp, "ucb1", seed, args.work), M))
            res[(s, "k-ts")].append(pseudo_regret(kairos_run(args.kairos, rp, mp, "thompson", seed, args.work), M))
            t0 = time.perf_counter()
            res[(s, "m-ucb1")].append(pseudo_regret(mabwiser_run(R, LearningPolicy.UCB1(alpha=1.0), seed), M))
            res[(s, "m-ts")].append(pseudo_regret(mabwiser_run(R, LearningPolicy.ThompsonSampling(), seed), M))
            py_time += time.perf_counter() - t0
            py_steps += 2 * len(R)
        print(f"seed {seed} done", flush=True)
    print(f"\nPseudo-regret vs the per-step best arm at T=10,000, mean ± sd over {args.seeds} seeds\n")
    print("| stream | Kairos UCB1 | MABWiser UCB1 | Kairos Thompson | MABWiser Thompson |")
    print("|---|---:|---:|---:|---:|")
    for s in STREAMS:
        print(f"| {s} | {fmt(res[(s, 'k-ucb1')])} | {fmt(res[(s, 'm-ucb1')])} | {fmt(res[(s, 'k-ts')])} | {fmt(res[(s, 'm-ts')])} |")
    print(f"\nMABWiser: {py_time / py_steps * 1e6:.0f} µs per decision (predict + partial_fit, Python)")


if __name__ == "__main__":
    main()
