"""A lease contender in its own process: ``python lease_contender.py STORE_URL SESSION
LOG ROUNDS``. It takes the session's lease ROUNDS times; while holding it, it writes
``enter <token>`` and ``exit <token>`` lines to LOG (one O_APPEND write each, atomic
between processes), so the parent can check that holders never overlapped."""

from __future__ import annotations

import asyncio
import os
import random
import sys
from datetime import timedelta

from synaptic_s3 import SessionManager
from synaptic_s3.core.errors import LeaseHeldError
from synaptic_s3.service.store_url import parse_store_url


def log_line(path: str, text: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, (text + "\n").encode())
    finally:
        os.close(fd)


async def main(url: str, session_id: str, log: str, rounds: int) -> None:
    async with parse_store_url(url).open() as store:
        manager = SessionManager(store)
        taken = 0
        while taken < rounds:
            try:
                lease = await manager.acquire_lease(
                    session_id, ttl=timedelta(seconds=60), owner=f"pid-{os.getpid()}")
            except LeaseHeldError:
                await asyncio.sleep(random.uniform(0, 0.02))  # back off, then contend again
                continue
            log_line(log, f"enter {lease.token}")
            await asyncio.sleep(0)  # let anything else in this process run while held
            log_line(log, f"exit {lease.token}")
            await lease.release()
            taken += 1
    print('{"ok": true}')


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])))
