"""Static resolution of a Lambda handler string (``package.module.function``) to the
source that defines it, without importing anything: the function's module may need the
Lambda environment, and this is about the files the artifact ships."""

from __future__ import annotations

import ast
from pathlib import Path


class Unresolved(LookupError):
    """The handler string does not lead to a function definition."""


def module_file(root: Path, module: str) -> Path:
    base = root.joinpath(*module.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    raise Unresolved(f"no module {module} under {root}")


def resolve_definition(root: Path, module: str, name: str, _depth: int = 0) -> tuple[Path, int]:
    """(file, line) of what ``module.name`` is at the top level of its module: a ``def``
    or ``async def``, or an assignment (``name = decorator(function)``), following
    ``from X import name [as alias]`` re-exports."""
    if _depth > 10:
        raise Unresolved(f"{module}.{name}: re-exported too many times")
    path = module_file(root, module)
    tree = ast.parse(path.read_text(), filename=str(path))
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name == name:
            return path, node.lineno
        if isinstance(node, ast.Assign) and any(
            isinstance(target, ast.Name) and target.id == name for target in node.targets
        ):
            return path, node.lineno
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) \
                and node.target.id == name and node.value is not None:
            return path, node.lineno
        if isinstance(node, ast.ImportFrom):
            for alias in node.names:
                if (alias.asname or alias.name) == name:
                    source = _absolute(module, path, node)
                    return resolve_definition(root, source, alias.name, _depth + 1)
    raise Unresolved(f"{path} defines no top-level {name!r}")


def _absolute(module: str, path: Path, node: ast.ImportFrom) -> str:
    if node.level == 0:
        assert node.module is not None
        return node.module
    package = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
    base = package[: len(package) - (node.level - 1)]
    return ".".join([*base, node.module] if node.module else base)
