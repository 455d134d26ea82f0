"""The reference multi-layer perceptron: a small sigmoid network whose gradient dualdiff's
forward mode computes and the article's hand-derived backpropagation checks.

The network follows the source article "Building your own backpropagation engine for deep
neural networks": hidden layers of sigmoid units phi(s) = 1 / (1 + exp(-a s)) with a slope
a, one linear output f(x), the squared error E = 1/2 (f(x) - y)^2 (averaged over a batch
here), and stochastic gradient descent theta <- theta - lr * dE/dtheta.

- `loss` is the forward pass, in numpy; `grad_forward` differentiates it with `dd.grad`, one
  forward sweep per chunk of parameter directions.
- `grad_backprop` runs the same forward pass, then the article's backward pass by hand.

The two agree to rounding, which makes this module a test of dualdiff. The command line
(`python -m dualdiff.mlp`: data files, training, plots) lives in dualdiff/_mlp_cli.py.
"""
import math
import numbers
import operator
import sys

import numpy as np

import dualdiff as dd

__all__ = ["MLP"]


class MLP:
    """Feed-forward net n_in -> hidden... -> 1: sigmoid hidden layers, a linear output.

    All parameters live in one flat float64 vector, layer by layer as (W, b) with W of shape
    (fan_in, fan_out); the per-layer arrays are reshaped views of it, so the loss can be
    differentiated with respect to the flat vector directly.
    """

    def __init__(self, n_in, hidden=(8, 8), a=1.0, random_state=0):
        try:
            sizes = tuple(operator.index(n) for n in (n_in, *hidden, 1))
        except TypeError:
            sizes = (0,)
        if min(sizes) < 1:
            raise ValueError(f"MLP: n_in and the hidden sizes must be positive ints, got "
                             f"n_in={n_in!r}, hidden={hidden!r}")
        if not (isinstance(a, numbers.Real) and math.isfinite(a)):
            raise ValueError(f"MLP: the sigmoid slope a must be a finite number, got {a!r}")
        self.sizes, self.a = sizes, float(a)
        self.n_in, self.hidden = sizes[0], sizes[1:-1]
        self.n_params = sum((i + 1) * o for i, o in zip(sizes[:-1], sizes[1:]))
        rng = np.random.default_rng(random_state)
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

    # -- the forward pass --------------------------------------------------------------

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
        """The output of every layer: [X, h_1, ..., h_L, f] with f of shape (N, 1). `loss`
        keeps f; `grad_backprop` needs each layer's input too."""
        layers = self._unflatten(params)
        outputs = [X]
        for W, b in layers[:-1]:
            # dd.sigmoid is the rule table's phi(s) = 1/(1 + exp(-a s)), built from
            # exp(-|a s|) only: a saturated unit gets derivative 0, where the textbook
            # formula overflows exp and gives forward mode inf/inf = nan
            outputs.append(dd.sigmoid(outputs[-1] @ W + b, self.a))
        W, b = layers[-1]
        outputs.append(outputs[-1] @ W + b)
        return outputs

    def predict(self, X):
        """Network outputs, shape (N,), for X of shape (N, n_in) (or (N,) when n_in == 1)."""
        return self._forward(self._theta, self._inputs(X))[-1][:, 0]

    def loss(self, params, X, y):
        """Mean over the batch of 1/2 (f(x) - y)^2 at the flat parameter vector params.

        Only numpy operations (and dd.sigmoid), so dualdiff can differentiate it with respect
        to params."""
        if isinstance(params, (list, tuple)):
            params = np.asarray(params, dtype=np.float64)
        if np.shape(params) != (self.n_params,):
            raise ValueError(f"loss: expected a flat parameter vector of length "
                             f"{self.n_params}, got shape {np.shape(params)}")
        X, y = self._data(X, y)
        residual = self._forward(params, X)[-1][:, 0] - y
        return 0.5 * np.mean(residual ** 2)

    # -- gradients ---------------------------------------------------------------------

    def grad_forward(self, X, y, chunk=None):
        """dE/dtheta at the current parameters by dualdiff's forward mode: ceil(n/chunk)
        sweeps of `loss`, each carrying `chunk` parameter directions."""
        X, y = self._data(X, y)
        return dd.grad(self.loss, chunk=chunk)(self._theta, X, y)

    def grad_backprop(self, X, y):
        """dE/dtheta at the current parameters by the article's hand-derived backpropagation
        (reverse mode), in the flat layout of `params`."""
        X, y = self._data(X, y)
        *inputs, f = self._forward(self._theta, X)      # inputs[i] feeds layer i
        layers = self._unflatten(self._theta)
        grad = np.empty(self.n_params)
        grad_layers = self._unflatten(grad)
        # delta = dE/ds for the pre-activations s of a layer; the output unit is linear,
        # so there it is the residual (divided by N because E is a batch mean)
        delta = (f - y[:, None]) / len(y)
        for i in reversed(range(len(layers))):
            gW, gb = grad_layers[i]
            gW[...] = inputs[i].T @ delta
            gb[...] = delta.sum(axis=0)
            if i:
                # the article's trick phi'(s) = a phi(s) (1 - phi(s)), phi(s) being inputs[i];
                # 1 - phi inherits phi's rounding, an absolute 1e-16: harmless in a gradient
                phi = inputs[i]
                delta = (delta @ layers[i][0].T) * (self.a * phi * (1.0 - phi))
        return grad

    # -- training ----------------------------------------------------------------------

    def fit(self, X, y, epochs, lr, batch_size=1, grad="forward", progress=True, random_state=0):
        """Stochastic gradient descent theta <- theta - lr * dE/dtheta over shuffled batches
        (batch_size=1 is the article's per-data-point rule). Returns the full-data training
        loss after each epoch.

        The shuffle depends only on `random_state`, so fits that differ only in `grad` take the same
        steps and their histories agree to rounding."""
        if grad not in ("forward", "backprop"):
            raise ValueError(f"fit: grad must be 'forward' or 'backprop', got {grad!r}")
        X, y = self._data(X, y)
        if int(batch_size) < 1:
            raise ValueError(f"fit: batch_size must be a positive int, got {batch_size!r}")
        gradient = self.grad_forward if grad == "forward" else self.grad_backprop
        rng = np.random.default_rng(random_state)
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


if __name__ == "__main__":         # python -m dualdiff.mlp
    from dualdiff._mlp_cli import main
    sys.exit(main())
