"""A web console over any store: sessions, conversations and checkpoints as pages.

``synaptic-s3 console`` serves it on 127.0.0.1 (read-only unless
``--allow-writes``); ``synaptic-s3 serve`` mounts it at ``/console``. Pages are
rendered on the server from the library's paged reads (a long session is read a
page at a time), with a little plain JavaScript and no build step. See
docs/console.md.
"""

from synaptic_s3.console.app import ConsoleApp, Request, Response

__all__ = ["ConsoleApp", "Request", "Response"]
