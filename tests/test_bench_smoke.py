"""Smoke test of the bench scripts: each runs in --quick mode into a temporary directory and
writes a parseable results file. No timing is asserted (timings are the bench's business,
and this machine may be busy); the three quick runs take well under a minute together."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import dualdiff

BENCH = Path(__file__).resolve().parent.parent / "bench"
SCRIPTS = ["scalar_ops", "forward_vs_reverse", "arrays"]


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
