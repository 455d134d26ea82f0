"""Linear regression by gradient descent with dualdiff's gradient.

Source: article 001 (001_9993d09ab1b883c6.txt, "Linear Regression from an AD Perspective"). The
model is f(x; θ0, θ1) = θ0·x + θ1 with loss L(θ) = (1/n)·Σ(yᵢ − (θ0·xᵢ + θ1))². The article
derives ∂L/∂θ0 = (2/n)·Σ(yᵢ − (θ0·xᵢ + θ1))(−xᵢ) and
∂L/∂θ1 = (2/n)·Σ(yᵢ − (θ0·xᵢ + θ1))(−1), and solves the same problem directly with the
normal equation θ* = (XᵀX)⁻¹XᵀY.

Here `dd.grad(loss)` replaces the hand derivation: it matches the article's partials at a
random θ, and gradient descent on it lands on the normal-equation solution.

    python examples/linear_regression.py [--outdir DIR]      # writes linear_regression.png
"""
import os

import numpy as np

import dualdiff as dd


def make_data(n=50, random_state=0):
    rng = np.random.default_rng(random_state)
    x = rng.uniform(0.0, 2.0, n)
    y = 2.5 * x - 1.0 + rng.normal(0.0, 0.3, n)       # true θ = (2.5, −1), noisy
    return x, y


def loss(theta, x, y):
    return np.mean((y - (theta[0] * x + theta[1])) ** 2)


def article_partials(theta, x, y):
    """The article's hand-derived gradient, term for term."""
    r = y - (theta[0] * x + theta[1])
    n = len(x)
    return np.array([2 / n * np.sum(r * -x), 2 / n * np.sum(r * -1)])


def main(outdir=None):
    x, y = make_data()
    grad_loss = dd.grad(loss)          # differentiates θ; the data ride along as constants

    theta_probe = np.random.default_rng(1).normal(size=2)
    g_dd, g_seed = grad_loss(theta_probe, x, y), article_partials(theta_probe, x, y)
    grad_rel_err = float(np.max(np.abs(g_dd - g_seed) / np.abs(g_seed)))

    # the loss's curvature 2/n·XᵀX has eigenvalues 0.30 and 4.6 for this data: a step
    # must stay below 2/4.6 ≈ 0.43, and 0.4 ≈ 2/(0.30 + 4.6) is the fastest such step
    theta, lr, steps = np.zeros(2), 0.4, 0
    while steps < 5000:
        g = grad_loss(theta, x, y)
        if np.linalg.norm(g) < 1e-12:
            break
        theta = theta - lr * g
        steps += 1

    X = np.column_stack([x, np.ones_like(x)])
    theta_star = np.linalg.lstsq(X, y, rcond=None)[0]

    print(f"data: n = {len(x)}, y = 2.5x − 1 + N(0, 0.3²) noise (random state 0)")
    print(f"gradient at θ = {np.array2string(theta_probe, precision=4)}:")
    print(f"  dualdiff           {g_dd}")
    print(f"  article's partials    {g_seed}")
    print(f"  max relative error {grad_rel_err:.1e}")
    print(f"gradient descent (lr = {lr}, {steps} steps): θ = {theta}")
    print(f"normal equation (lstsq):             θ = {theta_star}")
    print(f"max |θ_GD − θ*| = {np.max(np.abs(theta - theta_star)):.1e}, "
          f"loss {loss(theta, x, y):.6f}")

    plot = _plot(x, y, theta, theta_star, outdir)
    return {"theta_probe": theta_probe, "grad_dd": g_dd, "grad_article": g_seed,
            "grad_rel_err": grad_rel_err, "theta_gd": theta, "theta_normal": theta_star,
            "steps": steps, "plot": plot}


def _plot(x, y, theta, theta_star, outdir):
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError:
        print("plot skipped: matplotlib is not installed (pip install matplotlib)")
        return None
    fig = Figure(figsize=(6, 4))
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    xs = np.linspace(0, 2, 2)
    ax.plot(x, y, "o", ms=4, alpha=0.6, label="data")
    ax.plot(xs, theta[0] * xs + theta[1], "-", lw=3, alpha=0.5,
            label=f"gradient descent (dd.grad): {theta[0]:.4f}x {theta[1]:+.4f}")
    ax.plot(xs, theta_star[0] * xs + theta_star[1], "k--",
            label=f"normal equation: {theta_star[0]:.4f}x {theta_star[1]:+.4f}")
    ax.set_xlabel("x")
    ax.set_ylabel("y")
    ax.set_title("Least squares: θ0·x + θ1")
    ax.legend(fontsize=8)
    fig.tight_layout()
    outdir = outdir or os.getcwd()
    os.makedirs(outdir, exist_ok=True)
    path = os.path.join(outdir, "linear_regression.png")
    fig.savefig(path, dpi=100)
    print(f"wrote {path}")
    return path


if __name__ == "__main__":
    import argparse
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--outdir", help="directory for the PNG (default: the current one)")
    main(parser.parse_args().outdir)
