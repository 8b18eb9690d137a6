"""Run mypy on asyncspec's packages: by default all of them, the tool included.

setuptools maps the top-level folders into one namespace (``package-dir``),
which mypy cannot follow, so this lays the namespace out as symlinks in a
temporary folder and checks it there. Settings come from pyproject.toml.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SUBPACKAGES = ("spec", "impl", "model_tests", "diagrams")


def main(packages: list[str]) -> int:
    with tempfile.TemporaryDirectory(prefix="asyncspec-mypy-") as tmp:
        root = Path(tmp) / "asyncspec"
        root.mkdir()
        for path in (REPO / "asyncspec").iterdir():
            if path.suffix in (".py", ".typed"):
                (root / path.name).symlink_to(path)
        for sub in SUBPACKAGES:
            (root / sub).symlink_to(REPO / sub)
        args = [sys.executable, "-m", "mypy", "--config-file", str(REPO / "pyproject.toml")]
        for package in packages or ["asyncspec"]:
            args += ["-p", package if package == "asyncspec" else f"asyncspec.{package}"]
        env = dict(os.environ, MYPYPATH=tmp)
        return subprocess.run(args, cwd=tmp, env=env).returncode


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
