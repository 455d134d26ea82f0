"""Random matrices for the numpy.linalg tests, each well away from the points where the
function under test has no derivative (repeated values, rank loss, ties), so that central
differences resolve the derivatives."""
import numpy as np


def orth(rng, batch, m, p):
    return np.linalg.qr(rng.standard_normal(batch + (m, p)))[0]


def general(rng, shape):
    """Square, well conditioned: 2 I plus a random part of norm about 1 (rarely more)."""
    n = shape[-1]
    return 0.5 * rng.standard_normal(shape) / np.sqrt(n) + 2 * np.eye(n)


def real_spectrum(rng, shape):
    """Not symmetric, with real eigenvalues 1, 2, ..., n plus up to 0.5 (gaps >= 0.5):
    Q diag(lam) Q^-1 for a well-conditioned Q (eig and eigvals' inputs)."""
    n = shape[-1]
    q = general(rng, shape)
    lam = 1.0 + np.arange(n) + rng.uniform(0, 0.5, shape[:-2] + (n,))
    return (q * lam[..., None, :]) @ np.linalg.inv(q)


def qr_input(rng, shape):
    """Full rank with a well-conditioned leading square block (what a wide QR factors)."""
    *batch, m, n = shape
    if n <= m:
        return svd_matrix(rng, shape)
    return np.concatenate([general(rng, tuple(batch) + (m, m)),
                           rng.standard_normal(tuple(batch) + (m, n - m))], axis=-1)


def spd(rng, shape, garbage="upper"):
    """Symmetric positive definite, eigenvalue gaps >= 0.5; the triangle numpy does not read
    holds noise, so the rules must read the right one."""
    n = shape[-1]
    q = orth(rng, shape[:-2], n, n)
    lam = 1.0 + np.arange(n) + rng.uniform(0, 0.5, shape[:-2] + (n,))
    s = (q * lam[..., None, :]) @ np.swapaxes(q, -1, -2)
    noise = rng.standard_normal(shape)
    return s + (np.triu(noise, 1) if garbage == "upper" else np.tril(noise, -1))


def svd_matrix(rng, shape, values=None):
    """U diag(s) V^T with singular values at least 0.5 apart (or the given values)."""
    *batch, m, n = shape
    p = min(m, n)
    s = (values if values is not None else
         0.5 + np.arange(p)[::-1] + rng.uniform(0, 0.4, tuple(batch) + (p,)))
    u, v = orth(rng, tuple(batch), m, p), orth(rng, tuple(batch), n, p)
    return (u * np.expand_dims(s, -2)) @ np.swapaxes(v, -1, -2)


def vec(rng, shape):
    return rng.standard_normal(shape)


def away(rng, shape):
    """Entries of either sign, 0.3 <= |x| <= 1.5, all magnitudes >= 1.2/size - 0.01 apart: p-norms
    with p < 1 have derivatives growing like |x|^(p-k), and max/min need no near-tie, for
    the differences to resolve them."""
    size = int(np.prod(shape))
    mag = 0.3 + 1.2 * rng.permutation(size) / size + rng.uniform(0, 0.01, size)
    return (rng.choice([-1.0, 1.0], size) * mag).reshape(shape)


def separated(rng, shape):
    """Matrices whose absolute row sums are >= 0.7 n - 0.1 apart and column sums >= 0.3 m - 0.1
    apart (the 1/inf norms are far from a tie), in a random order, with random signs."""
    *batch, m, n = shape
    rows = np.argsort(rng.random(tuple(batch) + (m, 1)), axis=-2)    # a permutation of 0..m-1
    cols = np.argsort(rng.random(tuple(batch) + (1, n)), axis=-1)
    mag = 1 + 0.7 * rows + 0.3 * cols + rng.uniform(0, 0.05, shape)
    return rng.choice([-1.0, 1.0], shape) * mag


def cond_input(rng, shape):
    """A shuffled diagonal of +-1..+-n plus off-diagonal entries of size 0.1..0.2, redrawn until
    the absolute row and column sums of A and of A^-1 are >= 0.02 apart and their entries >=
    2e-3 in size: the 1/inf norms of both are off a tie and off abs's kink at 0."""
    *batch, n, _ = shape
    while True:
        d = (1.0 + np.argsort(rng.random(tuple(batch) + (n,)), -1)) * \
            rng.choice([-1.0, 1.0], tuple(batch) + (n,))
        a = d[..., None] * np.eye(n) + (1 - np.eye(n)) * 0.2 * rng.choice([-1.0, 1.0], shape) \
            * rng.uniform(0.5, 1.0, shape)
        both = (a, np.linalg.inv(a))
        sums = [np.abs(x).sum(axis=ax) for x in both for ax in (-1, -2)]
        if (min(np.diff(np.sort(t, -1), axis=-1).min() for t in sums) >= 0.02
                and min(np.abs(x).min() for x in both) >= 2e-3):
            return a


def batch_last(gen, shape):
    """gen's matrices (b, m, n) laid out as (n, b, m): a norm over axis=(2, 0) sees them."""
    return lambda rng: [np.transpose(gen(rng, shape), (2, 0, 1))]
