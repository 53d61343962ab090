#!/usr/bin/python3
"""bench/fit_sklearn.py - scikit-learn's GaussianMixture on the same samples as fit_bench.

Usage: fit_sklearn.py [-k K] [-m MAX_K] [-r N_INIT] [-s SEED] [-n REPEAT] TRAIN HELDOUT

The standard recipe: K = 0 fits GaussianMixture(k, n_init=N_INIT) for k = 1..MAX_K and
keeps the lowest BIC; K > 0 fits that k with n_init=N_INIT. Everything else is left at
scikit-learn's defaults (k-means initialisation, tol=1e-3, max_iter=100, reg_covar=1e-6).
The timed part is the fitting (and the BIC evaluations for K = 0), not loading the files
or starting Python, as fit_bench times only mdl_gmm_fit. Prints one JSON line like
fit_bench: seconds (median of REPEAT), k, heldout_ll (mean log-density per held-out sample),
heldout_ll_bin (mean log of the mass of [x - 0.5, x + 0.5]) and train_ll.
"""
import argparse
import json
import sys
import time
import warnings

import numpy as np
from scipy.special import ndtr
from sklearn.exceptions import ConvergenceWarning
from sklearn.mixture import GaussianMixture


def fit(x, k, max_k, n_init, seed):
    """The fitted model and how many of the runs warned that EM did not converge."""
    ks = [k] if k > 0 else list(range(1, max_k + 1))
    best, best_bic, warned = None, np.inf, 0
    for kk in ks:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", ConvergenceWarning)
            gm = GaussianMixture(n_components=kk, n_init=n_init, random_state=seed).fit(x)
        warned += sum(issubclass(w.category, ConvergenceWarning) for w in caught)
        bic = gm.bic(x) if len(ks) > 1 else 0.0
        if best is None or bic < best_bic:
            best, best_bic = gm, bic
    return best, warned


def log_mass_bin(gm, x):
    """Mean log of the model's mass on [x - 0.5, x + 0.5] (the score for integer data)."""
    w = gm.weights_
    m = gm.means_[:, 0]
    s = np.sqrt(gm.covariances_.reshape(-1))
    hi = (x[:, None] + 0.5 - m) / s
    lo = (x[:, None] - 0.5 - m) / s
    # Upper tail differences via the survival function keep precision far above the mean.
    p = np.where(lo > 0, ndtr(-lo) - ndtr(-hi), ndtr(hi) - ndtr(lo))
    mass = np.maximum((w * p).sum(axis=1), 1e-300)
    return float(np.mean(np.log(mass)))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-k", type=int, default=0)
    ap.add_argument("-m", type=int, default=5, dest="max_k")
    ap.add_argument("-r", type=int, default=3, dest="n_init")
    ap.add_argument("-s", type=int, default=1, dest="seed")
    ap.add_argument("-n", type=int, default=1, dest="repeat")
    ap.add_argument("train")
    ap.add_argument("heldout")
    a = ap.parse_args()
    x = np.fromfile(a.train, dtype=np.float64).reshape(-1, 1)
    xh = np.fromfile(a.heldout, dtype=np.float64).reshape(-1, 1)
    if x.size < 2 or xh.size < 1 or not (np.isfinite(x).all() and np.isfinite(xh).all()):
        print("fit_sklearn: empty or non-finite samples", file=sys.stderr)
        return 1
    times = []
    for _ in range(a.repeat):
        t0 = time.perf_counter()
        gm, warned = fit(x, a.k, a.max_k, a.n_init, a.seed)
        times.append(time.perf_counter() - t0)
    order = np.argsort(gm.means_[:, 0])
    out = {
        "tool": "sklearn",
        "n": int(x.shape[0]),
        "n_heldout": int(xh.shape[0]),
        "k_asked": a.k,
        "restarts": a.n_init,
        "k": int(gm.n_components),
        "seconds": float(sorted(times)[(len(times) - 1) // 2]),
        "heldout_ll": float(gm.score(xh)),
        "heldout_ll_bin": log_mass_bin(gm, xh[:, 0]),
        "train_ll": float(gm.score(x)),
        "bic": float(gm.bic(x)),
        "iters": int(gm.n_iter_),
        "converged": int(gm.converged_),
        "convergence_warnings": int(warned),
        "components": [[float(gm.weights_[j]), float(gm.means_[j, 0]),
                        float(np.sqrt(gm.covariances_.reshape(-1)[j]))] for j in order],
    }
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
