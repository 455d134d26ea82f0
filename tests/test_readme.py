"""The README's code runs, and the values it shows are the values the code gives.

Every ```python block of README.md runs, in order, in one namespace (as a reader pasting them
into one session would). A top-level expression statement whose line ends in a comment shows
its value there: the comment is the value's repr, with numpy's default printing, up to an
optional note set off by two spaces and a parenthesis (`# 14.0  (exact)`); `...` stands for any
run of characters, as in doctest, and whitespace does not count. For a print(...) the comment
shows what it printed. Other statements just run.
"""
import ast
import contextlib
import io
import re
import tokenize
from pathlib import Path

import numpy as np
import pytest

README = Path(__file__).resolve().parent.parent / "README.md"
FENCE = re.compile(r"^```python\n(.*?)^```", re.S | re.M)
NOTE = re.compile(r"\s{2,}\(.*$")      # "  (a note)" after the value


def blocks(text):
    """(line number in the README, source) of each ```python block."""
    return [(text[:m.start(1)].count("\n") + 1, m.group(1)) for m in FENCE.finditer(text)]


def comments(source):
    """{line: comment text} for comments that end a line of code."""
    found = {}
    for tok in tokenize.generate_tokens(io.StringIO(source).readline):
        if tok.type == tokenize.COMMENT and tok.line[:tok.start[1]].strip():
            found[tok.start[0]] = tok.string[1:].strip()
    return found


def shown_value(comment):
    """The value a comment shows, as a pattern: whitespace-free, `...` matching anything."""
    value = NOTE.sub("", comment)
    parts = [re.escape(p) for p in re.sub(r"\s+", "", value).split("...")]
    return value, re.compile(".*?".join(parts) + r"\Z", re.S)


def checks(source):
    """The statements of a block, each with the comment showing its value (or None)."""
    notes = comments(source)
    tree = ast.parse(source)
    return [(stmt, notes.get(stmt.end_lineno) if isinstance(stmt, ast.Expr) else None)
            for stmt in tree.body]


def run_readme(text):
    """Run every block; return [(README line, shown, actual)] for each shown value."""
    namespace = {"__name__": "__readme__"}
    seen = []
    for start, source in blocks(text):
        for stmt, comment in checks(source):
            line = start + stmt.lineno - 1
            code = compile(ast.Module([stmt], []) if comment is None
                           else ast.Expression(stmt.value), f"README.md:{line}",
                           "exec" if comment is None else "eval")
            with contextlib.redirect_stdout(io.StringIO()) as out:
                result = eval(code, namespace)
            if comment is not None:     # print(...) shows what it printed, anything else its repr
                printed = isinstance(stmt.value, ast.Call) and \
                    getattr(stmt.value.func, "id", None) == "print"
                seen.append((line, comment, out.getvalue().strip() if printed else repr(result)))
    return seen


def test_shown_values_match_what_the_code_gives():
    with np.printoptions(**np.get_printoptions()):      # numpy's defaults, restored after
        np.set_printoptions(legacy=False)
        seen = run_readme(README.read_text(encoding="utf-8"))
    assert len(seen) >= 15, f"only {len(seen)} values shown in the README: parsing broke?"
    wrong = [f"README.md:{line}: shows {shown_value(c)[0]!r}, the code gives {got!r}"
             for line, c, got in seen if not shown_value(c)[1].match(re.sub(r"\s+", "", got))]
    assert not wrong, "\n".join(wrong)


# ---- the checker itself ---------------------------------------------------------------

@pytest.mark.parametrize("comment, actual, ok", [
    ("14.0", "14.0", True),
    ("14.0", "14.00000001", False),
    ("4.05342789389862  (exact: 4.0534278938986207)", "4.05342789389862", True),
    ("4.05342789389862  (exact: 4.0534278938986207)", "4.053427893898621", False),
    ("array([ 3., -2.,  4.5])", "array([ 3. , -2. ,  4.5])", True),
    ("array([-2., -200., ..., -17800.])", "array([ -2., -200., 1002., -17800.])", True),
    ("array([-2., -200., ..., -17800.])", "array([ -2., -200., 1002., -17801.])", False),
    ("(2.29..., array([0.218..., -0.436...]))", "(2.2912878474779, array([ 0.21821789, "
     "-0.43643578]))", True),
    ("-0.", "0.0", False),
])
def test_a_shown_value_matches_only_its_own_repr(comment, actual, ok):
    assert bool(shown_value(comment)[1].match(re.sub(r"\s+", "", actual))) is ok


def test_only_commented_expressions_are_checked():
    source = "x = 2  # a note\nx + 1  # 3\nx * 5\nprint(x, x)  # 2 2\n"
    got = [(type(stmt).__name__, c) for stmt, c in checks(source)]
    assert got == [("Assign", None), ("Expr", "3"), ("Expr", None), ("Expr", "2 2")]
    # README lines: the fence is line 1
    assert run_readme("```python\n" + source + "```\n") == [(3, "3", "3"), (5, "2 2", "2 2")]
