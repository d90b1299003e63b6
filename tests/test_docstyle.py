"""Every docstring in `landjax/` uses one style: markdown, the engine's `**Arguments:**` /
`**Returns:**` form (the API reference is rendered by mkdocstrings, where reST renders literally).

The docstrings are read with `ast` from the source files (no import of JAX): module, class and
function docstrings, and attribute docstrings (a string right after an assignment). Forbidden:
Sphinx roles (`:class:` ...) and fields (`:param x:`, `:returns:`), reST double-backtick literals,
reST literal blocks (a paragraph ending in `::`) and directives, Google-style section headers
(`Args:` on a line of its own) and numpy-style headers (a title underlined with dashes)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

PKG = Path(__file__).resolve().parents[1] / "landjax"

RULES: list[tuple[str, re.Pattern[str]]] = [
    ("Sphinx role", re.compile(r":(?:py:)?(?:class|func|meth|mod|data|attr|obj|exc|const|ref|math|term):`")),
    ("Sphinx field", re.compile(r"^\s*:(?:param|type|returns?|rtype|raises?|var|ivar|cvar)\b[^:\n]*:", re.M)),
    ("reST double-backtick literal", re.compile(r"(?<!`)``(?!`)")),
    ("reST literal block (a line ending in '::')", re.compile(r"::[ \t]*$", re.M)),
    ("reST directive", re.compile(r"^[ \t]*\.\. [\w:-]+::", re.M)),
    (
        "Google-style section header",
        re.compile(
            r"^[ \t]*(?:Args|Arguments|Parameters|Params|Returns?|Raises|Attributes|Yields|Keyword Args"
            r"|Other Parameters|Examples?|Notes?|See Also|Warns|References):[ \t]*$",
            re.M,
        ),
    ),
    (
        "numpy-style section header (title underlined with dashes)",
        re.compile(r"^[ \t]*\w[^\n]*\n[ \t]*-{3,}[ \t]*$", re.M),
    ),
]


def docstrings(source: str) -> list[tuple[int, str]]:
    """`(line, text)` of every module, class, function and attribute docstring in `source`."""
    out = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            for k, stmt in enumerate(node.body):
                if (
                    isinstance(stmt, ast.Expr)
                    and isinstance(stmt.value, ast.Constant)
                    and isinstance(stmt.value.value, str)
                    and (k == 0 or isinstance(node.body[k - 1], (ast.Assign, ast.AnnAssign)))
                ):
                    out.append((stmt.lineno, stmt.value.value))
    return out


def violations(source: str, name: str = "<string>") -> list[str]:
    """One `name:line: kind: excerpt` entry per forbidden construct in the docstrings of `source`."""
    out = []
    for line, text in docstrings(source):
        for kind, rx in RULES:
            for m in rx.finditer(text):
                excerpt = text[max(0, m.start() - 30) : m.end() + 30].replace("\n", "\\n")
                out.append(f"{name}:{line + text.count(chr(10), 0, m.start())}: {kind}: ...{excerpt}...")
    return out


GOOD = '''"""A module in the target style: `solve` returns a `Solution` (eq. (14)).

```python
r = solve(fn, 0.0)
```
"""


def f(x, *, tol=1e-10):
    """Root of `x**2 - 2` near `x`.

    **Arguments:**

    - `x`: the initial guess.
    - `tol`: stop when the step is below this.

    **Returns:** the root (see `landjax.engine.solve`, or
    [Solution][landjax.engine.Solution]).

    **Raises:** `InputError` when `tol <= 0`.
    """


X = 1
"""An attribute docstring, markdown too: `X` = 1."""
'''


@pytest.mark.parametrize(
    "bad",
    [
        ":class:`~landjax.contract.Result`",
        "see :func:`solve`",
        "the ``Params`` object",
        "Example::\n\n    solve(fn, 0.0)\n",
        ".. note:: careful",
        "Args:\n    x: the guess.\n",
        "Returns:\n    the root.\n",
        "Attributes:\n    x: the guess.\n",
        "Parameters\n----------\nx : float\n",
        ":param x: the guess\n:returns: the root",
    ],
)
def test_checker_rejects_each_other_style(bad):
    for where in (f'"""{bad}"""\n', f'def f():\n    """Doc.\n\n    {bad}\n    """\n'):
        assert violations(where), f"not caught: {where!r}"


def test_checker_accepts_the_target_style():
    assert violations(GOOD) == []


def test_every_landjax_docstring_is_markdown():
    files = sorted(PKG.rglob("*.py"))
    assert len(files) > 50
    found = []
    for path in files:
        found += violations(path.read_text(encoding="utf-8"), str(path.relative_to(PKG.parent)))
    assert not found, f"{len(found)} docstring constructs not in the markdown style:\n" + "\n".join(found)
