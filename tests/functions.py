"""The battery of test functions shared by tests/ and bench/ (DiffTests.jl style).

Every function is ordinary user code: plain numpy or plain Python, nothing imported from
dualdiff. Several come in two spellings of the same mathematics (numpy style and loop
style), so the tests can check that both give the same derivatives and the bench can show
what each costs.

Each table maps a name to (function, input maker); an input maker takes a numpy Generator
and returns a valid input (inside the function's domain, away from kinks).
"""
import math

import numpy as np
from scipy.special import gammaln

# ---------------------------------------------------------------------------------------
# R -> R
# ---------------------------------------------------------------------------------------


def testfn(x):
    """The issue's test function; f'(1.5) = 4.0534..., f''(1.5) = 9.4630..."""
    return np.exp(x) / np.sqrt(np.sin(x) ** 3 + np.cos(x) ** 3)


def testfn_math(x):
    """testfn on Python floats with the math module (the float baseline of the bench)."""
    return math.exp(x) / math.sqrt(math.sin(x) ** 3 + math.cos(x) ** 3)


TESTFN_D1 = 4.053427893898620658     # f'(1.5), from tests/golden (sympy, 50 digits)
TESTFN_D2 = 9.463073681596603353     # f''(1.5)


def article_quadratic(x):
    """Article 002: f(x) = 3x^2 - 4x + 5, f'(3) = 14."""
    return 3 * x ** 2 - 4 * x + 5


SCALAR = {
    "testfn": (testfn, lambda rng: rng.uniform(0.2, 1.5)),
    "article_quadratic": (article_quadratic, lambda rng: rng.uniform(-3, 3)),
    "sigmoid_poly": (lambda x: 1 / (1 + np.exp(-x)) * x ** 3 - x, lambda rng: rng.uniform(-4, 4)),
    "nested": (lambda x: np.sin(np.cos(np.tanh(x) ** 2) + np.log1p(x * x)),
               lambda rng: rng.uniform(-2, 2)),
    "powers": (lambda x: x ** 2.5 + x ** -1.5 + 2.0 ** x + x ** x, lambda rng: rng.uniform(0.3, 3)),
    "branchy": (lambda x: x ** 2 if x > 0.5 else np.sin(x), lambda rng: rng.uniform(-2, 2)),
    "special": (lambda x: np.arctan(x) * np.arcsinh(x) + np.hypot(x, 2.0) + np.cbrt(x),
                lambda rng: rng.uniform(0.1, 3)),
}

# ---------------------------------------------------------------------------------------
# R^n -> R
# ---------------------------------------------------------------------------------------


def rosenbrock(x):
    """Extended Rosenbrock, numpy style."""
    return np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2)


def rosenbrock_grad(x):
    """The gradient of rosenbrock, derived by hand (the benches' reference)."""
    g = np.zeros_like(x)
    t = x[1:] - x[:-1] ** 2
    g[:-1] += -400.0 * x[:-1] * t - 2.0 * (1.0 - x[:-1])
    g[1:] += 200.0 * t
    return g


def rosenbrock_hessian(x):
    """The Hessian of rosenbrock, derived by hand (tridiagonal)."""
    n = x.size
    H = np.zeros((n, n))
    i = np.arange(n - 1)
    H[i, i] += 1200.0 * x[:-1] ** 2 - 400.0 * x[1:] + 2.0
    H[i + 1, i + 1] += 200.0
    H[i, i + 1] = H[i + 1, i] = -400.0 * x[:-1]
    return H


def rosenbrock_loop(x):
    """Extended Rosenbrock, plain-Python loop style."""
    s = 0.0
    for i in range(len(x) - 1):
        s = s + 100.0 * (x[i + 1] - x[i] ** 2) ** 2 + (1 - x[i]) ** 2
    return s


def elementwise_chain(x):
    """The jvp bench's elementwise numpy chain."""
    return np.sum(np.exp(np.sin(x)) * x ** 2 / (1 + x ** 2))


def logsumexp(x):
    m = np.max(x)
    return m + np.log(np.sum(np.exp(x - m)))


def quadratic_form(x):
    n = x.shape[0]
    A = np.eye(n) * 2.0 + np.ones((n, n)) * 0.1
    return 0.5 * x @ A @ x + np.sum(np.cos(x))


def mixed_numpy(x):
    """Reshape, transpose, concatenate, where, norm, mean, prod, cumsum, fancy indexing."""
    y = np.concatenate([x, x[::-1] * 0.5])
    m = y.reshape(2, -1).T
    z = np.where(m > 0.2, m ** 2, np.tanh(m))
    return (np.linalg.norm(z) + np.mean(np.cumsum(x)) + np.prod(1 + 0.1 * x[[0, -1]])
            + np.sum(np.maximum(x, 0.3) * np.stack([x, x]).sum(axis=0)))


def loop_products(x):
    """Loop-style: products, divisions, scalar functions of elements."""
    acc = 1.0
    for i in range(len(x)):
        acc = acc * (1 + x[i] ** 2) / (2 + np.sin(x[i]))
    return np.log(acc)


VECTOR = {
    "rosenbrock": (rosenbrock, lambda rng, n=6: rng.uniform(-1.5, 1.5, n)),
    "rosenbrock_loop": (rosenbrock_loop, lambda rng, n=6: rng.uniform(-1.5, 1.5, n)),
    "elementwise_chain": (elementwise_chain, lambda rng, n=7: rng.uniform(-2, 2, n)),
    "logsumexp": (logsumexp, lambda rng, n=5: rng.normal(size=n)),
    "quadratic_form": (quadratic_form, lambda rng, n=5: rng.normal(size=n)),
    "mixed_numpy": (mixed_numpy, lambda rng, n=6: rng.uniform(0.35, 1.5, n)),
    "loop_products": (loop_products, lambda rng, n=5: rng.uniform(-1, 1, n)),
}

# ---------------------------------------------------------------------------------------
# R^n -> R^m
# ---------------------------------------------------------------------------------------


def matrix_chain(x):
    """Matmul chain with constants: tanh(W2 @ tanh(W1 @ x + b))."""
    n = x.shape[0]
    W1 = np.sin(np.arange(n * 4).reshape(4, n))
    W2 = np.cos(np.arange(12).reshape(3, 4))
    return np.tanh(W2 @ np.tanh(W1 @ x + 0.1))


def loop_vector(x):
    """Loop-style output assembled with np.array([...])."""
    return np.array([x[0] * x[1], np.exp(x[1]) - x[2], x[2] ** 3 / (1 + x[0] ** 2)])


def broadcasting(x):
    """Outer-product broadcasting, axis sums, transpose."""
    M = x[:, None] * x[None, :] + np.arange(x.shape[0])[None, :]
    return np.sum(np.sin(M), axis=0) + M.T[0]


def polar(x):
    return np.stack([np.hypot(x[0], x[1]), np.arctan2(x[1], x[0]), np.logaddexp(x[0], x[1])])


def robertson(y):
    """Robertson's stiff chemical kinetics, the right-hand side of an ODE in scalar style:
    three states indexed one by one, the result assembled with np.array([...])."""
    return np.array([-0.04 * y[0] + 1e4 * y[1] * y[2],
                     0.04 * y[0] - 1e4 * y[1] * y[2] - 3e7 * y[1] ** 2,
                     3e7 * y[1] ** 2])


VECTOR_VALUED = {
    "robertson": (robertson, lambda rng: rng.uniform(0.1, 1, 3) * np.array([1, 1e-4, 1e-2])),
    "matrix_chain": (matrix_chain, lambda rng, n=5: rng.normal(size=n)),
    "loop_vector": (loop_vector, lambda rng: rng.uniform(-1, 1, 3)),
    "broadcasting": (broadcasting, lambda rng, n=4: rng.normal(size=n)),
    "polar": (polar, lambda rng: rng.uniform(0.5, 2, 2)),
}

# ---------------------------------------------------------------------------------------
# likelihoods: linear algebra (slogdet, solve) and scipy.special (gammaln)
# ---------------------------------------------------------------------------------------


def gp_data(n, seed=0):
    """(D2, y) for the Gaussian-process likelihoods: squared distances between n points in
    the square [0, 3]^2 and a smooth signal observed at them with noise."""
    rng = np.random.default_rng(seed)
    X = rng.uniform(0, 3, (n, 2))
    D2 = np.sum((X[:, None, :] - X[None, :, :]) ** 2, axis=-1)
    y = np.sin(2 * X[:, 0]) * np.cos(X[:, 1]) + 0.1 * rng.normal(size=n)
    return D2, y


def gaussian_loglik(theta, D2, y):
    """log N(y | 0, K) without its constant, K = s^2 exp(-D2 / (2 l^2)) + noise I for
    theta = (s, l, noise): a Gaussian process's marginal likelihood as a textbook writes it."""
    K = theta[0] ** 2 * np.exp(-D2 / (2 * theta[1] ** 2)) + theta[2] * np.eye(y.shape[0])
    return -0.5 * (y @ np.linalg.solve(K, y) + np.linalg.slogdet(K)[1])


def gaussian_loglik_pointnoise(theta, D2, y):
    """gaussian_loglik with a noise variance per point: theta = (s, l, noise_1..noise_n),
    K = s^2 exp(-D2 / (2 l^2)) + diag(noise); n + 2 parameters."""
    K = theta[0] ** 2 * np.exp(-D2 / (2 * theta[1] ** 2)) + np.diag(theta[2:])
    return -0.5 * (y @ np.linalg.solve(K, y) + np.linalg.slogdet(K)[1])


def count_data(n, seed=0):
    """(x, k): a covariate and overdispersed counts for the negative-binomial likelihood."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1, 1, n)
    mu = np.exp(1.0 + 0.8 * x)
    k = rng.negative_binomial(3.0, 3.0 / (3.0 + mu)).astype(np.float64)
    return x, k


def negbin_loglik(theta, x, k):
    """Negative-binomial regression log-likelihood, theta = (b0, b1, log r): mean
    exp(b0 + b1 x), dispersion r; counts k."""
    mu = np.exp(theta[0] + theta[1] * x)
    r = np.exp(theta[2])
    return np.sum(gammaln(k + r) - gammaln(r) - gammaln(k + 1.0)
                  + r * np.log(r / (r + mu)) + k * np.log(mu / (r + mu)))


def gamma_loglik(theta, y):
    """Gamma log-likelihood with one shape per observation, theta = log shapes, unit mean
    (rate = shape): sum(a log a + (a - 1) log y - a y - gammaln(a)); n parameters."""
    a = np.exp(theta)
    return np.sum(a * np.log(a) + (a - 1) * np.log(y) - a * y - gammaln(a))


_GP = gp_data(6)
_COUNTS = count_data(20)
_GAMMA_Y = np.random.default_rng(1).gamma(2.0, 0.5, 5)


def gaussian_loglik_small(theta):
    return gaussian_loglik(theta, *_GP)


def gaussian_loglik_pointnoise_small(theta):
    return gaussian_loglik_pointnoise(theta, *_GP)


def negbin_loglik_small(theta):
    return negbin_loglik(theta, *_COUNTS)


def gamma_loglik_small(theta):
    return gamma_loglik(theta, _GAMMA_Y)


# Not in VECTOR: their tangents go through LAPACK (solve, slogdet), whose results differ in
# the last bit between chunk sizes (~4e-16), and test_transforms' chunk test asks bit for bit
# of everything but its BLAS list. bench/arrays.py checks them against the exact gradient.
LINALG_LIKELIHOODS = {
    "gaussian_loglik": (gaussian_loglik_small,
                        lambda rng: np.array([rng.uniform(0.7, 1.5), rng.uniform(0.5, 1.2),
                                              rng.uniform(0.1, 0.4)])),
    "gaussian_loglik_pointnoise": (gaussian_loglik_pointnoise_small,
                                   lambda rng: np.concatenate([[rng.uniform(0.7, 1.5),
                                                                rng.uniform(0.5, 1.2)],
                                                               rng.uniform(0.1, 0.4, 6)])),
}
VECTOR.update({
    "negbin_loglik": (negbin_loglik_small,
                      lambda rng: np.array([rng.uniform(0.5, 1.5), rng.uniform(0.3, 1.2),
                                            rng.uniform(0.5, 1.8)])),
    "gamma_loglik": (gamma_loglik_small, lambda rng: rng.uniform(-0.5, 1.5, 5)),
})

# ---------------------------------------------------------------------------------------
# the reference MLP's loss
# ---------------------------------------------------------------------------------------


def mlp_loss(params, X, y, sizes, a=1.0):
    """dualdiff.mlp.MLP's loss in the article's own spelling, for the bench's peers: the mean of
    1/2 (f(x) - y)^2 over the rows of X for the sigmoid net with layer sizes
    `sizes` = (n_in, hidden..., 1) at the flat parameter vector `params` (MLP.params layout).

    Only slicing, reshape, `@`, `np.exp` and `np.mean`, so torch, jax.numpy and
    autograd.numpy run this very source when `np` is rebound to them. It equals MLP.loss
    (tests/test_mlp.py checks) except on saturated units (|a s| > ~700), where exp(-a s)
    overflows and forward mode gets nan from inf/inf; MLP uses dd.sigmoid for that reason."""
    h, start = X, 0
    for layer, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:]), start=1):
        W = params[start:start + fan_in * fan_out].reshape(fan_in, fan_out)
        start += fan_in * fan_out
        b = params[start:start + fan_out]
        start += fan_out
        s = h @ W + b
        h = s if layer == len(sizes) - 1 else 1 / (1 + np.exp(-a * s))
    return 0.5 * np.mean((h[:, 0] - y) ** 2)
