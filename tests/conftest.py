"""Shared test fixtures: a seeded random generator that prints its random state, and tolerances."""
import os
import sys

import numpy as np
import pytest

sys.path.insert(0, os.path.dirname(__file__))        # tests/functions.py, tests/golden

# CI (.ci/run) fixes the random state of `rng` and derandomizes hypothesis, so a submission cannot go
# red on a lucky draw; local runs keep exploring new random states and examples.
try:
    from hypothesis import settings as _hsettings
    _hsettings.register_profile("ci", derandomize=True, deadline=None)
    if os.environ.get("DUALDIFF_CI"):
        _hsettings.load_profile("ci")
except ImportError:                                    # hypothesis is a test extra
    pass


def pytest_report_header(config):
    import dualdiff
    where = os.path.dirname(dualdiff.__file__)
    checkout = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "dualdiff")
    if os.environ.get("DUALDIFF_EXPECT_INSTALLED") and os.path.samefile(where, checkout):
        raise pytest.UsageError("CI must test the installed wheel, but dualdiff was imported "
                                f"from the source tree {where}")
    return f"dualdiff imported from {where}"


@pytest.fixture
def rng(request):
    """A numpy Generator whose random state is printed (shown by pytest on failure) and can be fixed
    with DUALDIFF_TEST_RANDOM_STATE to replay a failure."""
    state = int(os.environ.get("DUALDIFF_TEST_RANDOM_STATE", np.random.SeedSequence().entropy % 2**32))
    print(f"random state for {request.node.name}: {state} (replay: DUALDIFF_TEST_RANDOM_STATE={state})")
    return np.random.default_rng(state)


def rel_err(got, want):
    """Largest relative error, with exact zeros compared absolutely."""
    got, want = np.asarray(got, dtype=float), np.asarray(want, dtype=float)
    scale = np.maximum(np.abs(want), 1e-300)
    err = np.abs(got - want)
    return float(np.max(np.where(want == 0, err, err / scale), initial=0.0))


# numpy functions newer than the oldest numpy the package declares (pyproject: numpy>=2.0)
NUMPY_LATER = ("unstack", "cumulative_sum", "cumulative_prod", "matvec", "vecmat")


def on_this_numpy(f):
    """Whether the test case f (a function or lambda of numpy code) runs on the installed
    numpy: none of the newer functions it names is missing. Tables of cases filter with it."""
    names = set(f.__code__.co_names)
    return not any(n in names and not hasattr(np, n) for n in NUMPY_LATER)

