"""AWS Lambda handler of the synaptic-s3 HTTP API (API Gateway HTTP API, payload v2.0).

``handlers.app.handler`` serves every route; the template may deploy it as several
functions, each given a subset of routes. It is configured only by environment
variables (docs/service.md). The wiring lives in the library module
``synaptic_s3.service.lambda_handler`` so that ``synaptic-s3 serve`` runs this very
function object on a laptop.

Two things make the cold start cheaper (measured in benchmarks/INIT.md):

* pydantic's plugin discovery is off unless the environment says otherwise
  (``PYDANTIC_DISABLE_PLUGINS``, which template.yaml also sets): with no plugin in the
  package, looking for their entry points is wasted work at the first model;
* the cyclic garbage collector is paused while the ~750 modules of the init load (they
  create objects that live as long as the container, so collections during the import
  find nothing to free), then everything built so far is moved out of its reach
  (:func:`gc.freeze`), so later collections, during requests, do not scan it again.
"""

import gc
import os

os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")  # set it to "" for plugins

_collecting = gc.isenabled()
gc.disable()  # (if the import fails, the init fails: nothing runs with it left off)
from synaptic_s3.service.lambda_handler import handler  # noqa: E402

if _collecting:
    gc.enable()
gc.freeze()

__all__ = ["handler"]
