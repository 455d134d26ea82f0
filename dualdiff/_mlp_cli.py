"""The command line of the reference MLP (`python -m dualdiff.mlp`): its data (the built-in
sine, or a CSV file checked cell by cell), training, the report and the optional plot.

Everything the user can get wrong (the data file, the plot path, matplotlib missing) is
checked before training starts, and fails with one line on stderr and exit status 2.

    python -m dualdiff.mlp                     # fit sin(2 pi x) + noise (built in)
    python -m dualdiff.mlp --csv data.csv      # last column = target, the others = inputs
    python -m dualdiff.mlp --plot fit.png      # loss curve and fit (needs matplotlib)
"""
import argparse
import csv
import math
import os
import sys

import numpy as np

from dualdiff.mlp import MLP

# chosen so the built-in sine data fits (loss down well over 10x) in seconds
DEFAULTS = {"hidden": (8, 8), "a": 1.0, "epochs": 400, "lr": 0.5, "batch_size": 8, "random_state": 0}

# the formats matplotlib writes by itself, without Pillow, LaTeX or Ghostscript
PLOT_FORMATS = ("png", "pdf", "svg")


# ---------------------------------------------------------------------------------------
# data
# ---------------------------------------------------------------------------------------

def sine_data(n=200, noise=0.1, random_state=0):
    """The built-in regression: y = sin(2 pi x) + noise at n points x in [0, 1]."""
    rng = np.random.default_rng(random_state)
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
# the plot
# ---------------------------------------------------------------------------------------

def plot_target(path):
    """(file, format) that --plot PATH writes, or raises DataError saying why it cannot.

    Checked before training, so a typo costs a second, not a whole run. The format comes
    from the extension, .png when there is none; the file named here is the one written."""
    if os.path.isdir(path):
        raise DataError(f"--plot {path} is a directory; give a file name, e.g. "
                        f"{os.path.join(path, 'fit.png')}")
    root, ext = os.path.splitext(path)
    if ext in ("", "."):
        path, ext = root + ".png", ".png"
    fmt = ext[1:].lower()
    if fmt not in PLOT_FORMATS:
        raise DataError(f"--plot {path}: cannot write '{ext}' files; name it .png, .pdf or "
                        ".svg")
    if os.path.isdir(path):
        raise DataError(f"--plot {path} is a directory")
    directory = os.path.dirname(path) or "."
    if not os.path.isdir(directory):
        raise DataError(f"--plot {path}: directory {directory} does not exist; create it "
                        "first")
    if not os.access(directory, os.W_OK):
        raise DataError(f"--plot {path}: directory {directory} is not writable")
    return path, fmt


def _plot(path, fmt, history, mlp, X, y):
    # Figure without pyplot: no global backend to choose, works without a display
    from matplotlib.figure import Figure

    fig = Figure(figsize=(10, 4))
    left, right = fig.subplots(1, 2)
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
    fig.savefig(path, format=fmt, dpi=100)


# ---------------------------------------------------------------------------------------
# command line
# ---------------------------------------------------------------------------------------

def loss_change(before, after):
    """How the training loss moved, in words that stay true whichever way it went."""
    if not math.isfinite(after):
        return "diverged; try a smaller --lr"
    if after < before:
        return f"{before / after:.3g}x lower" if after > 0 else "down to 0"
    if after > before:
        return (f"{after / before:.3g}x higher, not lower" if before > 0 else "up from 0") \
            + ": try a smaller --lr"
    return "unchanged"


def _positive(kind):
    def parse(text):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a {kind.__name__}") from None
        if not value > 0 or not math.isfinite(value):
            raise argparse.ArgumentTypeError(f"{text!r} must be a positive number")
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


def _parser():
    parser = argparse.ArgumentParser(
        prog="python -m dualdiff.mlp",
        description="Train the reference sigmoid MLP with SGD, using dualdiff's forward-mode "
                    "gradients (or the hand-derived backpropagation) and compare the two.",
        epilog="exit status: 0 trained, 1 the loss diverged (not a finite number), 2 bad "
               "arguments, data file or plot path (checked before training)")
    parser.add_argument("--csv", metavar="PATH",
                        help="numeric CSV: last column = target, the others = inputs (an "
                             "optional header row is skipped); default: built-in "
                             "sin(2 pi x) + noise, 200 points")
    parser.add_argument("--epochs", type=_positive(int), default=DEFAULTS["epochs"],
                        help="passes over the data (default: %(default)s)")
    parser.add_argument("--lr", type=_positive(float), default=DEFAULTS["lr"],
                        help="learning rate (default: %(default)s)")
    parser.add_argument("--batch-size", type=_positive(int), default=DEFAULTS["batch_size"],
                        help="rows per SGD step; 1 is the article's per-data-point rule "
                             "(default: %(default)s)")
    parser.add_argument("--hidden", type=_sizes, default=DEFAULTS["hidden"],
                        help="hidden layer sizes, e.g. 16,16 (default: "
                             f"{','.join(map(str, DEFAULTS['hidden']))})")
    parser.add_argument("--a", type=_positive(float), default=DEFAULTS["a"],
                        help="sigmoid slope a in 1/(1+exp(-a s)) (default: %(default)s)")
    parser.add_argument("--grad", choices=("forward", "backprop"), default="forward",
                        help="gradient used for training: dualdiff's forward mode or the "
                             "hand-derived backpropagation (default: %(default)s)")
    parser.add_argument("--random-state", type=int, default=DEFAULTS["random_state"],
                        help="initialisation and shuffling (default: %(default)s)")
    parser.add_argument("--plot", metavar="PATH",
                        help="write the loss curve and the fit to PATH: .png (added when "
                             "there is no extension), .pdf or .svg; needs matplotlib")
    return parser


def main(argv=None):
    parser = _parser()
    args = parser.parse_args(argv)

    def fail(message):
        print(f"{parser.prog}: error: {message}", file=sys.stderr)
        return 2

    try:
        if args.plot:
            plot_path, plot_format = plot_target(args.plot)
            try:
                import matplotlib  # noqa: F401
            except ImportError:
                return fail("--plot needs matplotlib: pip install matplotlib")
        X, y = read_csv(args.csv) if args.csv else sine_data()
    except DataError as exc:
        return fail(str(exc))
    source = (f"{args.csv}: {len(y)} rows, {X.shape[1]} input(s)" if args.csv
              else f"built-in sin(2 pi x) + noise: {len(y)} rows, 1 input")

    mlp = MLP(X.shape[1], args.hidden, a=args.a, random_state=args.random_state)
    print(f"data: {source}")
    print(f"network: {'-'.join(map(str, mlp.sizes))} sigmoid MLP (a={mlp.a:g}), "
          f"{mlp.n_params} parameters")
    print(f"training: {args.epochs} epochs, lr {args.lr:g}, batch size {args.batch_size}, "
          f"{args.grad} gradients")
    start_loss = float(mlp.loss(mlp.params, X, y))
    with np.errstate(over="ignore", invalid="ignore"):    # a diverging run is reported below
        history = mlp.fit(X, y, args.epochs, args.lr, batch_size=args.batch_size,
                          grad=args.grad, random_state=args.random_state)
    print(f"training loss: {start_loss:.6g} -> {history[-1]:.6g} "
          f"({loss_change(start_loss, history[-1])})")
    diverged = not math.isfinite(history[-1])
    if not diverged:
        # forward-mode memory grows with rows x width x chunk, so check on a bounded sample
        check = slice(0, 1000)
        backprop = mlp.grad_backprop(X[check], y[check])
        difference = np.max(np.abs(mlp.grad_forward(X[check], y[check]) - backprop))
        # relative too: after a poor run the gradient itself may be huge
        print(f"max |grad_forward - grad_backprop| at the final parameters "
              f"({len(y[check])} rows): {difference:.3g}, relative to max |grad_backprop|: "
              f"{difference / max(np.max(np.abs(backprop)), 1e-300):.3g}")
    if args.plot:
        try:
            _plot(plot_path, plot_format, history, mlp, X, y)
        except OSError as exc:
            return fail(f"--plot: cannot write {plot_path}: {exc.strerror or exc}")
        print(f"plot: wrote {plot_path}")
    return 1 if diverged else 0
