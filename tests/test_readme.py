"""Every Python example in the README runs as written (blocks starting with
``# not-run`` need external resources and are only compiled)."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parent.parent / "README.md"
BLOCKS = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.DOTALL)


def test_the_readme_has_examples() -> None:
    assert len(BLOCKS) >= 2


@pytest.mark.parametrize("source", BLOCKS, ids=[f"block{i}" for i in range(len(BLOCKS))])
def test_readme_example_runs(
    source: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    code = compile(source, str(README), "exec")
    if source.startswith("# not-run"):
        return
    monkeypatch.chdir(tmp_path)
    exec(code, {"__name__": "__readme__"})
    assert os.getcwd() == str(tmp_path)
