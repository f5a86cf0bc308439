"""infra/lambda/bytecode.py on a small artifact: third-party modules become bytecode only
(importable without their sources, tracebacks naming their path inside the artifact),
our packages keep their sources with bytecode beside them, and a file that does not
compile keeps its source."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "infra" / "lambda" / "bytecode.py"


@pytest.fixture
def artifact(tmp_path: Path) -> Path:
    (tmp_path / "thirdparty").mkdir()
    (tmp_path / "thirdparty" / "__init__.py").write_text("from thirdparty.core import VALUE\n")
    (tmp_path / "thirdparty" / "core.py").write_text(
        "VALUE = 42\n\ndef fail():\n    raise ValueError('from third party')\n")
    (tmp_path / "thirdparty" / "broken.py").write_text("def (:\n")
    (tmp_path / "ours").mkdir()
    (tmp_path / "ours" / "__init__.py").write_text("from thirdparty import VALUE\n")
    done = subprocess.run([sys.executable, str(SCRIPT), str(tmp_path), "ours"],
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    return tmp_path


def test_third_party_modules_are_bytecode_only(artifact: Path) -> None:
    assert sorted(p.name for p in (artifact / "thirdparty").iterdir()
                  if p.suffix in (".py", ".pyc")) == ["__init__.pyc", "broken.py", "core.pyc"]


def test_our_packages_keep_their_sources_with_bytecode_beside(artifact: Path) -> None:
    assert (artifact / "ours" / "__init__.py").exists()
    assert list((artifact / "ours" / "__pycache__").glob("__init__.*.pyc"))


def test_the_result_imports_alone_and_names_artifact_paths(artifact: Path) -> None:
    code = ("import sys, traceback\nsys.path.insert(0, sys.argv[1])\n"
            "import ours, thirdparty.core\nassert ours.VALUE == 42\n"
            "try:\n    thirdparty.core.fail()\nexcept ValueError as e:\n"
            "    print(traceback.extract_tb(e.__traceback__)[-1].filename)")
    done = subprocess.run([sys.executable, "-S", "-B", "-c", code, str(artifact)],
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == str(Path("thirdparty") / "core.py")
