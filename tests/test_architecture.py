"""The shape of the house: layers point down only, and the engine names no machine.

Layers: ``spec <- impl <- model_tests <- asyncspec`` (the tool) and
``spec <- diagrams <- asyncspec``. Every import, at module level or inside a
function, is resolved to the folder it reaches, and must not point up; the
tool's own modules import each other without a cycle.

The engine (the format, the compiler, the model, the lockstep engine, the
diagrams and the tool) writes no state, operation or machine name in its own
text: what it knows of a machine it reads from the declarations or from the
one table in ``model_tests/machines.py``.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from asyncspec.spec import EFFECTS, OUTPUTS, load

REPO = Path(__file__).resolve().parents[1]
FOLDERS = {"spec": "spec", "impl": "impl", "model_tests": "model_tests", "diagrams": "diagrams", "asyncspec": "tool"}
#: What each layer may import.
ALLOWED = {
    "spec": {"spec"},
    "impl": {"spec", "impl"},
    "diagrams": {"spec", "diagrams"},
    "model_tests": {"spec", "impl", "model_tests"},
    "tool": {"spec", "impl", "model_tests", "diagrams", "tool"},
}


def _modules() -> list[tuple[str, Path]]:
    return [(FOLDERS[folder], path) for folder in FOLDERS for path in sorted((REPO / folder).glob("*.py"))]


def _reached(layer: str, node: ast.AST) -> list[str]:
    """The layers (and tool modules, as ``tool:name``) an import statement reaches."""
    package = ["asyncspec"] if layer == "tool" else ["asyncspec", next(k for k, v in FOLDERS.items() if v == layer)]
    targets: list[list[str]] = []
    if isinstance(node, ast.Import):
        targets = [a.name.split(".") for a in node.names]
    elif isinstance(node, ast.ImportFrom):
        base = package[: len(package) - node.level + 1] if node.level else []
        module = base + (node.module.split(".") if node.module else [])
        # ``from asyncspec import impl`` names the subpackage it imports.
        targets = [module + [a.name] for a in node.names] if not node.module or module == ["asyncspec"] \
            else [module]
    out = []
    for parts in targets:
        if parts[:1] != ["asyncspec"]:
            continue
        if len(parts) > 1 and parts[1] in FOLDERS and parts[1] != "asyncspec":
            out.append(FOLDERS[parts[1]])
        else:
            out.append("tool:" + (parts[1] if len(parts) > 1 else "__init__"))
    return out


@pytest.mark.parametrize("layer, path", _modules(), ids=lambda x: str(x).rsplit("/", 1)[-1])
def test_no_import_points_up(layer, path):
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            for reached in _reached(layer, node):
                assert reached.split(":")[0] in ALLOWED[layer], \
                    f"{path.relative_to(REPO)}:{node.lineno} imports from {reached}, above {layer}"


def test_the_tool_modules_import_each_other_without_a_cycle():
    graph: dict[str, set[str]] = {}
    for layer, path in _modules():
        if layer != "tool":
            continue
        edges = graph.setdefault(path.stem, set())
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                edges.update(r.split(":")[1] for r in _reached(layer, node) if r.startswith("tool:"))
    # The package's own __init__ re-exports lazily; it is the root every module may name.
    graph = {m: {e for e in edges if e not in ("__init__", m)} for m, edges in graph.items() if m != "__init__"}

    def cycle_from(start: str, here: str, seen: tuple[str, ...]) -> tuple[str, ...] | None:
        for nxt in sorted(graph.get(here, ())):
            if nxt == start:
                return seen + (nxt,)
            if nxt not in seen:
                found = cycle_from(start, nxt, seen + (nxt,))
                if found:
                    return found
        return None
    for module in graph:
        assert cycle_from(module, module, (module,)) is None, " -> ".join(cycle_from(module, module, (module,)))


def test_the_layering_check_catches_an_upward_import():
    node = ast.parse("from ..model import Model").body[0]
    assert _reached("model_tests", node) == ["tool:model"]
    assert _reached("spec", ast.parse("from ..impl import Future").body[0]) == ["impl"]
    assert _reached("model_tests", ast.parse("from asyncspec import impl, cli").body[0]) == ["impl", "tool:cli"]


def test_no_module_imports_another_modules_private_name():
    for layer, path in _modules():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.level and node.module:
                private = [a.name for a in node.names if a.name.startswith("_") and not a.name.startswith("__")]
                assert not private, f"{path.relative_to(REPO)}:{node.lineno} imports {private} from {node.module}"


# -- the engine names no machine --------------------------------------------------

#: The engine's modules: everything but the declarations and their registry (spec/__init__.py), the
#: compiled drop-ins, the one table, the seeded faults (fixtures written against particular machines)
#: and the tests.
ENGINE = sorted(
    (set(REPO.glob("spec/_*.py")) | {REPO / "impl" / "_compile.py"}
     | {p for p in REPO.glob("model_tests/*.py") if not p.name.startswith(("test_", "conftest"))}
     | set(REPO.glob("diagrams/*.py")) | set(REPO.glob("asyncspec/*.py")))
    - {REPO / "model_tests" / "machines.py", REPO / "model_tests" / "faults.py", REPO / "spec" / "_prelude.py",
       REPO / "spec" / "__init__.py"}
)

#: Words that are a machine's and also mean something else where they are written, with why.
COINCIDENCES = {
    ("model_tests/engine.py", "exception"): "a key of the context asyncio passes an exception handler",
    ("model_tests/engine.py", "future"): "a key of the context asyncio passes an exception handler",
    ("asyncspec/_worker.py", "done"): "the worker protocol's last event, documented JSON",
    ("asyncspec/audit.py", "done"): "the worker protocol's last event",
    ("asyncspec/audit.py", "event"): "the key that names an event of the worker protocol",
    ("asyncspec/_worker.py", "event"): "the key that names an event of the worker protocol",
    **{(path, "task"): "the role of an asyncio task the harness makes to await or start an operation"
       for path in ("model_tests/engine.py", "model_tests/actions.py", "model_tests/explore.py",
                    "model_tests/stateful.py")},
}


def _machine_words() -> set[str]:
    words: set[str] = set()
    for m in load().machines.values():
        words |= {s.name for s in m.states} | {op.name for op in m.operations} | {m.name}
    # The format's own keywords are the format's, not a machine's.
    return words - set(EFFECTS) - set(OUTPUTS)


def _quoted(path: Path, words: set[str]) -> list[tuple[int, str]]:
    """String constants that are a machine word, or a row id or ``operation.parameter`` key made of one."""
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            text = node.value
            if text in words or any(part in words for part in re.findall(r"^([\w]+)[.\[]", text)):
                found.append((node.lineno, text))
    return found


@pytest.mark.parametrize("path", ENGINE, ids=lambda p: str(p.relative_to(REPO)))
def test_the_engine_quotes_no_state_operation_or_machine_name(path):
    rel = str(path.relative_to(REPO))
    words = _machine_words()
    found = [(line, text) for line, text in _quoted(path, words) if (rel, text) not in COINCIDENCES]
    assert found == [], f"{rel} names a machine's words: {found}; read them from the declarations " \
                        f"or the table in model_tests/machines.py"


def test_the_word_check_sees_a_quoted_state_and_a_row_id(tmp_path):
    probe = tmp_path / "probe.py"
    probe.write_text("PROBES = ('done', 'x')\nROW = 'PENDING.result'\nKEY = 'add_done_callback.fn'\n")
    assert sorted(t for _, t in _quoted(probe, _machine_words())) == ["PENDING.result", "add_done_callback.fn", "done"]
