"""The scripts in examples/ run, and the numbers they return are the articles' numbers.

Each example's main(outdir) returns a dict of its key numbers; it is run once in-process
(cached for the checks below) and once more as a script in a subprocess, to prove the
`__main__` path works from wherever dualdiff is imported (source tree or installed wheel).
"""
import contextlib
import importlib.util
import io
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import dualdiff

EXAMPLES = Path(__file__).parent.parent / "examples"
NAMES = ["partial_vs_total", "finite_differences", "linear_regression", "max_relu",
         "backprop_chain", "scipy_optimize", "mlp_sine", "brusselator", "bratu_newton"]
PLOTS = {"finite_differences": "finite_differences.png",
         "linear_regression": "linear_regression.png", "mlp_sine": "mlp_sine.png"}
REQUIRES = {"scipy_optimize": "scipy", "mlp_sine": "dualdiff.mlp",   # optional dependencies
            "brusselator": "scipy", "bratu_newton": "scipy"}
# a line each script prints when its __main__ path ran to the end
PRINTS = {"partial_vs_total": "total / wrong = 2", "finite_differences": "dualdiff's error: 0.0",
          "linear_regression": "normal equation", "max_relu": "built-in max picks",
          "backprop_chain": "dL/dc", "scipy_optimize": "trust-exact", "mlp_sine": "x lower",
          "brusselator": "solutions at t = 1.5 agree", "bratu_newton": "Newton + spsolve"}


def has(module):
    try:
        return importlib.util.find_spec(module) is not None
    except ImportError:
        return False


def load(name):
    spec = importlib.util.spec_from_file_location(f"example_{name}", EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """run(name) -> (returned dict, stdout, outdir); each example runs once per module."""
    cache = {}

    def run_one(name):
        if name in REQUIRES:
            pytest.importorskip(REQUIRES[name])
        if name not in cache:
            outdir = tmp_path_factory.mktemp(name)
            out = io.StringIO()
            with contextlib.redirect_stdout(out):
                result = load(name).main(outdir=outdir)
            cache[name] = result, out.getvalue(), outdir
        return cache[name]
    return run_one


# ---------------------------------------------------------------------------------------
# the articles' numbers
# ---------------------------------------------------------------------------------------

def check_partial_vs_total(r):
    t, x, y = r["t"], r["x"], r["y"]
    assert r["partial_x"] == pytest.approx(4 * math.pi / 3 * t * y, rel=1e-15)
    assert r["partial_t"] == pytest.approx(4 * math.pi / 3 * x * y, rel=1e-15)
    assert r["total"] == pytest.approx(8 * math.pi / 3 * x * y, rel=1e-15)
    assert r["total_from_partials"] == pytest.approx(r["total"], rel=1e-15)
    assert r["total"] == pytest.approx(2 * r["naive"], rel=1e-15)


def check_finite_differences(r):
    assert r["exact"] == 14.0 and type(r["exact"]) is float
    h = list(r["h"])
    assert abs(r["central"][h.index(1e-5)] - 14.0) < 1e-6
    assert r["forward"][h.index(1e-7)] == pytest.approx(14.000000305713911, rel=1e-15)  # article 002
    assert r["forward"][0] == pytest.approx(14.3, rel=1e-12)        # truncation 3h at h = 0.1
    assert abs(r["forward"][-1] - 14.0) > 1.0                       # round-off at h = 1e-15


def check_linear_regression(r):
    assert r["grad_rel_err"] <= 1e-12
    np.testing.assert_allclose(r["grad_dd"], r["grad_article"], rtol=1e-12, atol=0)
    np.testing.assert_allclose(r["theta_gd"], r["theta_normal"], rtol=0, atol=1e-6)


def check_max_relu(r):
    p = r["partials"]
    assert p["max(x, y)", (2.0, 2.0)] == (0.5, 0.5)
    assert p["max(x, y)", (3.0, 2.0)] == (1.0, 0.0)
    assert p["max(x, y)", (2.0, 3.0)] == (0.0, 1.0)
    assert p["x · y", (3.0, 2.0)] == (2.0, 3.0)
    assert all(p["x + y", xy] == (1.0, 1.0) for xy in [(3.0, 2.0), (2.0, 3.0), (2.0, 2.0)])
    assert r["relu_points"] == [-1.0, 0.0, 2.0]
    assert r["relu_slopes"]["dd.relu(x)"] == [0.0, 0.0, 1.0]
    assert r["relu_slopes"]["np.maximum(x, 0)"] == [0.0, 0.5, 1.0]


def check_backprop_chain(r):
    local, chain, direct = r["local"], r["chain"], r["direct"]
    assert local["dL/dd"] == r["f"] == -2.0 and local["dd/dc"] == 1.0
    assert chain["c"] == local["dL/dd"] * local["dd/dc"] == direct["c"] == -2.0
    for v, want in [("a", -2.0 * r["b"]), ("b", -2.0 * r["a"]), ("f", 4.0)]:
        assert chain[v] == direct[v] == want
    assert r["dd/da"] == r["b"] and r["dd/dc"] == 1.0
    assert r["extra_dd/da"] == r["b"] + r["c"] ** 2


def check_scipy_optimize(r):
    runs = r["runs"]
    newton = runs["trust-exact (dd.grad + dd.hessian)"]
    assert r["grad_err"] < 1e-14 and r["hess_err"] < 1e-14
    assert newton["success"] and newton["x_err"] < 1e-4
    assert newton["nit"] < runs["BFGS (finite differences)"]["nit"]
    assert newton["nit"] < runs["BFGS (dd.grad)"]["nit"]
    assert runs["BFGS (dd.grad)"]["nfev"] < runs["BFGS (finite differences)"]["nfev"]


def check_mlp_sine(r):
    assert r["final_loss"] < r["initial_loss"] / 10
    assert r["grad_diff_init"] < 1e-10 and r["grad_diff_final"] < 1e-10


def check_brusselator(r):
    assert r["jac_err"] <= 1e-14 and r["nnz"] == 6 * r["n"]
    assert r["ncolors"] <= 10
    runs = r["runs"]
    assert all(run["success"] for run in runs.values())
    assert max(r["agreement"].values()) < 1e-5
    assert runs["BDF + dd.sparse_jacobian"]["njev"] <= \
        runs["BDF + finite differences on the pattern"]["njev"]


def check_bratu_newton(r):
    assert r["ncolors"] == 5 and r["jac_err"] <= 1e-14
    assert r["newton_steps"] <= 6 and r["residuals"][-1] <= 1e-9 * r["residuals"][0]
    assert r["residuals"][-1] < 1e-3 * r["residuals"][-2] ** 1.5      # quadratic convergence
    assert r["ls_success"] and r["ls_diff"] < 1e-8 and r["tc_diff"] < 1e-6
    assert r["hess_err"] <= 1e-14
    assert 0.79 < r["u_max"] < 0.80


@pytest.mark.parametrize("name", NAMES)
def test_numbers(run, name):
    result, _, _ = run(name)
    globals()[f"check_{name}"](result)


@pytest.mark.parametrize("name", sorted(PLOTS))
def test_plot(run, name):
    result, stdout, outdir = run(name)
    if has("matplotlib"):
        path = Path(result["plot"])
        assert path == Path(outdir) / PLOTS[name]
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    else:
        assert result["plot"] is None and "pip install matplotlib" in stdout


@pytest.mark.parametrize("name", ["finite_differences", "linear_regression"])
def test_without_matplotlib(name, monkeypatch, tmp_path, capsys):
    for mod in [m for m in sys.modules if m.split(".")[0] == "matplotlib"] + ["matplotlib"]:
        monkeypatch.setitem(sys.modules, mod, None)            # importing it now fails
    result = load(name).main(outdir=tmp_path)
    out = capsys.readouterr().out
    assert result["plot"] is None and list(tmp_path.iterdir()) == []
    assert [line for line in out.splitlines() if "skipped" in line] == [
        "plot skipped: matplotlib is not installed (pip install matplotlib)"]


@pytest.mark.parametrize("name", NAMES)
def test_script(name, tmp_path):
    if name in REQUIRES:
        pytest.importorskip(REQUIRES[name])
    # the directory holding the dualdiff that this test imported: the source tree or
    # site-packages, whichever is under test
    root = str(Path(dualdiff.__file__).resolve().parent.parent)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        [root] + [p for p in [os.environ.get("PYTHONPATH")] if p]))
    proc = subprocess.run([sys.executable, str(EXAMPLES / f"{name}.py")], cwd=tmp_path,
                          env=env, capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    assert PRINTS[name] in proc.stdout
    if name in PLOTS and has("matplotlib"):
        assert (tmp_path / PLOTS[name]).is_file()          # default outdir: the cwd
