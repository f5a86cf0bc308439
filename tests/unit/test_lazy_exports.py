"""``import synaptic_s3`` loads no submodule: each public name is imported on first
use, and every name of ``__all__`` (and of ``synaptic_s3.store``) still resolves."""

from __future__ import annotations

import importlib
import json
import subprocess
import sys

import pytest

import synaptic_s3
import synaptic_s3.store


def _modules_after(statement: str) -> list[str]:
    script = f"import json, sys\n{statement}\nprint(json.dumps(sorted(sys.modules)))"
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=60, check=True)
    loaded: list[str] = json.loads(done.stdout)
    return loaded


def test_importing_the_package_loads_no_submodule_and_no_dependency() -> None:
    loaded = _modules_after("import synaptic_s3")
    assert [m for m in loaded if m.startswith("synaptic_s3.")] == []
    assert not {"pydantic", "botocore", "aiobotocore", "msgspec"} & set(loaded)


def test_the_file_store_does_not_load_botocore() -> None:
    loaded = _modules_after("from synaptic_s3 import FileStore")
    assert "synaptic_s3.store.file" in loaded
    assert not {"botocore", "aiobotocore", "synaptic_s3.store.s3"} & set(loaded)


@pytest.mark.parametrize("name", synaptic_s3.__all__)
def test_every_public_name_resolves_from_its_module(name: str) -> None:
    home = importlib.import_module(synaptic_s3._EXPORTS[name])
    assert getattr(synaptic_s3, name) is getattr(home, name)
    assert name in dir(synaptic_s3)


@pytest.mark.parametrize("name", synaptic_s3.store.__all__)
def test_every_store_resolves(name: str) -> None:
    home = importlib.import_module(synaptic_s3.store._EXPORTS[name])
    assert getattr(synaptic_s3.store, name) is getattr(home, name)


def test_an_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no attribute 'Nope'"):
        synaptic_s3.Nope  # type: ignore[attr-defined]  # noqa: B018


def test_the_exports_are_exactly_the_public_names() -> None:
    assert set(synaptic_s3._EXPORTS) == set(synaptic_s3.__all__)
    assert set(synaptic_s3.store._EXPORTS) == set(synaptic_s3.store.__all__)


def test_star_import_gives_every_public_name() -> None:
    namespace: dict[str, object] = {}
    exec("from synaptic_s3 import *", namespace)
    assert set(synaptic_s3.__all__) <= set(namespace)
