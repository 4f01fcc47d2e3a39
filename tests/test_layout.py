"""The package's layout: one subpackage per pipeline stage, imports pointing one way only.

data <- training <- solving <- evaluation <- sweeps, with a small shared core (config, files,
models, manifest, kaggle_metadata) that imports no stage, and the `arc24` command on top. Solving
never imports the trainer (a solve run's processes have no use for it), and nothing but the
command imports the sweeps.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "arc24"
CORE = {"config", "files", "models", "manifest", "kaggle_metadata", "__init__"}
LAYERS = {"core": 0, "data": 1, "programs": 2, "training": 2, "solving": 3, "evaluation": 4, "sweeps": 5, "cli": 6}


def _layer(module: str) -> str:
    """The layer of a dotted module name inside arc24 ("arc24.solving.solve" -> "solving")."""
    parts = module.split(".")
    if len(parts) == 1:  # the package itself
        return "core"
    top = parts[1]
    if top in CORE:
        return "core"
    assert top in LAYERS, f"arc24.{top} is in no layer: add it to a stage's subpackage or to CORE in {__file__}"
    return top


def _imports() -> list[tuple[str, str, int]]:
    """(importing module, imported arc24 module, line) for every import in the package, lazy ones included."""
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        module = ".".join(("arc24",) + path.relative_to(PACKAGE).with_suffix("").parts)
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.ImportFrom):
                assert node.level == 0, f"{path}:{node.lineno}: use absolute imports (arc24.stage.module)"
                if node.module and node.module.split(".")[0] == "arc24":
                    names = [f"{node.module}.{a.name}" for a in node.names]
                    # `from arc24.training import checkpoints` imports a module; `from x import name` a name
                    targets = [n for n in names if (PACKAGE / Path(*n.split(".")[1:])).with_suffix(".py").exists()]
                    found += [(module, t, node.lineno) for t in targets or [node.module]]
            elif isinstance(node, ast.Import):
                found += [(module, a.name, node.lineno) for a in node.names if a.name.split(".")[0] == "arc24"]
    return found


def test_every_module_is_in_a_layer():
    for path in PACKAGE.rglob("*.py"):
        _layer(".".join(("arc24",) + path.relative_to(PACKAGE).with_suffix("").parts))


def test_imports_point_down_the_pipeline_only():
    wrong = [f"{src} (line {line}) imports {dst}" for src, dst, line in _imports()
             if LAYERS[_layer(dst)] > LAYERS[_layer(src)]]
    assert not wrong, "imports against the direction data <- training <- solving <- evaluation <- sweeps:\n" + \
        "\n".join(wrong)


def test_solving_never_imports_the_trainer_and_only_the_command_imports_sweeps():
    imports = _imports()
    assert not [(s, d) for s, d, _ in imports if _layer(s) == "solving" and d.startswith("arc24.training.trainer")]
    assert not [(s, d) for s, d, _ in imports if d.startswith("arc24.sweeps") and _layer(s) not in ("sweeps", "cli")]


def test_the_direction_check_catches_a_wrong_import(tmp_path, monkeypatch):
    # The checks above must be able to fail: a data module importing solving is reported.
    fake = tmp_path / "arc24"
    (fake / "data").mkdir(parents=True)
    (fake / "data" / "bad.py").write_text("from arc24.solving.voting import vote\n")
    (fake / "solving").mkdir()
    (fake / "solving" / "voting.py").write_text("")
    monkeypatch.setattr(__import__(__name__), "PACKAGE", fake)
    wrong = [(s, d) for s, d, _ in _imports() if LAYERS[_layer(d)] > LAYERS[_layer(s)]]
    assert wrong == [("arc24.data.bad", "arc24.solving.voting")]


def _cycles(edges: set[tuple[str, str]]) -> list[list[str]]:
    """Every import circle among the modules, each once (depth-first search for back edges)."""
    graph: dict[str, set[str]] = {}
    for src, dst in edges:
        graph.setdefault(src, set()).add(dst)
    found, state, path = [], {}, []

    def visit(node):
        state[node] = "open"
        path.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == "open":
                found.append(path[path.index(nxt):] + [nxt])
            elif nxt not in state:
                visit(nxt)
        path.pop()
        state[node] = "done"

    for node in sorted(graph):
        if node not in state:
            visit(node)
    return found


def test_no_module_imports_itself_round_a_circle():
    # Lazy imports count: a circle hidden inside a function still ties the modules together.
    edges = {(src, dst) for src, dst, _ in _imports() if src != dst}
    assert not _cycles(edges), "import circles:\n" + "\n".join(" -> ".join(c) for c in _cycles(edges))


def test_the_circle_check_finds_a_circle():
    edges = {("a", "b"), ("b", "c"), ("c", "a"), ("c", "d")}
    assert _cycles(edges) == [["a", "b", "c", "a"]]


def test_inference_core_imports_neither_backend():
    core = "arc24.solving.inference"
    backends = {"arc24.solving.transformers_backend", "arc24.solving.vllm_backend", "arc24.solving.backends"}
    assert not [(dst, line) for src, dst, line in _imports() if src == core and dst in backends]
