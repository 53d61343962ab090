#!/usr/bin/python3
"""bench/make_samples.py - deterministic sample files for the fitting benchmark.

Usage: make_samples.py OUTDIR [--seed SEED] [--heldout N] [--sizes 1e4,1e5,1e6]

Writes raw native-endian float64 files (ndarray.tofile), read by bench/fit_bench.c and
bench/fit_sklearn.py:
  OUTDIR/iat_train_<n>.f64, OUTDIR/iat_heldout.f64
      ln(inter-arrival seconds) of a video flow: back-to-back packets inside a frame
      (~ln 10 us), frame gaps (~ln 40 ms at 25 fps) and some paced gaps in between (~ln 2 ms).
  OUTDIR/payload_train_<n>.f64, OUTDIR/payload_heldout.f64
      payload lengths in bytes, integers: an MTU spike (exactly 1400, the fragments of large
      frames), a broad body of frame tails and small packets (audio, RTCP, parameter sets),
      rounded and clipped to [12, 1400] as a real capture would be.
Each file has its own seed derived from SEED, the data set and the size, so a training
sample and its held-out sample are independent draws from the same distribution.
"""
import argparse
import os
import sys

import numpy as np

IAT_COMPONENTS = [  # weight, mean of ln(seconds), sd of ln(seconds)
    (0.80, np.log(10e-6), 0.50),
    (0.15, np.log(40e-3), 0.15),
    (0.05, np.log(2e-3), 0.70),
]
PAYLOAD_SPIKE = (0.30, 1400.0)
PAYLOAD_COMPONENTS = [(0.45, 1000.0, 250.0), (0.25, 150.0, 50.0)]


def draw_mixture(rng, comps, n):
    weights = np.array([c[0] for c in comps])
    which = rng.choice(len(comps), size=n, p=weights / weights.sum())
    means = np.array([c[1] for c in comps])[which]
    sds = np.array([c[2] for c in comps])[which]
    return rng.normal(means, sds)


def draw_iat(rng, n):
    return draw_mixture(rng, IAT_COMPONENTS, n)


def draw_payload(rng, n):
    spike_w, spike_v = PAYLOAD_SPIKE
    body = [(w, m, s) for (w, m, s) in PAYLOAD_COMPONENTS]
    x = draw_mixture(rng, body, n)
    x = np.clip(np.rint(x), 12.0, 1400.0)
    spike = rng.random(n) < spike_w
    x[spike] = spike_v
    return x


def size_tag(n):
    """1e4 for 10000, the plain number when n is not a power of ten."""
    e = len(str(n)) - 1
    return f"1e{e}" if n == 10**e else str(n)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("outdir")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--heldout", type=int, default=100000)
    ap.add_argument("--sizes", default="1e4,1e5,1e6")
    args = ap.parse_args()
    sizes = [int(float(s)) for s in args.sizes.split(",")]
    os.makedirs(args.outdir, exist_ok=True)
    for ds, (tag, draw) in enumerate([("iat", draw_iat), ("payload", draw_payload)]):
        rng = np.random.default_rng([args.seed, ds, 0])
        draw(rng, args.heldout).astype(np.float64).tofile(
            os.path.join(args.outdir, f"{tag}_heldout.f64"))
        for n in sizes:
            rng = np.random.default_rng([args.seed, ds, n])
            draw(rng, n).astype(np.float64).tofile(
                os.path.join(args.outdir, f"{tag}_train_{size_tag(n)}.f64"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
