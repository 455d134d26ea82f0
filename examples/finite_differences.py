"""Finite differences against dualdiff's exact derivative.

Source: article 002 (002_c7e395e92a203fca.txt, "Basics": f(x) = 3x² − 4x + 5 at x = 3,
f'(3) = 6x − 4 = 14, and its forward difference 14.000000305713911 at h = 1e-7) and article 001
(001_9993d09ab1b883c6.txt, "Calculating Gradients, Numerically": the divided difference has
O(h) error and is prone to floating-point error).

For h = 1e-1 ... 1e-15 the table compares the forward difference (f(x+h) − f(x))/h and the
central difference (f(x+h) − f(x−h))/2h with dualdiff's derivative, which is exactly 14.
The forward error first falls like 3h (truncation) and then rises like ε·|f(x)|/h
(round-off); for a quadratic the central difference has no truncation error at all, so all
of its error is round-off. The log-log plot draws dualdiff's error, exactly 0, at machine ε.

    python examples/finite_differences.py [--outdir DIR]     # writes finite_differences.png
"""
import os

import numpy as np

import dualdiff as dd

EPS = np.finfo(float).eps


def f(x):
    return 3 * x**2 - 4 * x + 5


def main(outdir=None):
    x = 3.0
    exact = dd.derivative(f)(x)
    hs = np.array([float(f"1e-{k}") for k in range(1, 16)])      # exactly the literals
    forward = np.array([(f(x + h) - f(x)) / h for h in hs])
    central = np.array([(f(x + h) - f(x - h)) / (2 * h) for h in hs])

    print(f"f(x) = 3x² − 4x + 5 at x = {x:g}: dualdiff f'(x) = {exact!r} (exact: 6x − 4 = 14)")
    print(f"{'h':>7} {'forward':>20} {'central':>20} {'|fwd − 14|':>10} {'|ctr − 14|':>10}")
    for h, fw, ce in zip(hs, forward, central):
        print(f"{h:7.0e} {fw:20.15f} {ce:20.15f} {abs(fw - 14):10.1e} {abs(ce - 14):10.1e}")
    best = int(np.argmin(np.abs(forward - 14)))
    print(f"best forward difference: h = {hs[best]:.0e}, error {abs(forward[best] - 14):.1e}; "
          f"dualdiff's error: {abs(exact - 14)}")

    plot = _plot(hs, np.abs(forward - 14), np.abs(central - 14), abs(exact - 14), f(x),
                 outdir)
    return {"x": x, "exact": exact, "h": hs, "forward": forward, "central": central,
            "plot": plot}


def _plot(hs, err_fwd, err_ctr, err_dd, fx, outdir):
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError:
        print("plot skipped: matplotlib is not installed (pip install matplotlib)")
        return None
    # an error of exactly 0 has no logarithm: such points are drawn on the ε floor instead
    def floor(err):
        return np.maximum(err, EPS)

    fig = Figure(figsize=(9.5, 4.5))
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    # below h = 1e-8 both differences are pure round-off and coincide: hollow vs filled
    ax.loglog(hs, floor(err_fwd), "o-", ms=9, mfc="none", label="forward difference")
    ax.loglog(hs, floor(err_ctr), "s-", ms=4, label="central difference")
    ax.loglog(hs, 3 * hs, ":", color="gray", label="truncation 3h (forward)")
    ax.loglog(hs, EPS * abs(fx) / hs, "--", color="gray", label="round-off ≈ ε·|f(x)|/h")
    ax.loglog(hs, np.full_like(hs, floor(err_dd)), "k^-", ms=5,
              label=f"dualdiff: error {err_dd:g}, drawn at machine ε\n(log 0 is undefined)")
    ax.set_xlabel("step h")
    ax.set_ylabel("|approximation − f'(3)|")
    ax.set_title("f(x) = 3x² − 4x + 5, f'(3) = 14")
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(fontsize=8, loc="center left", bbox_to_anchor=(1.01, 0.5))
    fig.tight_layout()
    outdir = outdir or os.getcwd()
    os.makedirs(outdir, exist_ok=True)
    path = os.path.join(outdir, "finite_differences.png")
    fig.savefig(path, dpi=100)
    print(f"wrote {path}")
    return path


if __name__ == "__main__":
    import argparse
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--outdir", help="directory for the PNG (default: the current one)")
    main(parser.parse_args().outdir)
