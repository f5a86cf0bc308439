"""Precompile the Lambda artifact to bytecode (run by infra/lambda/Makefile).

Lambda's code directory is read-only, so Python cannot write ``__pycache__`` there:
without bytecode in the artifact, EVERY cold start compiles every module it imports
(~1.3 s of CPU for the handler's ~480 modules on the development machine, more than
the imports themselves; benchmarks/INIT.md). Bytecode is specific to a Python minor
version, so this must run on the runtime's version (the Makefile checks it).

* The project's own packages (``synaptic_s3``, ``handlers``) keep their sources, with
  bytecode beside them in ``__pycache__``: tracebacks show our source lines.
* Third-party packages are shipped as bytecode only (``module.pyc`` in place of
  ``module.py``, which Python imports without a source): sources and bytecode of
  everything would not fit the 20 MB budget (+9 MB), and nothing reads their sources
  at run time (infra/smoke.sh runs every route on the result). A source is removed only
  once its bytecode exists.

Bytecode is hash-based and unchecked (PEP 552): valid whatever the files' timestamps
become in the zip, and never recompiled on a read-only file system.

Usage: python bytecode.py ARTIFACT_DIR OWN_PACKAGE...
"""

from __future__ import annotations

import compileall
import py_compile
import sys
from pathlib import Path

MODE = py_compile.PycInvalidationMode.UNCHECKED_HASH


def main(root: Path, own: list[str]) -> int:
    ok = True
    for package in own:
        ok &= bool(compileall.compile_dir(root / package, quiet=1, invalidation_mode=MODE))
    third_party = [path for path in root.rglob("*.py")
                   if path.relative_to(root).parts[0] not in own]
    sourceless = 0
    for source in third_party:
        target = source.with_suffix(".pyc")
        try:
            # dfile: tracebacks name the module's path inside the artifact, not the
            # build machine's staging directory
            py_compile.compile(str(source), cfile=str(target),
                               dfile=str(source.relative_to(root)),
                               doraise=True, invalidation_mode=MODE)
        except py_compile.PyCompileError as exc:  # not importable anyway; keep the source
            print(f"bytecode: {source.relative_to(root)} kept as source: {exc.msg}",
                  file=sys.stderr)
            continue
        source.unlink()
        sourceless += 1
    print(f"bytecode: {sourceless} third-party modules as bytecode only; "
          f"{', '.join(own)} with sources")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]), sys.argv[2:]))
