"""Diagrams are generated from the spec, deterministic, marked, and checked for staleness."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from asyncspec import diagrams
from asyncspec.diagrams import _build

REPO = Path(__file__).resolve().parents[1]


def test_every_machine_in_every_format_with_the_header():
    files = diagrams.diagrams()
    assert sorted(files) == sorted(f"{m}.{f}" for m in ("future", "event", "ensure_future")
                                   for f in ("dot", "svg", "mmd"))
    for name, content in files.items():
        assert diagrams.HEADER.encode() in content[:400], name


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
    monkeypatch.setattr(_build, "_dot_binary", lambda: None)
    svg = diagrams.render_svg('digraph { a -> b [label="x"] }')
    assert b"<svg" in svg and b">x</text>" in svg


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot is not installed")
def test_svg_renders_with_dot_when_present():
    assert b"<svg" in diagrams.render_svg("digraph { a -> b }")
