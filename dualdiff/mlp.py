"""A reference multi-layer perceptron trained with dualdiff's forward-mode gradients.

The network and its training rule follow the seed article's section "Building your own
backpropagation engine for deep neural networks": hidden layers of sigmoid units
phi(s) = 1 / (1 + exp(-a s)) with a slope hyperparameter a, one linear output f(x, theta),
the squared error E = 1/2 (f(x) - y)^2 (averaged over a batch here) and stochastic gradient
descent theta <- theta - lr * dE/dtheta. The article's backpropagation, derived by hand with
phi'(s) = a phi(s) (1 - phi(s)), is `grad_backprop`; `grad_forward` gets the same gradient
from dualdiff by running the plain-numpy `loss` on dual numbers, one forward sweep per
parameter direction. They agree to rounding, which makes this module a test of dualdiff.

    python -m dualdiff.mlp                     # fit sin(2 pi x) + noise (built in)
    python -m dualdiff.mlp --csv data.csv      # last column = target, the others = inputs
    python -m dualdiff.mlp --plot fit.png      # loss curve and fit (needs matplotlib)
"""
import argparse
import csv
import math
import sys

import numpy as np

import dualdiff as dd

__all__ = ["MLP", "sine_data", "read_csv", "main", "DEFAULTS"]

# CLI defaults, chosen so the built-in sine data fits (loss down well over 10x) in seconds
DEFAULTS = {"hidden": (8, 8), "a": 1.0, "epochs": 400, "lr": 0.5, "batch_size": 8, "seed": 0}


class MLP:
    """Feed-forward net n_in -> hidden... -> 1: sigmoid hidden layers, a linear output.

    All parameters live in one flat float64 vector, layer by layer as (W, b) with W of shape
    (fan_in, fan_out); the per-layer arrays are reshaped views of it, so the loss can be
    differentiated with respect to the flat vector directly.
    """

    def __init__(self, n_in, hidden=(8, 8), a=1.0, seed=0):
        hidden = tuple(int(h) for h in hidden)
        if int(n_in) < 1 or any(h < 1 for h in hidden):
            raise ValueError(f"MLP: n_in and hidden sizes must be positive, got n_in={n_in}, "
                             f"hidden={hidden}")
        self.n_in, self.hidden, self.a = int(n_in), hidden, float(a)
        self.sizes = (self.n_in,) + hidden + (1,)
        self.n_params = sum((i + 1) * o for i, o in zip(self.sizes[:-1], self.sizes[1:]))
        rng = np.random.default_rng(seed)
        self._theta = np.empty(self.n_params)
        for W, b in self._unflatten(self._theta):
            # 1/sqrt(fan_in) keeps every pre-activation s of order one at the start, where
            # the sigmoid is neither flat nor saturated
            W[...] = rng.normal(size=W.shape) / math.sqrt(W.shape[0])
            b[...] = rng.normal(size=b.shape) / math.sqrt(W.shape[0])

    def __repr__(self):
        return f"MLP(n_in={self.n_in}, hidden={self.hidden}, a={self.a})"

    # -- parameters --------------------------------------------------------------------

    @property
    def params(self):
        """All parameters as one flat float64 vector (a copy)."""
        return self._theta.copy()

    def set_params(self, vec):
        vec = np.asarray(vec, dtype=np.float64)
        if vec.shape != (self.n_params,):
            raise ValueError(f"set_params: expected a flat vector of length {self.n_params}, "
                             f"got shape {vec.shape}")
        self._theta[...] = vec

    def _unflatten(self, params):
        """[(W, b), ...] as views into params (works on dual arrays as well)."""
        layers, start = [], 0
        for fan_in, fan_out in zip(self.sizes[:-1], self.sizes[1:]):
            W = params[start:start + fan_in * fan_out].reshape(fan_in, fan_out)
            start += fan_in * fan_out
            layers.append((W, params[start:start + fan_out]))
            start += fan_out
        return layers

    # -- the network -------------------------------------------------------------------

    def _inputs(self, X):
        X = np.asarray(X, dtype=np.float64)
        if X.ndim == 1 and self.n_in == 1:
            X = X[:, None]
        if X.ndim != 2 or X.shape[1] != self.n_in:
            raise ValueError(f"expected inputs X of shape (N, {self.n_in}) ({self.n_in} "
                             f"feature(s) per row), got shape {X.shape}")
        return X

    def _data(self, X, y):
        X = self._inputs(X)
        y = np.asarray(y, dtype=np.float64).reshape(-1)
        if y.shape != (X.shape[0],):
            raise ValueError(f"expected {X.shape[0]} targets y (one per row of X), got {y.size}")
        return X, y

    def _forward(self, params, X):
        layers = self._unflatten(params)
        h = X
        for W, b in layers[:-1]:
            h = 1.0 / (1.0 + np.exp(-self.a * (h @ W + b)))
        W, b = layers[-1]
        return (h @ W + b)[:, 0]

    def predict(self, X):
        """Network outputs, shape (N,), for X of shape (N, n_in) (or (N,) when n_in == 1)."""
        return self._forward(self._theta, self._inputs(X))

    def loss(self, params, X, y):
        """Mean over the batch of 1/2 (f(x) - y)^2 at the flat parameter vector params.

        Plain numpy, so dualdiff can differentiate it with respect to params."""
        if isinstance(params, (list, tuple)):
            params = np.asarray(params, dtype=np.float64)
        if np.shape(params) != (self.n_params,):
            raise ValueError(f"loss: expected a flat parameter vector of length "
                             f"{self.n_params}, got shape {np.shape(params)}")
        X, y = self._data(X, y)
        residual = self._forward(params, X) - y
        return 0.5 * np.mean(residual ** 2)

    # -- gradients ---------------------------------------------------------------------

    def grad_forward(self, X, y, chunk=None):
        """dE/dtheta at the current parameters by dualdiff's forward mode: ceil(n/chunk)
        sweeps of `loss`, each carrying `chunk` parameter directions."""
        X, y = self._data(X, y)
        return dd.grad(self.loss, chunk=chunk)(self._theta, X, y)

    def grad_backprop(self, X, y):
        """dE/dtheta at the current parameters by the seed's hand-derived backpropagation
        (reverse mode), in the flat layout of `params`."""
        X, y = self._data(X, y)
        layers = self._unflatten(self._theta)
        # forward pass, keeping each layer's input for the backward pass
        hs = [X]
        for W, b in layers[:-1]:
            hs.append(1.0 / (1.0 + np.exp(-self.a * (hs[-1] @ W + b))))
        W, b = layers[-1]
        f = hs[-1] @ W + b
        # delta = dE/ds for the pre-activations s of a layer; the output unit is linear,
        # so there it is the residual (divided by N because E is a batch mean)
        delta = (f - y[:, None]) / len(y)
        grad = np.empty(self.n_params)
        grad_layers = self._unflatten(grad)
        for i in reversed(range(len(layers))):
            gW, gb = grad_layers[i]
            gW[...] = hs[i].T @ delta
            gb[...] = delta.sum(axis=0)
            if i:
                # the seed's trick: phi'(s) = a phi(s) (1 - phi(s)), and phi(s) is hs[i]
                delta = (delta @ layers[i][0].T) * (self.a * hs[i] * (1.0 - hs[i]))
        return grad

    # -- training ----------------------------------------------------------------------

    def fit(self, X, y, epochs, lr, batch_size=1, grad="forward", progress=True, seed=0):
        """Stochastic gradient descent theta <- theta - lr * dE/dtheta over shuffled batches
        (batch_size=1 is the seed's per-data-point rule). Returns the full-data training
        loss after each epoch.

        The shuffle depends only on `seed`, so fits that differ only in `grad` take the same
        steps and their histories agree to rounding."""
        if grad not in ("forward", "backprop"):
            raise ValueError(f"fit: grad must be 'forward' or 'backprop', got {grad!r}")
        X, y = self._data(X, y)
        if int(batch_size) < 1:
            raise ValueError(f"fit: batch_size must be a positive int, got {batch_size!r}")
        gradient = self.grad_forward if grad == "forward" else self.grad_backprop
        rng = np.random.default_rng(seed)
        show = progress and sys.stderr.isatty()
        history = []
        for epoch in range(1, int(epochs) + 1):
            order = rng.permutation(len(y))
            for start in range(0, len(y), int(batch_size)):
                batch = order[start:start + int(batch_size)]
                self._theta -= lr * gradient(X[batch], y[batch])
            history.append(float(self.loss(self._theta, X, y)))
            if show:
                print(f"\repoch {epoch}/{epochs}  loss {history[-1]:.6g}", end="",
                      file=sys.stderr, flush=True)
        if show:
            print(file=sys.stderr)
        return history

    # -- persistence -------------------------------------------------------------------

    def save(self, path):
        """Parameters and architecture to an .npz file (numpy appends .npz if missing)."""
        np.savez(path, params=self._theta, n_in=self.n_in, hidden=np.array(self.hidden, int),
                 a=self.a)

    @classmethod
    def load(cls, path):
        with np.load(path) as z:
            mlp = cls(int(z["n_in"]), tuple(int(h) for h in z["hidden"]), float(z["a"]))
            mlp.set_params(z["params"])
        return mlp


# ---------------------------------------------------------------------------------------
# data
# ---------------------------------------------------------------------------------------

def sine_data(n=200, noise=0.1, seed=0):
    """The built-in regression: y = sin(2 pi x) + noise at n points x in [0, 1]."""
    rng = np.random.default_rng(seed)
    x = np.sort(rng.uniform(0.0, 1.0, n))
    return x[:, None], np.sin(2 * np.pi * x) + noise * rng.normal(size=n)


class DataError(ValueError):
    """A user data file that cannot be trained on; the message is one line for the CLI."""


def read_csv(path):
    """(X, y) from a numeric CSV file: last column = target, the others = inputs. A first
    row with no number in it is taken as a header. Raises DataError saying what is wrong."""
    try:
        with open(path, newline="") as fh:
            rows = [(n, row) for n, row in enumerate(csv.reader(fh), start=1)
                    if any(cell.strip() for cell in row)]
    except OSError as exc:
        raise DataError(f"cannot read {path}: {exc.strerror or exc}") from None
    except (UnicodeDecodeError, csv.Error) as exc:
        raise DataError(f"{path} is not a readable CSV text file: {exc}") from None

    def number(cell):
        try:
            return float(cell)
        except ValueError:
            return None

    header = None
    if rows and all(number(cell) is None for cell in rows[0][1]):
        header = [cell.strip() for cell in rows.pop(0)[1]]
    if not rows:
        raise DataError(f"{path} has no data rows" + (" (only a header)" if header else ""))
    width = len(header) if header else len(rows[0][1])
    if width < 2:
        raise DataError(f"{path} has {width} column; need at least 2 (inputs..., target)")
    data = np.empty((len(rows), width))
    for i, (line, row) in enumerate(rows):
        if len(row) != width:
            raise DataError(f"{path} line {line} has {len(row)} column{'s' * (len(row) != 1)}, "
                            f"expected {width} "
                            f"(like {'the header' if header else f'line {rows[0][0]}'})")
        for j, cell in enumerate(row):
            value = number(cell)
            if value is None or not math.isfinite(value):
                name = f" ({header[j]!r})" if header and header[j] else ""
                raise DataError(f"{path} line {line}, column {j + 1}{name}: {cell.strip()!r} "
                                "is not a finite number")
            data[i, j] = value
    return data[:, :-1], data[:, -1]


# ---------------------------------------------------------------------------------------
# command line
# ---------------------------------------------------------------------------------------

def _positive(kind):
    def parse(text):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a {kind.__name__}") from None
        if not value > 0:
            raise argparse.ArgumentTypeError(f"{text!r} must be positive")
        return value
    return parse


def _sizes(text):
    try:
        sizes = tuple(int(s) for s in text.split(","))
    except ValueError:
        sizes = ()
    if not sizes or any(s < 1 for s in sizes):
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a comma-separated list of positive layer sizes, e.g. 16,16")
    return sizes


def _plot(path, history, mlp, X, y):
    import matplotlib
    matplotlib.use("Agg")              # files only, works without a display
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
    left.semilogy(np.arange(1, len(history) + 1), history)
    left.set(xlabel="epoch", ylabel="training loss", title="loss")
    if mlp.n_in == 1:
        grid = np.linspace(X[:, 0].min(), X[:, 0].max(), 400)
        right.plot(X[:, 0], y, ".", alpha=0.5, label="data")
        right.plot(grid, mlp.predict(grid[:, None]), "-", label="network")
        right.set(xlabel="x", ylabel="y", title="fit")
        right.legend()
    else:
        predicted = mlp.predict(X)
        right.plot(y, predicted, ".", alpha=0.5)
        lo, hi = min(y.min(), predicted.min()), max(y.max(), predicted.max())
        right.plot([lo, hi], [lo, hi], "k--", lw=1)
        right.set(xlabel="true y", ylabel="predicted y", title="predicted vs true")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m dualdiff.mlp",
        description="Train the reference sigmoid MLP with SGD, using dualdiff's forward-mode "
                    "gradients (or the hand-derived backpropagation) and compare the two.")
    parser.add_argument("--csv", metavar="PATH",
                        help="numeric CSV: last column = target, the others = inputs (an "
                             "optional header row is skipped); default: built-in "
                             "sin(2 pi x) + noise, 200 points")
    parser.add_argument("--epochs", type=_positive(int), default=DEFAULTS["epochs"])
    parser.add_argument("--lr", type=_positive(float), default=DEFAULTS["lr"],
                        help="learning rate")
    parser.add_argument("--batch-size", type=_positive(int), default=DEFAULTS["batch_size"],
                        help="1 is the seed's per-data-point SGD")
    parser.add_argument("--hidden", type=_sizes, default=DEFAULTS["hidden"],
                        help="hidden layer sizes, e.g. 16,16 (default 8,8)")
    parser.add_argument("--a", type=_positive(float), default=DEFAULTS["a"],
                        help="sigmoid slope a in 1/(1+exp(-a s))")
    parser.add_argument("--grad", choices=("forward", "backprop"), default="forward",
                        help="gradient used for training (default: dualdiff forward mode)")
    parser.add_argument("--seed", type=int, default=DEFAULTS["seed"],
                        help="initialisation and shuffling")
    parser.add_argument("--plot", metavar="PATH",
                        help="write a PNG of the loss curve and the fit (needs matplotlib)")
    args = parser.parse_args(argv)

    def fail(message):
        print(f"{parser.prog}: error: {message}", file=sys.stderr)
        return 2

    if args.plot:
        # fail before training rather than after it
        try:
            import matplotlib  # noqa: F401
        except ImportError:
            return fail("--plot needs matplotlib: pip install 'dualdiff[plot]'")
    if args.csv:
        try:
            X, y = read_csv(args.csv)
        except DataError as exc:
            return fail(str(exc))
        source = f"{args.csv}: {len(y)} rows, {X.shape[1]} input(s)"
    else:
        X, y = sine_data()
        source = f"built-in sin(2 pi x) + noise: {len(y)} rows, 1 input"

    mlp = MLP(X.shape[1], args.hidden, a=args.a, seed=args.seed)
    print(f"data: {source}")
    print(f"network: {'-'.join(map(str, mlp.sizes))} sigmoid MLP (a={mlp.a:g}), "
          f"{mlp.n_params} parameters")
    print(f"training: {args.epochs} epochs, lr {args.lr:g}, batch size {args.batch_size}, "
          f"{args.grad} gradients")
    start_loss = float(mlp.loss(mlp.params, X, y))
    history = mlp.fit(X, y, args.epochs, args.lr, batch_size=args.batch_size, grad=args.grad,
                      seed=args.seed)
    print(f"training loss: {start_loss:.6g} -> {history[-1]:.6g} "
          f"({start_loss / history[-1]:.3g}x lower)")
    # forward-mode memory grows with rows x width x chunk, so check on a bounded sample
    check = slice(0, 1000)
    difference = np.max(np.abs(mlp.grad_forward(X[check], y[check])
                               - mlp.grad_backprop(X[check], y[check])))
    print(f"max |grad_forward - grad_backprop| at the final parameters "
          f"({len(y[check])} rows): {difference:.3g}")
    if args.plot:
        _plot(args.plot, history, mlp, X, y)
        print(f"plot: {args.plot}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
