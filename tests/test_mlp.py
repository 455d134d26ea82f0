"""dualdiff.mlp and its command line (dualdiff/_mlp_cli.py): forward-mode gradients of the
reference sigmoid MLP against the article's hand-derived backpropagation and central finite
differences, the battery's spelling of its loss (tests/functions.py), training, persistence,
and the command line (data validation, --plot paths, the report's wording, --help).

Random tests use the `rng` fixture of conftest.py, which prints its random state (replay with
DUALDIFF_TEST_RANDOM_STATE=...). Gradients are compared with a norm-wise relative error,
max|g - g_ref| / max|g_ref|, since single components can be arbitrarily close to zero.
"""
import os
import subprocess
import sys

import numpy as np
import pytest

import dualdiff
import functions as F
from dualdiff._mlp_cli import DEFAULTS, loss_change, main, sine_data
from dualdiff.mlp import MLP

ARCHITECTURES = [(1, (8, 8)), (3, (5,)), (2, (4, 6, 3))]
SLOPES = [0.5, 1.0, 2.5]


def rel_diff(got, want):
    return float(np.max(np.abs(got - want)) / np.max(np.abs(want)))


def random_problem(rng, n_in, hidden, a, batch):
    mlp = MLP(n_in, hidden, a=a, random_state=int(rng.integers(2**32)))
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


def test_hessian_of_the_loss_matches_differences_of_backprop(rng):
    """Second order through dd.sigmoid's slope a on hyper-dual arrays, against an oracle
    that shares no code with it: central differences of the hand-written backprop."""
    mlp, X, y = random_problem(rng, 2, (3, 2), a=1.7, batch=6)
    theta, h = mlp.params, 1e-5
    H = dualdiff.hessian(mlp.loss)(theta, X, y)
    assert np.array_equal(H, H.T)

    def backprop_at(params):
        other = MLP(2, (3, 2), a=1.7)
        other.set_params(params)
        return other.grad_backprop(X, y)
    for _ in range(2):
        v = rng.normal(size=mlp.n_params)
        fd = (backprop_at(theta + h * v) - backprop_at(theta - h * v)) / (2 * h)
        assert rel_diff(H @ v, fd) < 1e-6


@pytest.mark.parametrize("a", SLOPES)
@pytest.mark.parametrize("n_in,hidden", ARCHITECTURES)
def test_the_battery_spelling_is_the_same_loss(rng, n_in, hidden, a):
    """tests/functions.py's mlp_loss, which the bench hands to torch, jax and the other
    peers, is MLP.loss: the same value, and dualdiff's gradient of it is the backprop one."""
    mlp, X, y = random_problem(rng, n_in, hidden, a, batch=16)
    theta = mlp.params
    assert F.mlp_loss(theta, X, y, mlp.sizes, a) == pytest.approx(mlp.loss(theta, X, y),
                                                                  rel=1e-14)
    battery_grad = dualdiff.grad(F.mlp_loss)(theta, X, y, mlp.sizes, a)
    assert rel_diff(battery_grad, mlp.grad_backprop(X, y)) < 1e-10


def test_saturated_units_keep_a_finite_gradient_equal_to_backprop():
    """Hidden pre-activations up to |a s| ~ 2600: exp(-a s) overflows. The rule table's
    sigmoid gives derivative 0 there; the textbook formula (the battery's spelling) gives
    forward mode inf/inf = nan, which is why MLP uses dd.sigmoid."""
    mlp = MLP(1, (4,), random_state=0)
    theta = mlp.params
    theta[:8] *= 2000.0                          # the hidden layer's W and b
    mlp.set_params(theta)
    X, y = np.linspace(-1, 1, 16)[:, None], np.sin(3 * np.linspace(-1, 1, 16))
    forward = mlp.grad_forward(X, y)
    assert np.all(np.isfinite(forward))
    assert rel_diff(forward, mlp.grad_backprop(X, y)) < 1e-10
    with np.errstate(over="ignore", invalid="ignore"):
        textbook = dualdiff.grad(F.mlp_loss)(theta, X, y, mlp.sizes, mlp.a)
    assert np.isnan(textbook).any()


# ---------------------------------------------------------------------------------------
# training
# ---------------------------------------------------------------------------------------

def test_default_training_fits_the_sine_with_either_gradient():
    X, y = sine_data()
    histories = {}
    for grad in ("forward", "backprop"):
        mlp = MLP(1, DEFAULTS["hidden"], a=DEFAULTS["a"], random_state=DEFAULTS["random_state"])
        start = mlp.loss(mlp.params, X, y)
        histories[grad] = np.array(mlp.fit(X, y, DEFAULTS["epochs"], DEFAULTS["lr"],
                                           batch_size=DEFAULTS["batch_size"], grad=grad,
                                           random_state=DEFAULTS["random_state"]))
        assert histories[grad].shape == (DEFAULTS["epochs"],)
        assert histories[grad][-1] < start / 10, grad
    # same shuffles, same steps: the two paths differ only by gradient rounding
    np.testing.assert_allclose(histories["forward"], histories["backprop"], rtol=0, atol=1e-8)


@pytest.mark.parametrize("batch_size", [1, 5, 1000])
def test_fit_steps_downhill_for_any_batch_size(batch_size):
    X, y = sine_data(n=20)
    mlp = MLP(1, (3,), random_state=1)
    start = mlp.loss(mlp.params, X, y)
    history = mlp.fit(X, y, epochs=5, lr=0.2, batch_size=batch_size)
    assert len(history) == 5 and history[-1] < start


def test_one_full_batch_epoch_is_one_gradient_step():
    X, y = sine_data(n=20)
    mlp = MLP(1, (3, 2), random_state=2)
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
    other = MLP(3, (4, 2), random_state=12345)
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


BAD_ARCHITECTURES = [
    # n_in, hidden, a
    (0, (8,), 1.0), (2.5, (8,), 1.0), (2, (8, 0), 1.0), (2, (8.0,), 1.0), (2, 8, 1.0),
    (2, "8,8", 1.0), (2, (8,), float("nan")), (2, (8,), float("inf")), (2, (8,), "1"),
]


@pytest.mark.parametrize("n_in,hidden,a", BAD_ARCHITECTURES)
def test_constructor_rejects_bad_sizes_and_slopes(n_in, hidden, a):
    with pytest.raises(ValueError, match="positive ints|finite number"):
        MLP(n_in, hidden, a=a)


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
    assert f"({before / after:.3g}x lower)" in out
    absolute, relative = out.split("grad_backprop| at the final parameters (200 rows): ")[1] \
        .split(", relative to max |grad_backprop|: ")
    assert float(absolute) < 1e-12 and float(relative) < 1e-10


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
    # dualdiff on PyPI is an unrelated project: name the package that is actually needed
    assert "--plot needs matplotlib: pip install matplotlib" in err and "dualdiff[" not in err
    assert err.count("\n") == 1 and not path.exists()


def test_plot_without_an_extension_writes_a_png_and_names_it(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    assert main(["--epochs", "2", "--plot", str(tmp_path / "out")]) == 0
    written = tmp_path / "out.png"
    assert written.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert not (tmp_path / "out").exists()
    assert f"plot: wrote {written}\n" in capsys.readouterr().out


def test_plot_as_svg(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    path = tmp_path / "fit.svg"
    assert main(["--epochs", "2", "--plot", str(path)]) == 0
    assert b"<svg" in path.read_bytes()[:1000]


BAD_PLOT_PATHS = [
    # name, --plot relative to tmp_path, what the message must mention
    ("missing directory", "no/such/dir/fit.png", "does not exist"),
    ("a directory", ".", "is a directory"),
    ("unknown format", "fit.txt", "cannot write '.txt' files; name it .png, .pdf or .svg"),
]


@pytest.mark.parametrize("name,plot,message", BAD_PLOT_PATHS, ids=[c[0] for c in BAD_PLOT_PATHS])
def test_bad_plot_path_fails_before_training(tmp_path, capsys, name, plot, message):
    # no stdout at all: the data/network/training lines come only once the checks passed
    assert main(["--plot", str(tmp_path / plot)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.count("\n") == 1 and message in captured.err
    assert not any(tmp_path.iterdir())            # nothing written


LOSS_CHANGES = [
    # before, after, wording
    (1.0, 0.25, "4x lower"),
    (0.4486, 0.0116, "38.7x lower"),
    (1.0, 0.0, "down to 0"),
    (0.5, 1.0, "2x higher, not lower: try a smaller --lr"),
    (0.0, 1.0, "up from 0: try a smaller --lr"),
    (0.5, 0.5, "unchanged"),
    (0.5, float("inf"), "diverged; try a smaller --lr"),
    (0.5, float("nan"), "diverged; try a smaller --lr"),
]


@pytest.mark.parametrize("before,after,wording", LOSS_CHANGES)
def test_loss_change_wording_is_true_whichever_way_the_loss_went(before, after, wording):
    assert loss_change(before, after) == wording


def test_cli_reports_a_rising_loss_as_higher(capsys):
    assert main(["--epochs", "1", "--lr", "2"]) == 0
    out = capsys.readouterr().out
    assert "x higher, not lower: try a smaller --lr)" in out and "x lower" not in out


def test_cli_diverging_run_exits_1_and_skips_the_gradient_check(capsys):
    assert main(["--epochs", "20", "--lr", "20"]) == 1
    out = capsys.readouterr().out
    assert "-> nan (diverged; try a smaller --lr)" in out
    assert "grad_backprop" not in out


def test_help_shows_every_default(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["--help"])
    assert exit_.value.code == 0
    text = " ".join(capsys.readouterr().out.split())     # undo argparse's line wrapping
    for option, default in [("--epochs", DEFAULTS["epochs"]), ("--lr", DEFAULTS["lr"]),
                            ("--batch-size", DEFAULTS["batch_size"]), ("--a", DEFAULTS["a"]),
                            ("--random-state", DEFAULTS["random_state"]), ("--grad", "forward"),
                            ("--hidden", ",".join(map(str, DEFAULTS["hidden"])))]:
        help_text = text.split(f" {option} ", 1)[1]
        assert f"(default: {default})" in help_text.split(" --", 1)[0], option
