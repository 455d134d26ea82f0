"""What ships: the type stubs agree with the running package, every public callable has a
signature, the wheel carries no sources or debug information, the metadata and the README say
the same things, and nothing tells users to install the unrelated PyPI project `dualdiff`.

The stubs are compared here by name, parameters and defaults (fast, no mypy needed); .ci/run
also runs mypy's stubtest (types) and `mypy --strict` on tests/typecheck_examples.py.
"""
import ast
import importlib.metadata
import inspect
import os
import re
import struct
import sys
from pathlib import Path

import numpy as np
import pytest

import dualdiff as dd
from dualdiff import _arrays, _core

PKG = Path(dd.__file__).resolve().parent          # the imported package (checkout or wheel)
ROOT = Path(__file__).resolve().parent.parent     # the checkout or the unpacked sdist
INSTALLED = bool(os.environ.get("DUALDIFF_EXPECT_INSTALLED"))
NUMBER_TYPES = [dd.Dual, dd.HyperDual, dd.DualVec, dd.HyperDualVec]


def stub(name):
    """The parsed .pyi of a module of the package."""
    path = PKG / (name.replace(".", "/") + ".pyi")
    assert path.is_file(), f"{path.name} is missing from {PKG}: the stubs must ship beside the code"
    return ast.parse(path.read_text(encoding="utf-8"))


def stub_names(tree):
    """Names a stub module binds at its top level (defs, classes, assignments, imports)."""
    names = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.AnnAssign):
            names.add(node.target.id)
        elif isinstance(node, ast.Assign):
            names.update(t.id for t in node.targets if isinstance(t, ast.Name))
        elif isinstance(node, ast.ImportFrom):
            names.update(a.asname or a.name for a in node.names)
    return names


def stub_functions(tree):
    """{name: [FunctionDef, ...]} (the overloads of a name together) at the top level or in a
    class body."""
    found = {}
    for node in tree.body:
        if isinstance(node, ast.FunctionDef):
            found.setdefault(node.name, []).append(node)
    return found


def stub_class(tree, name):
    return next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == name)


def stub_parameters(defs):
    """{parameter name: default (a Python value, or `inspect.Parameter.empty`)} over a function's
    overloads, `self` left out; a parameter given a default in any overload has it."""
    params = {}
    for fn in defs:
        a = fn.args
        positional = a.posonlyargs + a.args
        defaults = [None] * (len(positional) - len(a.defaults)) + list(a.defaults)
        pairs = list(zip(positional, defaults)) + list(zip(a.kwonlyargs, a.kw_defaults))
        for arg, default in pairs:
            if arg.arg == "self":
                continue
            value = inspect.Parameter.empty if default is None else ast.literal_eval(default)
            if params.get(arg.arg, inspect.Parameter.empty) is inspect.Parameter.empty:
                params[arg.arg] = value
        for star in (a.vararg, a.kwarg):
            if star is not None:
                params["*" + star.arg] = inspect.Parameter.empty
    return params


def runtime_parameters(obj):
    out = {}
    for p in inspect.signature(obj).parameters.values():
        if p.name == "self":
            continue
        star = p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
        out[("*" if star else "") + p.name] = p.default
    return out


# ---- the namespace ------------------------------------------------------------------------

def test_stub_all_is_the_runtime_all():
    tree = stub("__init__")
    declared = next(ast.literal_eval(n.value) for n in tree.body
                    if isinstance(n, ast.Assign) and getattr(n.targets[0], "id", "") == "__all__")
    assert sorted(declared) == sorted(dd.__all__), (
        f"dualdiff/__init__.pyi's __all__ differs from the package's: add "
        f"{sorted(set(dd.__all__) - set(declared))}, remove {sorted(set(declared) - set(dd.__all__))}")
    assert "abs" not in dd.__all__, "`from dualdiff import *` would shadow the builtin abs"


def test_every_public_name_is_declared():
    public = {n for n in dir(dd) if not n.startswith("_")
              and not inspect.ismodule(getattr(dd, n))} | {"__version__"}
    missing = public - stub_names(stub("__init__"))
    assert not missing, f"declare these in dualdiff/__init__.pyi: {sorted(missing)}"


def test_the_rule_table_is_declared_once_per_row():
    funcs = stub_functions(stub("_core"))
    rows = list(_core.UNARY_INDEX) + list(_core.BINARY_INDEX)
    assert sorted(set(rows) - set(funcs)) == [], "rows of csrc/rules.h missing from _core.pyi"
    for name in _core.UNARY_INDEX:
        assert list(stub_parameters(funcs[name])) == list(runtime_parameters(getattr(dd, name)))


def public_callables():
    """Every public function and class of the namespace, with the stub module declaring it."""
    where = {"transforms": set(stub_functions(stub("transforms"))) | {"jacfwd"},
             "custom": set(stub_functions(stub("custom"))) | {"custom_jvp"},
             "sparse": set(stub_functions(stub("sparse"))),
             "__init__": set(stub_functions(stub("__init__")))}
    out = []
    for name in sorted(set(dd.__all__) | {"abs"}):
        obj = getattr(dd, name)
        if inspect.isclass(obj):
            continue
        module = next((m for m, names in where.items() if name in names), "_core")
        out.append((name, module))
    return out


@pytest.mark.parametrize("name, module", public_callables())
def test_signature_matches_the_stub(name, module):
    obj = getattr(dd, name)
    tree = stub(module)
    defs = stub_functions(tree).get(name)
    if defs is None:                      # an alias (jacfwd = jacobian) or a class
        target = next(n.value.id for n in tree.body if isinstance(n, ast.Assign)
                      and getattr(n.targets[0], "id", "") == name)
        defs = stub_functions(tree)[target]
    got = runtime_parameters(obj)
    want = stub_parameters(defs)
    pending = {p: v for p, v in want.items() if p not in got and p in NOT_YET_AT_RUNTIME}
    want = {p: v for p, v in want.items() if p not in pending}
    assert got == want, f"dd.{name}{inspect.signature(obj)} but dualdiff/{module}.pyi says {want}"


# Parameters the stubs declare ahead of the code that adds them (dualdiff/_executor.py, on its
# branch): checked as soon as the running package has them.
NOT_YET_AT_RUNTIME = {"executor"}


@pytest.mark.parametrize("cls", NUMBER_TYPES + [_arrays.DualArray], ids=lambda c: c.__name__)
def test_number_types_are_declared_whole(cls):
    body = stub_class(stub("_core" if cls is not _arrays.DualArray else "_arrays"), cls.__name__)
    declared = {n.name for n in body.body if isinstance(n, ast.FunctionDef)} | {
        n.target.id for n in body.body if isinstance(n, ast.AnnAssign)}
    public = {n for n in dir(cls) if not n.startswith("_")}
    assert not public - declared, f"{cls.__name__}: declare {sorted(public - declared)} in the stub"
    assert not {n for n in declared if not n.startswith("_")} - public
    # conversions that lose the derivative raise, so the stubs leave them out (a type checker
    # then flags float(x) too)
    assert not declared & {"__float__", "__int__", "__index__", "__complex__"}


# ---- introspection ------------------------------------------------------------------------

@pytest.mark.parametrize("name", sorted(set(dd.__all__) | {"abs"}))
def test_inspect_signature_works(name):
    obj = getattr(dd, name)
    if obj in NUMBER_TYPES:
        init = next(n for n in stub_class(stub("_core"), name).body
                    if isinstance(n, ast.FunctionDef) and n.name == "__init__")
        try:
            got = runtime_parameters(obj)
        except ValueError:
            pytest.xfail("a compiled type has a signature only when its docstring opens with "
                         "Argument Clinic's `Dual(real, eps=0.0)\\n--\\n\\n` (the templates' "
                         "class docstrings; see the report)")
        assert got == stub_parameters([init])
        return
    signature = inspect.signature(obj)
    assert signature.parameters or name == "clear_caches", f"dd.{name} shows no parameters"


def test_transformed_functions_show_the_signature_of_f():
    def loss(weights, data, *, scale=1.0):
        return scale * np.sum((data @ weights) ** 2)
    for make in (dd.grad, dd.value_and_grad, dd.jacobian, dd.hessian, dd.derivative):
        assert str(inspect.signature(make(loss))) == "(weights, data, *, scale=1.0)", make


def test_typed_examples_hold_at_run_time():
    """tests/typecheck_examples.py is what mypy checks; here each pinned type meets the value."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    try:
        import typecheck_examples
    finally:
        sys.path.pop(0)
    typecheck_examples.main()


# ---- what the wheel carries ----------------------------------------------------------------

def test_marker_and_stubs_ship_beside_the_code():
    assert (PKG / "py.typed").is_file()
    for name in ("__init__", "_core", "_arrays", "transforms", "custom"):
        assert (PKG / f"{name}.pyi").is_file(), name


def elf_sections(path):
    """The section names of an ELF shared object (64-bit little-endian, as built here)."""
    data = path.read_bytes()
    if data[:4] != b"\x7fELF" or data[4] != 2 or data[5] != 1:
        pytest.skip(f"{path.name} is not a 64-bit little-endian ELF file")
    shoff, = struct.unpack_from("<Q", data, 0x28)
    shentsize, shnum, shstrndx = struct.unpack_from("<HHH", data, 0x3A)
    headers = [struct.unpack_from("<IIQQQQ", data, shoff + i * shentsize) for i in range(shnum)]
    strtab = headers[shstrndx]
    names = data[strtab[4]:strtab[4] + strtab[5]]
    return {names[h[0]:names.index(b"\0", h[0])].decode() for h in headers}


@pytest.mark.skipif(not INSTALLED, reason="checks an installed wheel (DUALDIFF_EXPECT_INSTALLED)")
def test_installed_wheel_is_lean():
    sources = [p.name for p in PKG.rglob("*") if p.suffix in (".c", ".pyx", ".pxi", ".pxd", ".tp")
               or p.name.endswith(".pyx.tp")]
    assert not sources, f"the wheel ships sources: {sources}"
    modules = sorted(PKG.glob("*.so"))
    assert {m.name.split(".")[0] for m in modules} >= {"_core", "_arrays"}
    if sys.platform.startswith("linux"):
        for module in modules:
            sections = elf_sections(module)
            kept = sorted(s for s in sections if s.startswith(".debug") or s == ".symtab")
            assert not kept, f"{module.name} is not stripped: {kept}"


def test_elf_reader_sees_debug_sections(tmp_path):
    """The check above can fail: an object built with -g has .debug_info."""
    import shutil
    import subprocess
    cc = shutil.which("cc") or shutil.which("gcc")
    if cc is None or not sys.platform.startswith("linux"):
        pytest.skip("no C compiler")
    src = tmp_path / "a.c"
    src.write_text("int f(int x) { return x + 1; }\n")
    subprocess.run([cc, "-g", "-shared", "-fPIC", str(src), "-o", str(tmp_path / "a.so")],
                   check=True)
    assert ".debug_info" in elf_sections(tmp_path / "a.so")
    subprocess.run([cc, "-g0", "-s", "-shared", "-fPIC", str(src), "-o", str(tmp_path / "b.so")],
                   check=True)
    sections = elf_sections(tmp_path / "b.so")
    assert ".text" in sections and not {s for s in sections if s.startswith(".debug")}


# ---- metadata, README, messages ----------------------------------------------------------

def metadata():
    try:
        meta = importlib.metadata.metadata("dualdiff")
    except importlib.metadata.PackageNotFoundError:
        pytest.skip("dualdiff is not installed (an in-place build has no metadata)")
    return meta


def test_metadata_is_complete_and_honest():
    meta = metadata()
    assert meta["License-Expression"] == "MIT"
    license_text = (ROOT / "LICENSE").read_text() if (ROOT / "LICENSE").is_file() else ""
    assert license_text.startswith("MIT License")
    files = importlib.metadata.files("dualdiff") or []
    assert any(f.name == "LICENSE" for f in files), "LICENSE is not in the distribution"
    classifiers = meta.get_all("Classifier")
    minors = sorted(int(c.rsplit(".", 1)[1]) for c in classifiers
                    if re.fullmatch(r"Programming Language :: Python :: 3\.\d+", c))
    assert minors == list(range(minors[0], minors[-1] + 1)), "a gap in the Python classifiers"
    assert meta["Requires-Python"] == f">=3.{minors[0]}"
    assert sys.version_info[:2] <= (3, minors[-1]), "running on a Python the package does not declare"
    ci = ROOT / ".ci" / "run"
    if ci.is_file():                      # the checkout (the sdist carries no CI)
        tested = re.search(r"^PYTHONS=\"([^\"]+)\"", ci.read_text(), re.M).group(1).split()
        assert [tested[0], tested[-1]] == [f"3.{minors[0]}", f"3.{minors[-1]}"], tested
    assert any(c.startswith("Development Status") for c in classifiers)
    assert any(c.startswith("Operating System") for c in classifiers)


def test_readme_lists_every_extra_with_what_it_installs():
    meta = metadata()
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    rows = dict(re.findall(r"^\| `([\w-]+)` \| ([^|]+) \|", readme, re.M))
    for extra in meta.get_all("Provides-Extra"):
        wants = {re.split(r"[\s<>=!~\[;]", r, maxsplit=1)[0].lower().replace("_", "-")
                 for r in meta.get_all("Requires-Dist")
                 if re.search(rf"""extra\s*==\s*["']{re.escape(extra)}["']""", r)}
        assert extra in rows, f"the README's extras table has no row for `{extra}`"
        said = {w.strip().lower().replace("_", "-") for w in rows[extra].split(",")}
        assert said == wants, f"extra {extra}: the README says {sorted(said)}, it installs {sorted(wants)}"


PIP_NAMING_US = re.compile(r"""pip install\s+(?:-\S+\s+)*["']?dualdiff\b""", re.I)


def text_files():
    """The package's own sources and the documents users read."""
    roots = [PKG] + [ROOT / d for d in ("examples", "bench", ".ci") if (ROOT / d).is_dir()]
    files = [p for r in roots for p in r.rglob("*")
             if p.suffix in (".py", ".pyx", ".pxi", ".tp", ".md", ".rst", ".txt", "") and p.is_file()]
    return files + [p for p in (ROOT / "README.md", ROOT / "pyproject.toml") if p.is_file()]


def test_nothing_says_to_install_the_pypi_project_named_dualdiff():
    """`dualdiff` on PyPI is an unrelated project: installs are from this source tree only."""
    offenders = []
    for path in text_files():
        try:
            text = path.read_text(encoding="utf-8")
        except (UnicodeDecodeError, OSError):
            continue
        offenders += [f"{path}: {m.group(0)}" for m in PIP_NAMING_US.finditer(text)]
    assert not offenders, "\n".join(offenders)
    requirements = metadata().get_all("Requires-Dist") or []
    assert not [r for r in requirements if r.lower().startswith("dualdiff")], \
        "an extra requires `dualdiff[...]`, which pip may fetch from PyPI: list the packages"


@pytest.mark.parametrize("line, bad", [
    ("pip install 'dualdiff[plot]'", True), ("pip install dualdiff", True),
    ("pip install -U dualdiff", True), ("pip install '.[plot]'", False),
    ("pip install matplotlib", False), ("pip install -e '.[test]'", False),
])
def test_the_install_check_tells_them_apart(line, bad):
    assert bool(PIP_NAMING_US.search(line)) is bad
