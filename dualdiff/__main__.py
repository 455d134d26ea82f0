"""`python -m dualdiff`: the Quickstart demonstration.

Derivatives of the worked examples of the documents dualdiff grew from, each printed beside
the exact value the document arrives at, and the finite-difference estimate for contrast.
"""
import math

import numpy as np

import dualdiff as dd


def row(label, got, exact, note=""):
    err = abs(got - exact)
    print(f"  {label:<44} {got:>22.17g}  exact {exact:<22.17g} err {err:.1e} {note}")


def main():
    print("dualdiff: exact derivatives by forward-mode automatic differentiation\n")

    print("f(x) = 3x^2 - 4x + 5 at x = 3 (the slope seen as rise over run)")
    f = lambda x: 3 * x ** 2 - 4 * x + 5
    h = 1e-7
    row("dd.derivative(f)(3)", dd.derivative(f)(3.0), 14.0)
    row("finite difference (f(3+h) - f(3))/h, h=1e-7", (f(3 + h) - f(3)) / h, 14.0, "<- truncation + round-off")
    row("dd.derivative(f, order=2)(3)", dd.derivative(f, order=2)(3.0), 6.0)

    print("\nd = a*b + c at a=2, b=-3, c=10 (partial derivatives: the other inputs held constant)")
    da, db, dc = dd.grad(lambda a, b, c: a * b + c, argnums=(0, 1, 2))(2.0, -3.0, 10.0)
    row("dd/da = b", da, -3.0)
    row("dd/db = a", db, 2.0)
    row("dd/dc = 1", dc, 1.0)

    print("\nEllipsoid volume f(t,x,y) = 4pi/3 t x y at x=0.7, y=2.1: partial vs total derivative")
    vol = lambda t, x, y: 4 * math.pi / 3 * t * x * y
    x, y = 0.7, 2.1
    row("partial df/dx with t = x substituted after", dd.grad(vol, argnums=1)(x, x, y),
        4 * math.pi / 3 * x * y, "<- ignores t's dependence")
    row("total d/dx f(x, x, y)", dd.derivative(lambda x: vol(x, x, y))(x), 8 * math.pi / 3 * x * y)

    print("\nmax(x, y) and ReLU at their kinks (conventions: ties split 1/2 each, relu'(0) = 0)")
    gx, gy = dd.grad(np.maximum, argnums=(0, 1))(2.0, 2.0)
    row("d max(x,y)/dx at x = y = 2", gx, 0.5)
    row("d relu(x)/dx at 0", dd.derivative(dd.relu)(0.0), 0.0)

    print("\nf(x) = exp(x)/sqrt(sin(x)^3 + cos(x)^3) at 1.5, written with plain numpy")
    g = lambda x: np.exp(x) / np.sqrt(np.sin(x) ** 3 + np.cos(x) ** 3)
    row("f'(1.5), one Dual sweep", dd.derivative(g)(1.5), 4.053427893898620658)
    row("f''(1.5), one HyperDual sweep", dd.derivative(g, order=2)(1.5), 9.463073681596603353)
    h = 1e-4
    row("f''(1.5) by central differences, h=1e-4", (g(1.5 + h) - 2 * g(1.5) + g(1.5 - h)) / h ** 2,
        9.463073681596603353)

    print("\nExtended Rosenbrock at x = (0, 1, ..., 11): gradient in one chunked forward pass")
    rosen = lambda x: np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2)
    print("  dd.grad(rosen)(x) =", dd.grad(rosen)(np.arange(12.0)).astype(int).tolist())
    print("  Hessian of sin(x1) + x2 x3 x4 at (pi/4, 2, 3, 4), exact (HyperDual):")
    H = dd.hessian(lambda x: np.sin(x[0]) + x[1] * x[2] * x[3])(np.array([math.pi / 4, 2, 3, 4]))
    print("   ", np.array2string(H, precision=6, suppress_small=True).replace("\n", "\n    "))
    print("\nMore: README.md (API, conventions), examples/, bench/.")


if __name__ == "__main__":
    main()
