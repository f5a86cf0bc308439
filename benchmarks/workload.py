"""The fixed workload: every operation, every system, every size, on one endpoint.

Systems that can do an operation do it on the same endpoint, with the same
message texts and checkpoint states, one after the other. Read-only operations
of synaptic-s3 and the Rust-like baseline read the very same objects (they share
the bucket layout); everything else gets a bucket of its own, so no listing ever
walks another system's objects.

Sizes grow in place (10 sessions, then 90 more for 100, ...) so each size costs
only the objects it adds; repetitions shrink as sizes grow (see :class:`Plan`).
Chat turns start every repetition from exactly N messages (the two appended by the
previous turn are removed, uncounted).
"""

from __future__ import annotations

import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from typing import Any

from benchmarks import ours as ours_layout
from benchmarks.baseline import RustLikeBaseline
from benchmarks.langgraph_peer import LangGraphPeer
from benchmarks.measure import Paired, Row, measure
from benchmarks.ours import Ours
from benchmarks.raw import Replayer
from benchmarks.servers import Target
from benchmarks.strands_peer import StrandsPeer
from benchmarks.strands_snapshot_peer import StrandsSnapshotPeer


@dataclass(frozen=True)
class Plan:
    """Sizes and repetitions. ``heavy`` repetitions are for peers that make a request per
    object (Strands restoring N messages, the baseline's GET per session or DELETE per
    object), whose 10,000-object runs take tens of seconds each; they also skip the
    warm-up call from 1,000 objects on, where one connection set-up is noise."""

    name: str
    sizes_n: tuple[int, ...]
    sizes_m: tuple[int, ...]
    delete_m: tuple[int, ...]
    single_reps: int
    reps_by_size: dict[int, int] = field(default_factory=dict)
    heavy_reps_by_size: dict[int, int] = field(default_factory=dict)

    def reps(self, size: int, *, heavy: bool = False) -> int:
        table = self.heavy_reps_by_size if heavy else self.reps_by_size
        return table.get(size, 1)


FULL = Plan(
    name="full",
    sizes_n=(10, 100, 1000, 10_000),
    sizes_m=(100, 1000, 10_000),
    delete_m=(100, 10_000),
    single_reps=40,
    reps_by_size={10: 20, 100: 20, 1000: 10, 10_000: 5},
    heavy_reps_by_size={10: 10, 100: 5, 1000: 2, 10_000: 1},
)
QUICK = Plan(
    name="quick",
    sizes_n=(10, 100),
    sizes_m=(100,),
    delete_m=(100,),
    single_reps=8,
    reps_by_size={10: 5, 100: 5},
    heavy_reps_by_size={10: 3, 100: 3},
)

def capped(plan: Plan, largest: int) -> Plan:
    """The plan without sizes above ``largest`` (a medium run on a busy machine)."""
    def keep(sizes: tuple[int, ...]) -> tuple[int, ...]:
        return tuple(size for size in sizes if size <= largest)

    return replace(plan, name=f"{plan.name}, sizes <= {largest:,}", sizes_n=keep(plan.sizes_n),
                   sizes_m=keep(plan.sizes_m), delete_m=keep(plan.delete_m))


System = Ours | RustLikeBaseline | StrandsPeer | StrandsSnapshotPeer | LangGraphPeer


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


class Workload:
    def __init__(self, target: Target, plan: Plan) -> None:
        self.target = target
        self.plan = plan
        self.rows: list[Row] = []
        self._systems: list[System] = []
        self._started = time.monotonic()
        self.replayer = Replayer(target)  # the raw call, replayed after each of ours

    # -- plumbing -------------------------------------------------------------------------

    async def _open(self, system: System) -> Any:
        self.target.create_bucket(system.bucket)
        await system.open()
        self._systems.append(system)
        return system

    def _bucket(self, name: str) -> str:
        return f"bench-{name}"

    async def _measure(
        self, operation: str, system: System, size: int | None, reps: int,
        call: Callable[[int], Awaitable[object]], *, heavy: bool = False, **options: Any,
    ) -> None:
        row = Row(self.target.kind, operation, system.label, size)
        if heavy and size is not None and size >= 1000:
            options["warmup"] = False
        raw_reset = options.pop("raw_reset", None)
        paired = None
        if isinstance(system, Ours):
            paired = Paired(system.recorder, self.replayer,
                            Row(self.target.kind, operation, self.replayer.label, size),
                            raw_reset)
        await measure(row, system.counter, reps, call, paired=paired, **options)
        self.rows.append(row)
        self._log(row)
        if paired is not None:
            self.rows.append(paired.row)
            self._log(paired.row)

    def _log(self, row: Row) -> None:
        log(f"[{time.monotonic() - self._started:7.1f}s] {self.target.kind:9s} "
            f"{row.operation:28s} {row.system:26s} size={row.size!s:6s} reps={row.reps:3d} "
            f"requests={row.median_requests:g} median={row.median_ms:.1f}ms")

    async def run(self) -> list[Row]:
        await self.replayer.open()
        try:
            await self.single_operations()
            await self.memory_operations()
            await self.list_operations()
            await self.checkpoint_operations()
            await self.delete_operations()
        finally:
            for system in self._systems:
                await system.close()
            await self.replayer.close()
        return self.rows

    # -- create and get a session ---------------------------------------------------------

    async def single_operations(self) -> None:
        reps = self.plan.single_reps
        systems: list[Ours | RustLikeBaseline | StrandsPeer] = [
            await self._open(Ours(self.target, self._bucket("ours"))),
            await self._open(RustLikeBaseline(self.target, self._bucket("rs"))),
            await self._open(StrandsPeer(self.target, self._bucket("strands"))),
        ]
        for system in systems:
            created: list[str] = []

            async def create(_: int, system: Any = system, created: list[str] = created) -> None:
                created.append(await system.create_session())

            await self._measure("create session", system, None, reps, create)
            await self._measure("get session", system, None, reps,
                                lambda i, s=system, c=created: s.get_session(c[i]))
        # Strands' snapshot manager has no session record to get: create only.
        snapshot = await self._open(StrandsSnapshotPeer(self.target, self._bucket("snapshot")))
        await self._measure("create session", snapshot, None, reps,
                            lambda _: snapshot.create_session())

    # -- restore, append, chat turn -------------------------------------------------------

    async def memory_operations(self) -> None:
        ours = await self._open(Ours(self.target, self._bucket("ours-memory")))
        rs = await self._open(RustLikeBaseline(self.target, self._bucket("rs-memory")))
        strands = await self._open(StrandsPeer(self.target, self._bucket("strands-memory")))
        snapshot = await self._open(StrandsSnapshotPeer(self.target,
                                                        self._bucket("snapshot-memory")))
        strands_session = uuid.uuid4().hex  # one session, grown from size to size
        for n in self.plan.sizes_n:
            reps, heavy = self.plan.reps(n), self.plan.reps(n, heavy=True)
            await strands.grow_history(strands_session, n)
            for system in (ours, rs, snapshot):
                session = await system.new_history(n)
                await self._memory_ops(system, session, n, reps)
            await self._measure("restore N messages", strands, n, heavy,
                                lambda _, s=strands_session: strands.load(s), heavy=True)
            await self._measure("append to warm history", strands, n, reps,
                                lambda i, s=strands_session: strands.append(s, i))
            await self._measure("chat turn", strands, n, max(1, heavy // 2),
                                lambda i, s=strands_session: strands.chat_turn(s, i),
                                setup=lambda _, s=strands_session, n=n: strands.grow_history(s, n),
                                heavy=True)

    async def _memory_ops(
        self, system: Ours | RustLikeBaseline | StrandsSnapshotPeer, session: str, n: int,
        reps: int,
    ) -> None:
        await self._measure("restore N messages", system, n, reps,
                            lambda _: system.load(session))
        await system.warm(session)
        await self._measure("append to warm history", system, n, reps,
                            lambda i: system.append(session, i))
        # The raw replay of a chat turn starts from the same N messages as the turn did.
        await self._measure("chat turn", system, n, reps,
                            lambda i: system.chat_turn(session, i),
                            setup=lambda _: system.reset_history(session, n),
                            raw_reset=lambda _: system.reset_history(session, n))
        if isinstance(system, Ours):
            await self._measure("chat turn (append_many)", system, n, reps,
                                lambda i: system.chat_turn_many(session, i),
                                setup=lambda _: system.reset_history(session, n),
                                raw_reset=lambda _: system.reset_history(session, n))

    # -- list sessions --------------------------------------------------------------------

    async def list_operations(self) -> None:
        bucket = self._bucket("list")
        ours = await self._open(Ours(self.target, bucket))
        rs = await self._open(RustLikeBaseline(self.target, bucket))
        seeded = 0
        for n in self.plan.sizes_n:
            await self.target.seeder.put_many(bucket, ours_layout.session_objects(n - seeded))
            seeded = n
            await self._measure("list N sessions", ours, n, self.plan.reps(n),
                                lambda _, n=n: ours.list_sessions(n))
            await self._measure("list N sessions", rs, n, self.plan.reps(n, heavy=True),
                                lambda _, n=n: rs.list_sessions(n), heavy=True)

    # -- checkpoints ----------------------------------------------------------------------

    async def checkpoint_operations(self) -> None:
        bucket = self._bucket("latest")
        ours = await self._open(Ours(self.target, bucket))
        rs = await self._open(RustLikeBaseline(self.target, bucket))
        langgraph = await self._open(LangGraphPeer(self.target, self._bucket("langgraph")))
        thread = f"thread-{uuid.uuid4().hex}"
        reps = self.plan.single_reps
        await self._measure("put checkpoint", ours, None, reps,
                            lambda i: ours.put_checkpoint(f"{thread}-puts", i))
        await self._measure("put checkpoint", langgraph, None, reps,
                            lambda i: langgraph.put_checkpoint(f"{thread}-puts", i))
        seeded = 0
        for m in self.plan.sizes_m:
            await self.target.seeder.put_many(
                bucket, ours_layout.checkpoint_objects(thread, seeded, m - seeded, hint=True))
            await self.target.seeder.put_many(
                langgraph.bucket, langgraph.checkpoint_objects(thread, seeded, m - seeded))
            seeded = m
            for system in (ours, rs, langgraph):
                await self._measure("latest checkpoint", system, m, self.plan.reps(m),
                                    lambda _, s=system: s.latest_checkpoint(thread))
            if await ours.latest_checkpoint(thread) != await rs.latest_checkpoint(thread):
                raise AssertionError("synaptic-s3 and the baseline disagree on the latest id")

    # -- delete a session -----------------------------------------------------------------

    async def delete_operations(self) -> None:
        ours = await self._open(Ours(self.target, self._bucket("delete-ours")))
        rs = await self._open(RustLikeBaseline(self.target, self._bucket("delete-rs")))
        strands = await self._open(StrandsPeer(self.target, self._bucket("delete-strands")))
        snapshot = await self._open(StrandsSnapshotPeer(self.target,
                                                        self._bucket("delete-snapshot")))
        for m in self.plan.delete_m:
            reps = self.plan.reps(m, heavy=True)
            for system in (ours, rs):
                sessions: list[str] = []

                async def seed(_: int, system: Ours | RustLikeBaseline = system,
                               sessions: list[str] = sessions, m: int = m) -> None:
                    session, objects = ours_layout.session_with_objects(m)
                    await self.target.seeder.put_many(system.bucket, objects)
                    sessions.append(session)
                    if isinstance(system, Ours):  # an identical twin for the raw replay
                        twin = ours_layout.twin_objects(session, objects)
                        await self.target.seeder.put_many(system.bucket, twin[1])
                        self.replayer.substitutions = {session: twin[0]}

                await self._measure("delete session (M objects)", system, m, reps,
                                    lambda i, s=system, ids=sessions: s.delete_session(ids[i]),
                                    setup=seed, warmup=False)
                self.replayer.substitutions = {}
            snapshot_sessions: list[str] = []

            async def seed_snapshot(_: int, ids: list[str] = snapshot_sessions,
                                    m: int = m) -> None:
                ids.append(await snapshot.session_with_objects(m))

            await self._measure("delete session (M objects)", snapshot, m, reps,
                                lambda i, ids=snapshot_sessions: snapshot.delete_session(ids[i]),
                                setup=seed_snapshot, warmup=False)
            strands_sessions: list[str] = []

            async def seed_strands(_: int, ids: list[str] = strands_sessions, m: int = m) -> None:
                ids.append(await strands.session_with_objects(m))

            await self._measure("delete session (M objects)", strands, m, reps,
                                lambda i, ids=strands_sessions: strands.delete_session(ids[i]),
                                setup=seed_strands, warmup=False)
