"""Partial vs total derivative of the ellipsoid volume.

Source: article 000 (000_631e353a65608671.txt, "The total and the partial derivative"). The
volume of an ellipsoid with semi-axes t, x, y is f(t, x, y) = 4π/3·t·x·y. Holding t and y
fixed, ∂f/∂x = 4π/3·t·y. If the shape is constrained to t = x, the total derivative is
df/dx = ∂f/∂t·dt/dx + ∂f/∂x = 8π/3·x·y, and the article warns that substituting t = x
*after* taking the partial gives 4π/3·x·y, half the right answer.

dualdiff shows all three: `grad(..., argnums=1)` is the partial, differentiating the
composition `lambda x: f(x, x, y)` is the total, and evaluating the partial at t = x is the
wrong shortcut.

    python examples/partial_vs_total.py
"""
import math

import dualdiff as dd


def volume(t, x, y):
    return 4 * math.pi / 3 * t * x * y


def main(outdir=None):
    """Print the three derivatives at x = 2, y = 3 (so t = x = 2); `outdir` is unused."""
    x, y = 2.0, 3.0
    t = x                                             # the constraint of the article

    partial_x = dd.grad(volume, argnums=1)(t, x, y)
    # substitute *before* differentiating: the constraint becomes part of the function
    total = dd.derivative(lambda s: volume(s, s, y))(x)
    # the article's mistake: differentiate with t held fixed, substitute t = x afterwards
    naive = dd.grad(volume, argnums=1)(x, x, y)
    # the article's definition of the total derivative, assembled from dualdiff's partials
    df_dt, df_dx, _ = dd.grad(volume, argnums=(0, 1, 2))(t, x, y)
    dt_dx = dd.derivative(lambda s: s)(x)
    total_from_partials = df_dt * dt_dx + df_dx

    print(f"f(t, x, y) = 4π/3·t·x·y at t = x = {x:g}, y = {y:g}")
    rows = [
        ("∂f/∂x (t, y held fixed)", partial_x, "4π/3·t·y", 4 * math.pi / 3 * t * y),
        ("df/dx along t = x", total, "8π/3·x·y", 8 * math.pi / 3 * x * y),
        ("∂f/∂t·dt/dx + ∂f/∂x", total_from_partials, "4π/3·x·y + 4π/3·t·y",
         4 * math.pi / 3 * (x * y + t * y)),
        ("wrong: ∂f/∂x, then t := x", naive, "4π/3·x·y", 4 * math.pi / 3 * x * y),
    ]
    for name, got, formula, want in rows:
        print(f"  {name:<27} {got:12.8f}   formula {formula:<20} = {want:12.8f}")
    print(f"  total / wrong = {total / naive:g}: substitute before differentiating, not after")
    return {"t": t, "x": x, "y": y, "partial_x": partial_x, "partial_t": df_dt,
            "total": total, "total_from_partials": total_from_partials, "naive": naive}


if __name__ == "__main__":
    main()
