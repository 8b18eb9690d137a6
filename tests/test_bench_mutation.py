"""The mutation benchmark (benchmarks/bench_mutation.py): its mutants, and one run of both detectors."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("libcst")
pytest.importorskip("mutmut.mutation.mutators", reason="the mutation benchmark needs mutmut 3 (pip install -e '.[bench]')")

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"
sys.path.insert(0, str(BENCHMARKS))

import _mutants  # noqa: E402
import bench_mutation  # noqa: E402


@pytest.fixture(scope="module")
def ensure_future_mutants() -> _mutants.Mutants:
    return _mutants.generate(_mutants.OBJECTS["ensure_future"])


def _find(mutants: _mutants.Mutants, operator: str, before: str, after: str) -> str:
    found = [m.id for m in mutants.mutants if m.operator == operator and m.before == before and m.after == after]
    if not found:
        pytest.skip(f"this Python's ensure_future has no mutant `{before}` -> `{after}`")
    return found[0]


def test_ids_and_sample_are_stable(ensure_future_mutants):
    again = _mutants.generate(_mutants.OBJECTS["ensure_future"])
    assert [(m.id, m.source) for m in again.mutants] == [(m.id, m.source) for m in ensure_future_mutants.mutants]
    ids = [m.id for m in ensure_future_mutants.mutants]
    assert len(set(ids)) == len(ids)
    first = bench_mutation.sample(ensure_future_mutants.mutants, 10, seed=3)
    assert [m.id for m in first] == [m.id for m in bench_mutation.sample(again.mutants, 10, seed=3)]
    assert [m.id for m in first] != [m.id for m in bench_mutation.sample(again.mutants, 10, seed=4)]


def test_every_operator_contributes(ensure_future_mutants):
    operators = {m.operator for m in ensure_future_mutants.mutants}
    assert {"statement_deletion", "return_none", "not_insertion", "argument_drop"} <= operators
    assert {"swap_op", "keywords", "string", "arg_removal"} <= operators  # mutmut's


def test_each_mutant_imports_and_differs_from_the_original_in_one_place(ensure_future_mutants, tmp_path):
    original = ensure_future_mutants.original
    assert "from ." not in original
    for m in ensure_future_mutants.mutants:
        assert _mutants.changed_stretches(original, m.source) == 1, m.id
        assert m.before != m.after, m.id
        name = _mutants.module_name(m.id)
        path = tmp_path / f"{name}.py"
        path.write_text(m.source)
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        assert callable(module.ensure_future), m.id


def test_the_future_copy_is_the_pure_python_class():
    path, source = _mutants.prepare(_mutants.OBJECTS["future"])
    namespace: dict = {"__name__": "copy_of_futures"}
    exec(compile(source, str(path), "exec"), namespace)
    import asyncio.futures
    assert namespace["Future"].__module__ == "copy_of_futures"
    assert namespace["Future"] is not asyncio.futures._PyFuture
    assert "import _asyncio" not in source


@pytest.mark.slow  # 12 to 26 seconds on 2 cores
@pytest.mark.skipif(importlib.util.find_spec("test.test_asyncio") is None,
                    reason="this Python ships without the test package")
def test_both_detectors_on_two_mutants(ensure_future_mutants, tmp_path):
    # ensure_future hands back None for a future: both detectors must kill it.
    broken = _find(ensure_future_mutants, "return_none", "return coro_or_future", "return None")
    # Equivalent on 3.11.7, whose _get_event_loop ignores its stacklevel: both must spare it.
    harmless = _find(ensure_future_mutants, "number", "loop = events._get_event_loop(stacklevel=4)",
                     "loop = events._get_event_loop(stacklevel=5)")
    out = tmp_path / "result.json"
    done = subprocess.run([sys.executable, str(BENCHMARKS / "bench_mutation.py"), "--objects", "ensure_future",
                           "--mutants", f"{broken},{harmless}", "--jobs", "2", "--json", str(out)],
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[0].startswith("$ python ")
    document = json.loads(out.read_text())
    result = document["objects"]["ensure_future"]
    assert result["baseline"]["audit"]["clean"] and result["baseline"]["suite"]["clean"]
    verdicts = {m["id"]: m for m in result["mutants"]}
    assert set(verdicts) == {broken, harmless}
    assert verdicts[broken]["audit"]["killed"] and verdicts[broken]["suite"]["killed"]
    assert not verdicts[harmless]["audit"]["killed"] and not verdicts[harmless]["suite"]["killed"]
    assert result["summary"]["audit"]["killed"] == 1 and result["summary"]["suite"]["killed"] == 1
    survivors = done.stdout.split("audit survivors (1):")[1]
    assert survivors.splitlines()[1].split()[0] == harmless


def test_the_reviewed_file_names_this_pythons_mutants():
    reviews = bench_mutation.load_reviews(bench_mutation.REVIEWED)
    assert reviews and {r.verdict for r in reviews.values()} <= set(bench_mutation.REVIEW_VERDICTS)
    if sys.version_info[:2] != (3, 11):
        pytest.skip("the reviewed ids are lines of CPython 3.11's asyncio")
    runs = [bench_mutation.ObjectRun(obj, mutants, list(mutants.mutants))
            for obj, mutants in ((o, _mutants.generate(o)) for o in _mutants.OBJECTS.values())]
    known = {m.id for run in runs for m in run.generated.mutants}
    assert set(reviews) <= known
    assert bench_mutation.stale_reviews(runs, dict(reviews)) == []
