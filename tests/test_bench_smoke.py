"""Smoke test of the bench scripts: each runs in --quick mode into a temporary directory and
writes a parseable results file in which the issues' rows are present, measured and right
(dualdiff's derivatives against the exact ones the bench writes out). No timing is asserted
(timings are the bench's business, and this machine may be busy); the three quick runs take
well under a minute together."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import dualdiff

BENCH = Path(__file__).resolve().parent.parent / "bench"
SCRIPTS = ["scalar_ops", "forward_vs_reverse", "arrays", "nested"]
WRONG = 1e-8            # bench/_report.py flags a relative error above this

# script -> [(section title prefix, dualdiff rows that must be measured in it)]
ROWS = {
    "scalar_ops": [
        ("Loop-style Rosenbrock grad:", ["dualdiff grad (default chunk)",
                                         "dualdiff grad chunk=1"]),
        ("Loop-style Rosenbrock hessian:", ["dualdiff hessian (default chunk)"]),
        ("Robertson right-hand side", ["dualdiff jacobian (default chunk)",
                                       "dualdiff jacobian chunk=1"]),
        ("Fixed cost of a transform call", ["dualdiff dd.grad",
                                            "dualdiff dd.derivative(np.sin)"]),
    ],
    "arrays": [
        ("Gradient of the Gaussian log-likelihood", ["dualdiff grad (default chunk)"]),
        ("Gradient of the gammaln likelihoods", ["dualdiff grad (default chunk)"]),
    ],
}
# script -> the start of each target line the issues ask the script to report
TARGETS = {
    "scalar_ops": ["loop Rosenbrock dd.grad, n = 10", "loop Rosenbrock dd.hessian, n = 10",
                   "loop Rosenbrock dd.grad faster than num-dual",
                   "Robertson 3×3 dd.jacobian", "dd.grad of x[0]*x[1]",
                   "dd.derivative(np.sin)(1.0)"],
    "nested": ["jacobian(grad(rosen)) within 2x of hessian(rosen), n = 10",
               "derivative(derivative(fike)) within 2x of derivative(fike, order=2)"],
    "arrays": ["Gaussian loglik grad, 3 params, n=50: ratio to f within",
               "Gaussian loglik grad, 52 params, n=50: ratio to f within",
               "Gaussian loglik grad, 3 params, n=50: time below"],
}


@pytest.mark.parametrize("name", SCRIPTS)
def test_bench_script_quick(name, tmp_path):
    script = BENCH / f"{name}.py"
    if not script.is_file():
        pytest.skip(f"{script} not present (bench/ is not shipped in the wheel)")
    env = dict(os.environ)
    # the dualdiff that this test imported: the source tree or an installed wheel
    pkg_parent = str(Path(dualdiff.__file__).resolve().parent.parent)
    env["PYTHONPATH"] = os.pathsep.join(
        p for p in (pkg_parent, env.get("PYTHONPATH")) if p)
    proc = subprocess.run(
        [sys.executable, str(script), "--quick", "--outdir", str(tmp_path)],
        env=env, capture_output=True, text=True, timeout=300)
    output = f"--- stdout ---\n{proc.stdout[-4000:]}\n--- stderr ---\n{proc.stderr[-4000:]}"
    assert proc.returncode == 0, output
    assert "Traceback" not in proc.stdout + proc.stderr, output
    md, js = tmp_path / f"{name}.md", tmp_path / f"{name}.json"
    assert md.is_file() and js.is_file(), output
    data = json.loads(js.read_text())
    assert data["meta"]["mode"] == "quick"
    assert "--quick" in data["meta"]["command"]
    assert data["meta"]["cpu"] and data["meta"]["numpy"]
    assert data["sections"], "no result tables were written"
    for section in data["sections"]:
        assert section["rows"], f"empty table: {section['title']}"
    assert md.read_text().startswith("# ")
    check_rows(name, data)


def check_rows(name, data):
    """Each row an issue asked for is in its section, measured (not an error, not skipped),
    and where the bench checked the derivative, right; each target line is reported."""
    for prefix, methods in ROWS.get(name, []):
        sections = [s for s in data["sections"] if s["title"].startswith(prefix)]
        assert sections, f"{name}: no section '{prefix}...'"
        recs = [r for s in sections for r in s["raw"] if isinstance(r, dict)]
        for method in methods:
            mine = [r for r in recs if r.get("method") == method]
            assert mine, f"{name}: '{prefix}' has no row '{method}'"
            for r in mine:
                assert "t" in r and "error" not in r and "skipped" not in r, (method, r)
        for r in recs:
            if r.get("method", "").startswith("dualdiff") and "rel_err" in r:
                assert isinstance(r["rel_err"], float) and r["rel_err"] <= WRONG, (
                    prefix, r["method"], r["size"], r["rel_err"])
    reported = [t["target"] for t in data["targets"]]
    for start in TARGETS.get(name, []):
        assert any(t.startswith(start) for t in reported), f"{name}: no target '{start}...'"
