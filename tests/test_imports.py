"""No import cycles anywhere in landjax, counting imports inside functions too (so none can be
dodged by a function-level import), and the models never import the command line or the studies."""

from __future__ import annotations

import ast
from pathlib import Path

PKG = Path(__file__).resolve().parents[1] / "landjax"


def _modules() -> dict[str, Path]:
    out = {}
    for path in PKG.rglob("*.py"):
        rel = path.relative_to(PKG.parent).with_suffix("")
        parts = list(rel.parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


def _resolve(name: str, modules: dict[str, Path]) -> str | None:
    while name and name not in modules:
        name = name.rpartition(".")[0]
    return name or None


def import_graph() -> dict[str, set[str]]:
    """module -> landjax modules it imports (module level and inside functions)."""
    modules = _modules()
    graph: dict[str, set[str]] = {m: set() for m in modules}
    for mod, path in modules.items():
        is_pkg = path.name == "__init__.py"
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                if node.level:  # relative import
                    base = mod if is_pkg else mod.rpartition(".")[0]
                    for _ in range(node.level - 1):
                        base = base.rpartition(".")[0]
                    prefix = f"{base}.{node.module}" if node.module else base
                else:
                    prefix = node.module or ""
                # `from pkg import sub` imports the submodule when there is one
                targets = [f"{prefix}.{a.name}" if f"{prefix}.{a.name}" in modules else prefix for a in node.names]
            for t in targets:
                if not t.startswith("landjax"):
                    continue
                r = _resolve(t, modules)
                if r and r != mod:
                    graph[mod].add(r)
    return graph


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    color: dict[str, int] = {}
    stack: list[str] = []

    def visit(n: str) -> list[str] | None:
        color[n] = 1
        stack.append(n)
        for m in sorted(graph[n]):
            # a package importing its own submodules (re-exports) is not a cycle by itself
            if color.get(m) == 1:
                return stack[stack.index(m) :] + [m]
            if color.get(m) is None:
                found = visit(m)
                if found:
                    return found
        stack.pop()
        color[n] = 2
        return None

    for n in sorted(graph):
        if color.get(n) is None:
            found = visit(n)
            if found:
                return found
    return None


def _without_parent_reexports(graph: dict[str, set[str]]) -> dict[str, set[str]]:
    """Drop edges from a submodule to its own parent packages (``from pkg import x`` inside
    ``pkg.sub``, which Python resolves after ``pkg/__init__`` has started): the cycle check then
    sees real module-to-module dependencies."""
    out = {}
    for mod, deps in graph.items():
        out[mod] = {d for d in deps if not mod.startswith(d + ".")}
    return out


def test_no_import_cycles_including_function_level_imports():
    cycle = _cycle(_without_parent_reexports(import_graph()))
    assert cycle is None, "import cycle: " + " -> ".join(cycle)


def test_models_do_not_import_the_command_line_or_the_studies():
    graph = import_graph()
    bad = {
        m: sorted(d for d in deps if d.startswith(("landjax.cli", "landjax.reproduce")))
        for m, deps in graph.items()
        if m.startswith("landjax.models") or m.startswith("landjax.engine")
    }
    bad = {m: d for m, d in bad.items() if d}
    assert not bad, f"models/engine importing the CLI or the studies: {bad}"


def test_the_engine_knows_no_model():
    graph = import_graph()
    bad = {
        m: sorted(d for d in deps if d.startswith("landjax.models"))
        for m, deps in graph.items()
        if m.startswith("landjax.engine")
    }
    assert not any(bad.values()), bad


def test_the_cycle_detector_finds_a_cycle():
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set()}) is None
