"""Partial derivatives of sum, product, max and ReLU, including the kinks.

Source: article 003 (003_228d9929e3ca9461.txt, "Partial Derivative of a Sum", "... of
Multiplication", "... of Max", and its Summary): ∂(x + y)/∂x = 1; ∂(x·y)/∂x = y;
∂max(x, y)/∂x = 1 if x is the bigger, else 0; ReLU(x) = max(x, 0) has derivative 1 for
x > 0 and 0 otherwise.

The article says nothing about ties. dualdiff's documented conventions are: maximum/minimum
at a tie give ½ to each argument (so the gradient of max(2, 2) is (½, ½) and the two
partials still add up to the slope along x = y), and relu'(0) = 0. The last rows show that
how a kink is *written* picks its derivative: np.maximum(x, 0) is a tie at 0 (½), while
Python's built-in max returns its first argument on a tie and dualdiff follows that branch.

    python examples/max_relu.py
"""
import numpy as np

import dualdiff as dd

TWO_ARG = [                                       # (name, f, the article's rule for (∂x, ∂y))
    ("x + y", lambda x, y: x + y, lambda x, y: (1.0, 1.0)),
    ("x · y", lambda x, y: x * y, lambda x, y: (y, x)),
    ("max(x, y)", np.maximum,
     lambda x, y: (float(x > y), float(y > x)) if x != y else None),
]
POINTS = [(3.0, 2.0), (2.0, 3.0), (2.0, 2.0)]

ONE_ARG = [                                       # one ReLU, five spellings
    ("dd.relu(x)", dd.relu),
    ("np.where(x > 0, x, 0)", lambda x: np.where(x > 0, x, 0.0)),
    ("np.maximum(x, 0)", lambda x: np.maximum(x, 0.0)),
    ("builtin max(x, 0)", lambda x: max(x, 0.0)),
    ("builtin max(0, x)", lambda x: max(0.0, x)),
]
RELU_POINTS = [-1.0, 0.0, 2.0]


def main(outdir=None):
    """Print the tables; `outdir` is unused (this example draws nothing)."""
    partials = {}
    print(f"{'f':<10} {'(x, y)':<12} {'∂f/∂x':>7} {'∂f/∂y':>7}   article's rule")
    for name, f, rule in TWO_ARG:
        for x, y in POINTS:
            got = dd.grad(f, argnums=(0, 1))(x, y)
            partials[name, (x, y)] = got
            want = rule(x, y)
            said = f"({want[0]:g}, {want[1]:g})" if want else "(article silent; dualdiff: ½ each)"
            print(f"{name:<10} {(x, y)!s:<12} {got[0]:7.3g} {got[1]:7.3g}   {said}")

    print(f"\n{'ReLU written as':<24}" + "".join(f"{'d/dx at ' + format(x, 'g'):>11}"
                                                 for x in RELU_POINTS))
    slopes = {}
    for name, f in ONE_ARG:
        slopes[name] = [dd.derivative(f)(x) for x in RELU_POINTS]
        print(f"{name:<24}" + "".join(f"{s:11g}" for s in slopes[name]))
    print("article's rule: 1 for x > 0, otherwise 0. Only the middle point differs: "
          "np.maximum ties at 0,\nand built-in max picks its first argument on a tie.")
    return {"partials": partials, "relu_points": RELU_POINTS, "relu_slopes": slopes}


if __name__ == "__main__":
    main()
