"""dualdiff.mlp: forward-mode gradients of the reference sigmoid MLP against the seed's
hand-derived backpropagation and central finite differences, training, persistence, and the
command line (data validation, --plot).

Random tests use the `rng` fixture of conftest.py, which prints its seed (replay with
DUALDIFF_TEST_SEED=...). Gradients are compared with a norm-wise relative error,
max|g - g_ref| / max|g_ref|, since single components can be arbitrarily close to zero.
"""
import os
import subprocess
import sys

import numpy as np
import pytest

import dualdiff
from dualdiff.mlp import DEFAULTS, MLP, main, sine_data

ARCHITECTURES = [(1, (8, 8)), (3, (5,)), (2, (4, 6, 3))]
SLOPES = [0.5, 1.0, 2.5]


def rel_diff(got, want):
    return float(np.max(np.abs(got - want)) / np.max(np.abs(want)))


def random_problem(rng, n_in, hidden, a, batch):
    mlp = MLP(n_in, hidden, a=a, seed=int(rng.integers(2**32)))
    # move off the initialisation, so no structure of it can hide a wrong term
    mlp.set_params(mlp.params + 0.3 * rng.normal(size=mlp.n_params))
    return mlp, rng.normal(size=(batch, n_in)), rng.normal(size=batch)


# ---------------------------------------------------------------------------------------
# gradients
# ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("batch", [1, 32])
@pytest.mark.parametrize("a", SLOPES)
@pytest.mark.parametrize("n_in,hidden", ARCHITECTURES)
def test_forward_mode_gradient_equals_backprop(rng, n_in, hidden, a, batch):
    mlp, X, y = random_problem(rng, n_in, hidden, a, batch)
    assert rel_diff(mlp.grad_forward(X, y), mlp.grad_backprop(X, y)) < 1e-10


@pytest.mark.parametrize("a", SLOPES)
@pytest.mark.parametrize("n_in,hidden", ARCHITECTURES)
def test_both_gradients_match_central_differences(rng, n_in, hidden, a):
    mlp, X, y = random_problem(rng, n_in, hidden, a, batch=16)
    theta, h = mlp.params, 1e-6
    forward, backprop = mlp.grad_forward(X, y), mlp.grad_backprop(X, y)
    for _ in range(3):
        v = rng.normal(size=mlp.n_params)
        v /= np.linalg.norm(v)
        fd = (mlp.loss(theta + h * v, X, y) - mlp.loss(theta - h * v, X, y)) / (2 * h)
        # relative to |grad| |v|: a directional derivative itself may be near zero
        scale = np.linalg.norm(backprop)
        assert abs(forward @ v - fd) < 1e-6 * scale
        assert abs(backprop @ v - fd) < 1e-6 * scale


@pytest.mark.parametrize("n_in,hidden", ARCHITECTURES + [(1, (16, 16))])
def test_gradient_does_not_depend_on_chunk(rng, n_in, hidden):
    mlp, X, y = random_problem(rng, n_in, hidden, a=1.3, batch=8)
    default = mlp.grad_forward(X, y)
    for chunk in (1, 7, mlp.n_params + 5):
        # the same derivative; BLAS may round a differently shaped block differently
        assert rel_diff(mlp.grad_forward(X, y, chunk=chunk), default) < 1e-12


def test_gradients_are_taken_at_the_current_parameters_and_leave_them_alone(rng):
    mlp, X, y = random_problem(rng, 2, (4, 4), a=1.0, batch=8)
    theta = mlp.params
    mlp.grad_forward(X, y)
    mlp.grad_backprop(X, y)
    np.testing.assert_array_equal(mlp.params, theta)
    np.testing.assert_array_equal(mlp.grad_forward(X, y), dualdiff.grad(mlp.loss)(theta, X, y))


# ---------------------------------------------------------------------------------------
# training
# ---------------------------------------------------------------------------------------

def test_default_training_fits_the_sine_with_either_gradient():
    X, y = sine_data()
    histories = {}
    for grad in ("forward", "backprop"):
        mlp = MLP(1, DEFAULTS["hidden"], a=DEFAULTS["a"], seed=DEFAULTS["seed"])
        start = mlp.loss(mlp.params, X, y)
        histories[grad] = np.array(mlp.fit(X, y, DEFAULTS["epochs"], DEFAULTS["lr"],
                                           batch_size=DEFAULTS["batch_size"], grad=grad,
                                           seed=DEFAULTS["seed"]))
        assert histories[grad].shape == (DEFAULTS["epochs"],)
        assert histories[grad][-1] < start / 10, grad
    # same shuffles, same steps: the two paths differ only by gradient rounding
    np.testing.assert_allclose(histories["forward"], histories["backprop"], rtol=0, atol=1e-8)


@pytest.mark.parametrize("batch_size", [1, 5, 1000])
def test_fit_steps_downhill_for_any_batch_size(batch_size):
    X, y = sine_data(n=20)
    mlp = MLP(1, (3,), seed=1)
    start = mlp.loss(mlp.params, X, y)
    history = mlp.fit(X, y, epochs=5, lr=0.2, batch_size=batch_size)
    assert len(history) == 5 and history[-1] < start


def test_one_full_batch_epoch_is_one_gradient_step():
    X, y = sine_data(n=20)
    mlp = MLP(1, (3, 2), seed=2)
    expected = mlp.params - 0.1 * mlp.grad_backprop(X, y)
    mlp.fit(X, y, epochs=1, lr=0.1, batch_size=len(y), grad="forward")
    np.testing.assert_allclose(mlp.params, expected, rtol=1e-13, atol=1e-15)


def test_fit_rejects_an_unknown_gradient():
    X, y = sine_data(n=10)
    with pytest.raises(ValueError, match="'forward' or 'backprop'"):
        MLP(1).fit(X, y, epochs=1, lr=0.1, grad="reverse")


def test_progress_line_only_on_a_terminal(capsys, monkeypatch):
    X, y = sine_data(n=10)
    MLP(1, (2,)).fit(X, y, epochs=3, lr=0.1)
    assert capsys.readouterr().err == ""
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    MLP(1, (2,)).fit(X, y, epochs=3, lr=0.1)
    err = capsys.readouterr().err
    assert "\repoch 3/3" in err and err.endswith("\n")


# ---------------------------------------------------------------------------------------
# parameters, shapes, persistence
# ---------------------------------------------------------------------------------------

def test_params_round_trip_and_are_a_copy(rng):
    mlp, X, _ = random_problem(rng, 3, (4, 2), a=1.0, batch=5)
    theta = mlp.params
    assert theta.dtype == np.float64 and theta.shape == (mlp.n_params,) == (3*4+4 + 4*2+2 + 2+1,)
    theta[:] = 0.0                                  # a copy: the network is unchanged
    assert np.any(mlp.params != 0.0)
    other = MLP(3, (4, 2), seed=12345)
    other.set_params(mlp.params)
    np.testing.assert_array_equal(other.params, mlp.params)
    np.testing.assert_array_equal(other.predict(X), mlp.predict(X))


def test_save_load_round_trip(rng, tmp_path):
    mlp, X, _ = random_problem(rng, 2, (5, 3, 4), a=2.5, batch=7)
    path = tmp_path / "net.npz"
    mlp.save(path)
    loaded = MLP.load(path)
    assert (loaded.n_in, loaded.hidden, loaded.a) == (2, (5, 3, 4), 2.5)
    np.testing.assert_array_equal(loaded.params, mlp.params)
    np.testing.assert_array_equal(loaded.predict(X), mlp.predict(X))


def test_predict_shapes_and_one_dimensional_inputs():
    mlp = MLP(1, (3,))
    x = np.linspace(0, 1, 5)
    assert mlp.predict(x[:, None]).shape == (5,)
    np.testing.assert_array_equal(mlp.predict(x), mlp.predict(x[:, None]))


@pytest.mark.parametrize("n_in,X", [(3, np.zeros((4, 2))), (3, np.zeros(3)), (1, np.zeros((4, 2))),
                                    (2, np.zeros((2, 2, 2)))])
def test_predict_with_wrong_width_names_the_expected_width(n_in, X):
    with pytest.raises(ValueError, match=rf"\(N, {n_in}\)"):
        MLP(n_in, (2,)).predict(X)


def test_set_params_with_wrong_length_names_the_expected_length():
    mlp = MLP(2, (3,))
    assert mlp.n_params == 13
    for bad in (np.zeros(12), np.zeros(14), np.zeros((13, 1))):
        with pytest.raises(ValueError, match="13"):
            mlp.set_params(bad)


# ---------------------------------------------------------------------------------------
# command line
# ---------------------------------------------------------------------------------------

def test_cli_default_run(capsys):
    assert main([]) == 0
    out = capsys.readouterr().out
    assert "built-in" in out and "1-8-8-1" in out
    before, after = (float(v) for v in
                     out.split("training loss: ")[1].split(" (")[0].split(" -> "))
    assert after < before / 10
    assert float(out.split("grad_backprop| at the final parameters (200 rows): ")[1]) < 1e-12


def test_cli_trains_on_a_csv_with_header(tmp_path, capsys):
    path = tmp_path / "data.csv"
    rows = ["x1,x2,target"] + [f"{i / 10},{1 - i / 20},{i / 7}" for i in range(12)]
    path.write_text("\n".join(rows) + "\n")
    assert main(["--csv", str(path), "--epochs", "3", "--hidden", "3", "--grad", "backprop"]) == 0
    out = capsys.readouterr().out
    assert "12 rows, 2 input(s)" in out and "2-3-1" in out


BAD_CSV = [
    # name, file contents (None: no file), what the message must mention
    ("missing file", None, "cannot read"),
    ("non-numeric cell", "x,y\n1,2\n3,abc\n4,5\n", "line 3, column 2 ('y'): 'abc'"),
    ("non-numeric cell, no header", "1,2\n3,4\n5 6,7\n", "line 3, column 1: '5 6'"),
    ("non-finite cell", "1,2\n3,nan\n", "line 2, column 2: 'nan'"),
    ("ragged rows", "1,2\n3,4\n5,6,7\n", "line 3 has 3 columns, expected 2"),
    ("one column", "1\n2\n3\n", "need at least 2"),
    ("empty file", "", "no data rows"),
    ("header only", "x,y\n", "no data rows (only a header)"),
]


@pytest.mark.parametrize("name,contents,message", BAD_CSV, ids=[c[0] for c in BAD_CSV])
def test_cli_rejects_bad_csv_with_one_line_and_exit_code_2(tmp_path, capsys, name, contents,
                                                           message):
    path = tmp_path / "bad.csv"
    if contents is not None:
        path.write_text(contents)
    assert main(["--csv", str(path)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.count("\n") == 1 and captured.err.endswith("\n")
    assert message in captured.err


def _run_module(cwd, *args):
    """python *args in a fresh process that imports the same dualdiff as this test run. It
    runs in `cwd`, not here: -m and -c put the current directory first on sys.path, and from
    the repository root that would be the uncompiled source tree, not the installed wheel."""
    env = dict(os.environ, PYTHONPATH=os.path.dirname(os.path.dirname(dualdiff.__file__)))
    return subprocess.run([sys.executable, *args], capture_output=True, text=True, env=env,
                          cwd=cwd, timeout=60)


def test_cli_exit_code_from_a_real_process(tmp_path):
    result = _run_module(tmp_path, "-m", "dualdiff.mlp", "--csv", str(tmp_path / "nope.csv"))
    assert result.returncode == 2
    assert result.stdout == "" and result.stderr.count("\n") == 1
    assert "nope.csv" in result.stderr


def test_importing_the_module_does_not_import_matplotlib(tmp_path):
    result = _run_module(tmp_path, "-c",
                         "import sys, dualdiff.mlp; print('matplotlib' in sys.modules)")
    assert result.returncode == 0 and result.stdout.strip() == "False"


def test_plot_writes_a_png(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    path = tmp_path / "fit.png"
    assert main(["--epochs", "2", "--plot", str(path)]) == 0
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_plot_writes_a_png_for_several_inputs(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    data, path = tmp_path / "data.csv", tmp_path / "scatter.png"
    data.write_text("".join(f"{i},{i % 3},{i * 0.1}\n" for i in range(10)))
    assert main(["--csv", str(data), "--epochs", "2", "--plot", str(path)]) == 0
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_plot_without_matplotlib_says_how_to_get_it(tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)      # import matplotlib fails
    path = tmp_path / "fit.png"
    assert main(["--plot", str(path)]) == 2
    err = capsys.readouterr().err
    assert "--plot needs matplotlib: pip install 'dualdiff[plot]'" in err
    assert err.count("\n") == 1 and not path.exists()
