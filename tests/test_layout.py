"""The package's layout: one subpackage per pipeline stage, imports pointing one way only.

data <- training <- solving <- evaluation <- sweeps, with a small shared core (config, files,
models, manifest) that imports no stage, and the `arc24` command on top. Solving never imports
the trainer (a solve run's processes have no use for it), and nothing but the command imports
the sweeps.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "arc24"
CORE = {"config", "files", "models", "manifest", "__init__"}
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
