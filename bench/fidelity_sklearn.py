#!/usr/bin/python3
"""bench/fidelity_sklearn.py - the original Python tool's recipe on the values fidelity dumped.

Usage: fidelity_sklearn.py [--seed SEED] FIDELITY.jsonl > MERGED.jsonl

For every scored line of bench/fidelity's output, loads the real values it dumped, fits a
1-D sklearn GaussianMixture to the raw values (not their log), k = 1..5 chosen by BIC, with
scikit-learn's defaults and random_state=SEED, draws as many values as the capture has and
adds sk_k, sk_ks and sk_w1 to the line. To be fair to the recipe, draws are clipped at 0
(a gap or a length cannot be negative) and payload-length draws are rounded to integers,
as flowmimic's are. It also recomputes flowmimic's KS and W1 from its dumped draws with
scipy (ks_recheck_diff, w1_recheck_rel), a check on mdl_stats_ks and mdl_stats_w1.
"""
import argparse
import json
import sys
import warnings

import numpy as np
from scipy.stats import ks_2samp, wasserstein_distance
from sklearn.mixture import GaussianMixture


def fit_bic(x, seed, max_k=5):
    best, best_bic = None, np.inf
    for k in range(1, max_k + 1):
        if k > len(np.unique(x)):
            break
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            gm = GaussianMixture(n_components=k, random_state=seed).fit(x.reshape(-1, 1))
        bic = gm.bic(x.reshape(-1, 1))
        if bic < best_bic:
            best, best_bic = gm, bic
    return best


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("results")
    a = ap.parse_args()
    with open(a.results, encoding="utf-8") as f:
        rows = [json.loads(line) for line in f if line.strip()]
    for r in rows:
        if "skipped" not in r and "error" not in r:
            real = np.fromfile(r["real"], dtype=np.float64)
            fm = np.fromfile(r["draws"], dtype=np.float64)
            gm = fit_bic(real, a.seed)
            draws = gm.sample(len(real))[0][:, 0]
            draws = np.maximum(draws, 0.0)
            if r["feature"] == "payload":
                draws = np.rint(draws)
            r["sk_k"] = int(gm.n_components)
            r["sk_ks"] = float(ks_2samp(real, draws).statistic)
            r["sk_w1"] = float(wasserstein_distance(real, draws))
            ks = float(ks_2samp(real, fm).statistic)
            w1 = float(wasserstein_distance(real, fm))
            r["ks_recheck_diff"] = abs(ks - r["ks"])
            r["w1_recheck_rel"] = abs(w1 - r["w1"]) / max(abs(w1), 1e-300)
        print(json.dumps(r))
    return 0


if __name__ == "__main__":
    sys.exit(main())
