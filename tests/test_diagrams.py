"""Diagrams are extracted from the spec, rendered from that alone, deterministic, marked and checked for staleness."""

from __future__ import annotations

import ast
import re
import shutil
from pathlib import Path

import pytest

from asyncspec import diagrams, report
from asyncspec.diagrams import Composed, Edge, Graph, Node, Style
from asyncspec.spec import load

REPO = Path(__file__).resolve().parents[1]


def test_every_machine_in_every_format_with_the_header():
    files = diagrams.diagrams()
    assert sorted(files) == sorted(f"{m}.{f}" for m in ("future", "event", "ensure_future", "task", "event_loop")
                                   for f in ("dot", "svg", "mmd"))
    for name, content in files.items():
        assert diagrams.HEADER.encode() in content[:400], name


def test_an_extending_machine_is_drawn_with_the_rows_it_inherits_marked():
    dot = diagrams.diagrams(("dot",))["task.dot"].decode()
    assert "asyncio.Task, extending asyncio.Future" in dot
    # the Future's row, unchanged, is marked; the Task's own restatement is not
    assert "\u2191 done / False" in dot
    assert "\\lset_result / raise RuntimeError('Task does not support set_result operation')" in dot
    assert "\u2191 set_result" not in dot
    # a row no public call reaches is drawn, and says so
    assert "_wakeup / None (unreachable)" in dot
    assert 'PENDING -> CANCELLED [label="_step_run_and_handle_result [raised and raised_cancelled] / None"]' in dot


def test_rerun_is_byte_identical():
    assert diagrams.diagrams() == diagrams.diagrams()


def test_edges_read_trigger_guard_output_and_finals_are_marked():
    dot = diagrams.diagrams(("dot",))["future.dot"].decode()
    assert 'PENDING -> CANCELLED [label="cancel / True"]' in dot
    assert "result [has_exception] / raise exception.with_traceback(exception_tb)" in dot
    assert "FINISHED (final)" in dot and "peripheries=2" in dot
    mmd = diagrams.diagrams(("mmd",))["ensure_future.mmd"].decode()
    assert "ARGUMENT --> RETURNED : ensure_future [is_future] / coro_or_future" in mmd
    assert "RETURNED --> [*]" in mmd


def test_event_diagram_shows_the_waiter_machine_it_composes():
    dot = diagrams.diagrams(("dot",))["event.dot"].decode()
    assert "subgraph cluster_waiter" in dot
    assert 'waiter_blocked -> waiter_woken [label="set_result() by event.set()"]' in dot
    assert 'waiter_blocked -> waiter_cancelled [label="cancel() by Task.cancel()"]' in dot


def test_rows_of_some_pythons_only_are_marked_with_them():
    dot = diagrams.diagrams(("dot",))["future.dot"].decode()
    assert "set_exception [is_stop_iteration] / None (Python 3.13+)" in dot
    assert "(Python \u22643.12)" in dot


def test_committed_diagrams_are_fresh():
    assert diagrams.stale(REPO / "diagrams") == []


def test_check_finds_stale_and_missing_files(tmp_path):
    diagrams.write(tmp_path)
    assert diagrams.stale(tmp_path) == []
    (tmp_path / "event.mmd").write_text("%% edited by hand\n")
    (tmp_path / "future.svg").write_bytes(b"<svg/>")
    (tmp_path / "ensure_future.dot").unlink()
    assert sorted(diagrams.stale(tmp_path)) == sorted([
        f"{tmp_path}/ensure_future.dot: missing",
        f"{tmp_path}/event.mmd: stale",
        f"{tmp_path}/future.svg: stale (laid out from an older spec)",
    ])


def test_svg_renders_in_process_without_graphviz(monkeypatch):
    monkeypatch.setattr(shutil, "which", lambda name: None)
    svg = diagrams.render_svg('digraph { a -> b [label="x"] }')
    assert b"<svg" in svg and b">x</text>" in svg


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot is not installed")
def test_svg_renders_with_dot_when_present():
    assert b"<svg" in diagrams.render_svg("digraph { a -> b }")


# -- the intermediate form ---------------------------------------------------------

@pytest.mark.parametrize("name", ["future", "event", "ensure_future"])
def test_every_row_of_every_python_is_on_some_edge(name):
    declared = {r.id for python in diagrams.PYTHONS for r in load("cpython", python)[name].all_rows}
    graph = diagrams.extract(name)
    assert set(graph.row_ids()) == declared
    for edge in graph.edges:
        assert edge.pythons and set(edge.pythons) <= set(diagrams.PYTHONS), edge


def test_a_row_of_some_pythons_only_carries_them():
    graph = diagrams.extract("future")
    [edge] = [e for e in graph.transitions if e.rows == ("PENDING.set_exception[is_stop_iteration]",)]
    assert edge.pythons == ((3, 13), (3, 14)) and edge.label.endswith("(Python 3.13+)")


def test_states_are_nodes_with_their_flags_and_docs():
    graph = diagrams.extract("event")
    assert [(n.id, n.initial, n.final) for n in graph.nodes] == [("CLEAR", True, False), ("SET", False, False)]
    assert graph.initial.doc == "The internal flag is false; wait() blocks."
    assert all(n.final for n in diagrams.extract("future").nodes if n.id != "PENDING")


def test_the_event_composes_the_waiter_from_the_future_machine():
    [waiter] = diagrams.extract("event").composed
    assert (waiter.role, waiter.title, waiter.field) == ("waiter", "asyncio.Future", "waiters")
    assert [(n.id, n.is_a, n.initial, n.final) for n in waiter.nodes] == [
        ("waiter_blocked", "PENDING", True, False), ("waiter_woken", "FINISHED", False, True),
        ("waiter_cancelled", "CANCELLED", False, True)]
    assert [(e.source, e.dest, e.label) for e in waiter.edges] == [
        ("waiter_blocked", "waiter_woken", "set_result() by event.set()"),
        ("waiter_blocked", "waiter_cancelled", "cancel() by Task.cancel()")]
    future_rows = {r.id for r in load("cpython", diagrams.PYTHONS[-1])["future"].rows}
    assert all(set(e.rows) <= future_rows for e in waiter.edges)
    [park] = waiter.parks
    assert (park.source, park.dest, park.label) == ("CLEAR", "waiter_blocked", "wait() parks one")
    assert park.rows == ("CLEAR.wait[otherwise]",)


def test_styles_attach_to_the_rows_and_states_they_name():
    graph = diagrams.extract("event")
    red, bold = Style("#cf222e"), Style("#1a7f37", bold=True)
    styled = graph.styled(rows={"CLEAR.set": red, "CLEAR.wait[otherwise]": bold}, states={"SET": red})
    assert [e.style for e in styled.transitions if e.rows == ("CLEAR.set",)] == [red]
    assert [e.style for e in styled.internal("CLEAR") if e.rows == ("CLEAR.wait[otherwise]",)] == [bold]
    assert styled.composed[0].parks[0].style == bold
    assert [n.style for n in styled.nodes] == [diagrams.PLAIN, red]
    assert all(e.style == diagrams.PLAIN for e in styled.composed[0].edges)  # rows of another machine
    assert graph.edges[0].style == diagrams.PLAIN  # the graph it came from is unchanged


def test_a_row_style_shows_in_the_dot_source():
    graph = diagrams.extract("future")
    plain = diagrams.render_dot(graph)
    assert "#cf222e" not in plain and "penwidth" not in plain
    dot = diagrams.render_dot(graph.styled(
        rows={"PENDING.cancel": Style("#cf222e", bold=True), "PENDING.done": Style("#1a7f37"),
              "<uninitialized>.result": Style("#8c959f")},
        states={"CANCELLED": Style("#cf222e")}))
    assert 'PENDING -> CANCELLED [label="cancel / True" color="#cf222e" fontcolor="#cf222e" penwidth=3]' in dot
    assert re.search(r'PENDING__\d+ \[label="done / False\\l" fontcolor="#1a7f37"', dot)
    assert re.search(r'__uninitialized____\d+ \[label="result / raise InvalidStateError\(\'Future object is not '
                     r'initialized.\'\)\\l" fontcolor="#8c959f"', dot)
    assert 'CANCELLED [label="CANCELLED (final)\\l\\ldone / True' in dot and 'color="#cf222e" peripheries=2' in dot


def test_lines_styled_apart_are_stacked_in_order_under_their_state():
    graph = diagrams.extract("event")
    dot = diagrams.render_dot(graph.styled(rows={"SET.is_set": Style("#cf222e")}))
    assert "subgraph cluster_state_SET" in dot and "cluster_state_CLEAR" not in dot
    svg = diagrams.render_svg(dot).decode()
    heights = {title: float(y) for title, y in
               re.findall(r'<title>(SET(?:__\d+)?)</title>\n(?:<path [^>]*>\n)?<text [^>]*? y="(-?[\d.]+)"', svg)}
    order = sorted(heights, key=heights.__getitem__)  # SVG y grows downwards
    assert order == ["SET", "SET__0", "SET__1", "SET__2", "SET__3"]
    assert 'fill="#cf222e">is_set / True</text>' in svg


def test_the_renderers_read_only_the_graph():
    graph = Graph(
        name="lamp", title="A lamp", pythons=((3, 11),), uninitialized=(),
        nodes=(Node("OFF", "OFF", initial=True), Node("BROKEN", "BROKEN", final=True)),
        edges=(Edge("OFF", None, "press / None", ("OFF.press",), ((3, 11),)),
               Edge("OFF", "BROKEN", "drop / None", ("OFF.drop",), ((3, 11),), Style("red"))),
        composed=(Composed("bulb", "A bulb", "bulbs", (Node("bulb_lit", "lit", initial=True, is_a="ON"),), (),
                           (Edge("OFF", "bulb_lit", "screw() parks one", ("OFF.screw",), ((3, 11),)),)),),
    )
    dot = diagrams.render_dot(graph)
    assert 'OFF [label="OFF\\l\\lpress / None\\l" peripheries=1]' in dot
    assert 'OFF -> BROKEN [label="drop / None" color=red fontcolor=red]' in dot
    assert 'bulb_lit [label="lit\n(ON)" peripheries=1]' in dot
    assert diagrams.render_mermaid(graph).splitlines()[3:] == [
        "    [*] --> OFF", "    OFF : press / None", "    OFF --> BROKEN : drop / None", "    BROKEN --> [*]",
        '    state "each bulb: an A bulb" as bulb {', "        [*] --> bulb_lit", "    }",
        "    OFF --> bulb : screw() parks one"]


# -- the HTML report colours rows through the graph ---------------------------------

def _document(rows: dict[str, str], path: list[str]) -> dict:
    clause = {"id": "F-CANCEL", "status": "deviation", "source": "seed", "quote": "Cancel the Future.",
              "counterexample": {"text": "f.cancel()", "path": [{"action": "cancel()", "rows": path}]}}
    summary = {"pass": 0, "deviation": 1, "not-applicable": 0, "error": 0}
    return {"asyncspec": "0", "profile": "cpython", "python": "3.12.0", "seed": 0, "loop": "asyncio",
            "seconds": 1.0, "unauditable": [],
            "targets": [{"target": "m:F", "kind": "future", "summary": summary, "rows": rows,
                         "clauses": [clause], "known_differences": {}, "error": None}]}


def _svg_group(page: str, title: str) -> str:
    found = re.search(rf'<g id="\w+" class="(?:node|edge)">\n<title>{re.escape(title)}</title>.*?</g>', page, re.S)
    assert found, title
    return found.group(0)


def test_the_html_report_colours_a_deviating_row_and_bolds_its_path():
    page = report.page(_document({"PENDING.cancel": "deviation", "PENDING.done": "pass",
                                  "FINISHED.cancel": "deviation"}, ["PENDING.cancel", "FINISHED.cancel"]))
    assert "diagram unavailable" not in page
    edge = _svg_group(page, "PENDING&#45;&gt;CANCELLED")
    assert 'stroke="#cf222e" stroke-width="3"' in edge and 'fill="#cf222e">cancel / True</text>' in edge
    svg = page[page.index("<svg"):]
    assert re.search(r'font-weight="bold"[^>]*fill="#cf222e">cancel / False</text>', svg)  # FINISHED.cancel
    assert 'fill="#1a7f37">done / False</text>' in svg
    assert 'fill="#8c959f">result / result</text>' in svg  # not exercised
    assert 'fill="#8c959f">__del__ / nothing</text>' in svg  # the uninitialized answers too


def test_the_html_report_colours_a_state_whose_rows_agree():
    graph = diagrams.extract("future")
    rows = {r: "pass" for e in graph.internal("CANCELLED") for r in e.rows}
    svg = report.target_diagram(_document(rows, [])["targets"][0])
    assert re.search(r'<title>cluster_state_CANCELLED</title>\n<path fill="none" stroke="#1a7f37"', svg)
    assert re.search(r'<title>cluster_state_PENDING</title>\n<path fill="none" stroke="#8c959f"', svg)


# -- layering ------------------------------------------------------------------------

def _imports(path: Path) -> list[tuple[int, str, list[str]]]:
    out = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            out.append((node.level, node.module or "", [a.name for a in node.names]))
        elif isinstance(node, ast.Import):
            out += [(0, a.name, []) for a in node.names]
    return out


def test_diagrams_import_only_the_spec():
    for path in sorted((REPO / "diagrams").glob("*.py")):
        for level, module, _ in _imports(path):
            assert level < 2 or module.split(".")[0] == "spec", f"{path.name} imports ..{module}"
            assert level > 0 or module.split(".")[0] not in {"asyncspec", "spec", "impl", "model_tests"}, \
                f"{path.name} imports {module}"


def test_the_report_uses_only_public_diagram_names():
    for level, module, names in _imports(REPO / "asyncspec" / "report.py"):
        if module.startswith("diagrams") or (level == 1 and not module and "diagrams" in names):
            assert not any(part.startswith("_") for part in module.split(".") + names), (module, names)


_ROW_READS = {"output", "effects", "guard_label", "returns", "raises", "reraises", "delegates", "output_label"}


def test_only_one_function_reads_what_a_row_does():
    readers = set()
    for path in sorted((REPO / "diagrams").glob("*.py")):
        for fn in ast.walk(ast.parse(path.read_text())):
            if isinstance(fn, ast.FunctionDef):
                inner = {n for f in ast.walk(fn) if f is not fn and isinstance(f, ast.FunctionDef) for n in ast.walk(f)}
                if any(isinstance(n, ast.Attribute) and n.attr in _ROW_READS and n not in inner for n in ast.walk(fn)):
                    readers.add(f"{path.name}:{fn.name}")
    assert readers == {"_extract.py:_row_facts"}
