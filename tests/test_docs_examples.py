"""Every Python example in the README and docs/ runs as written, twice in a row, and
cleans up after itself (docs/integrations.md has its own runner, with the frameworks).

Blocks starting ``# not-run`` need resources a test cannot have (a real bucket, a KMS
key) and are only compiled. Blocks starting ``# needs-s3`` talk to the local endpoint
the text tells readers to start on 127.0.0.1:9000; here a moto server on a free port
stands in for it.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from synaptic_s3.testing import Endpoint

ROOT = Path(__file__).resolve().parent.parent
DOCUMENTS = [ROOT / "README.md", *sorted(
    p for p in (ROOT / "docs").glob("*.md") if p.name != "integrations.md")]
EXAMPLE_ENDPOINT = "http://127.0.0.1:9000"


def _blocks() -> Iterator[tuple[str, str]]:
    for document in DOCUMENTS:
        blocks = re.findall(r"```python\n(.*?)```", document.read_text(), flags=re.DOTALL)
        for index, source in enumerate(blocks):
            yield f"{document.name}-{index}", source


BLOCKS = dict(_blocks())


def _tree(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def test_the_readme_has_examples() -> None:
    assert sum(1 for name in BLOCKS if name.startswith("README.md")) >= 3


def test_the_readme_links_the_route_reference_and_the_reliability_report() -> None:
    text = (ROOT / "README.md").read_text()
    assert "(docs/service.md)" in text
    assert "(docs/reliability.md)" in text


@pytest.mark.parametrize("name", list(BLOCKS))
def test_example_runs_twice_and_leaves_nothing_behind(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    request: pytest.FixtureRequest,
) -> None:
    source = BLOCKS[name]
    code = compile(source, name, "exec")
    if source.startswith("# not-run"):
        return
    if source.startswith("# needs-s3"):
        endpoint: Endpoint = request.getfixturevalue("moto_endpoint")
        code = compile(source.replace(EXAMPLE_ENDPOINT, endpoint.url), name, "exec")
    monkeypatch.chdir(tmp_path)
    for _ in range(2):
        with contextlib.redirect_stdout(io.StringIO()):
            exec(code, {"__name__": "__docs__"})
        assert os.getcwd() == str(tmp_path)
    leftovers = [path for path, body in _tree(tmp_path).items()
                 if path.endswith(".json") and body]
    assert leftovers == [], "the example left stored objects behind"
