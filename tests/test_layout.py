"""The package layout: one namespace, spec/ imports nothing from the rest."""

from __future__ import annotations

import ast
import importlib.util
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def test_spec_imports_nothing_from_the_rest_of_the_package():
    for path in sorted((REPO / "spec").glob("*.py")):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                assert node.level > 0 or not (node.module or "").startswith("asyncspec"), path
                assert node.level <= 1, f"{path}: reaches outside spec/"
            elif isinstance(node, ast.Import):
                assert not any(a.name.startswith("asyncspec") for a in node.names), path


def test_subpackages_map_to_the_top_level_folders():
    for sub, folder in [("spec", "spec"), ("impl", "impl"), ("model_tests", "model_tests"),
                        ("diagrams", "diagrams")]:
        found = importlib.util.find_spec(f"asyncspec.{sub}")
        assert found is not None and Path(found.origin).parent.resolve() == (REPO / folder).resolve()


def test_no_bare_spec_or_impl_package_is_installed():
    # Run from a folder where the checkout is not on sys.path.
    code = "import importlib.util as u; print(u.find_spec('spec'), u.find_spec('impl'))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd="/",
                         check=True).stdout
    assert out.strip() == "None None"


def test_the_spec_imports_on_older_pythons_where_installed():
    import glob
    import os
    ran = 0
    root = os.environ.get("PYENV_ROOT", os.path.expanduser("~/.pyenv"))
    for version in ("3.8", "3.9", "3.10"):
        found = sorted(glob.glob(f"{root}/versions/{version}.*/bin/python{version}"))
        if not found:
            continue
        exe = found[-1]
        code = ("import sys, types; sys.path.insert(0, %r); pkg = types.ModuleType('asyncspec'); "
                "pkg.__path__ = []; sys.modules['asyncspec'] = pkg; "
                "import importlib.util as u; s = u.spec_from_file_location('asyncspec.spec', %r, "
                "submodule_search_locations=[%r]); m = u.module_from_spec(s); "
                "sys.modules['asyncspec.spec'] = m; s.loader.exec_module(m); "
                "print(len(m.load().clauses()))") % (str(REPO), str(REPO / "spec" / "__init__.py"),
                                                     str(REPO / "spec"))
        out = subprocess.run([exe, "-c", code], capture_output=True, text=True)
        assert out.returncode == 0, out.stderr
        ran += 1
    if not ran:
        import pytest
        pytest.skip("no older CPython on PATH")


def test_ci_runs_the_readme_test_command():
    readme = (REPO / "README.md").read_text()
    commands = [line.strip() for line in readme.splitlines() if line.strip().startswith("python -m pip install")]
    assert len(commands) == 2, commands
    main_job, test_command = commands
    assert "asyncspec audit" in main_job
    assert test_command in (REPO / ".ci" / "run").read_text()
