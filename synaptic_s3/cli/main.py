"""``synaptic-s3``: operate sessions in any store, and serve the HTTP API locally.

argparse (stdlib) parses; rich renders tables, conversations and progress bars. rich
is imported only by the commands that print, never by the Lambda handler.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from synaptic_s3.service.store_url import DEFAULT_STORE_URL, StoreURLError, parse_store_url

if TYPE_CHECKING:
    from rich.console import Console

    from synaptic_s3.session import SessionManager

T = TypeVar("T")

EPILOG = """\
store URLs:
  file://PATH                      JSON files under PATH (default: file://.local-data)
  memory://                        in this process only (for trying things out)
  s3://BUCKET/PREFIX?endpoint_url=URL&region=REGION
                                   any S3 endpoint (AWS, MinIO, SeaweedFS, moto);
                                   credentials come from the usual AWS chain
The default store is $SYNAPTIC_STORE_URL, else file://.local-data.

examples:
  synaptic-s3 serve                          # the HTTP API on http://127.0.0.1:8080
  synaptic-s3 create
  synaptic-s3 append SESSION_ID --content "Hello"
  synaptic-s3 show SESSION_ID
  synaptic-s3 console                        # browse sessions on http://127.0.0.1:8090
  synaptic-s3 export --all -o backup.json
  synaptic-s3 import backup.json --store s3://my-bucket/sessions
"""


class CliError(Exception):
    """A failure explained to the user (exit status 1, no traceback)."""


# -- plumbing -----------------------------------------------------------------------------


def _console(stderr: bool = False) -> Console:
    try:
        from rich.console import Console
    except ImportError:  # pragma: no cover - rich is in the service extra
        raise CliError("this command needs rich: pip install 'synaptic-s3[service]'") from None
    return Console(stderr=stderr, highlight=False, soft_wrap=False)


def _run_with_manager(args: argparse.Namespace,
                      work: Callable[[SessionManager], Awaitable[T]]) -> T:
    from synaptic_s3.session import SessionManager

    try:
        spec = parse_store_url(args.store)
    except StoreURLError as exc:
        raise CliError(f"--store: {exc}") from None

    async def main() -> T:
        async with spec.open() as store:
            return await work(SessionManager(store))

    return asyncio.run(main())


def _progress(console: Console, enabled: bool) -> Any:
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
    )

    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                    TimeElapsedColumn(), console=console, disable=not enabled, transient=False)


def _show_progress(args: argparse.Namespace, total: int) -> bool:
    return not args.no_progress and total > 1


CONCURRENCY = 8
"""Sessions handled at once by bulk commands (each is several requests on S3)."""


async def _for_each(items: Sequence[str], work: Callable[[str], Awaitable[T]],
                    progress: Any, description: str) -> list[T]:
    """``work`` on every item, at most :data:`CONCURRENCY` at a time, results in order,
    the progress bar advanced as each finishes."""
    task = progress.add_task(description, total=len(items))
    semaphore = asyncio.Semaphore(CONCURRENCY)

    async def one(item: str) -> T:
        async with semaphore:
            result = await work(item)
        progress.advance(task)
        return result

    return list(await asyncio.gather(*(one(item) for item in items)))


# -- commands -----------------------------------------------------------------------------


def cmd_create(args: argparse.Namespace) -> int:
    async def work(manager: SessionManager) -> list[str]:
        return [await manager.create_session() for _ in range(args.count)]

    for session_id in _run_with_manager(args, work):
        print(session_id)
    return 0


def cmd_list(args: argparse.Namespace) -> int:
    async def work(manager: SessionManager) -> list[dict[str, Any]]:
        if args.limit is not None:  # one page: no need to list the whole store
            infos, _ = await manager.list_sessions_page(limit=args.limit)
        else:
            infos = await manager.list_sessions()
        rows = []
        for info in infos:
            row: dict[str, Any] = info.to_dict()
            if args.messages:
                row["messages"] = len(await manager.memory().load(info.id))
            rows.append(row)
        return rows

    rows = _run_with_manager(args, work)
    if args.json:
        print(json.dumps(rows, indent=2, ensure_ascii=False))
        return 0
    from rich.table import Table

    table = Table(title=f"{len(rows)} session(s) in {args.store}", title_justify="left")
    table.add_column("id", no_wrap=True)
    table.add_column("created_at", no_wrap=True)
    if args.messages:
        table.add_column("messages", justify="right")
    for row in rows:
        cells = [row["id"], row["created_at"]]
        if args.messages:
            cells.append(str(row["messages"]))
        table.add_row(*cells)
    _console().print(table)
    return 0


_ROLE_STYLE = {"human": "bold cyan", "assistant": "bold green", "system": "bold magenta",
               "tool": "bold yellow", "chat": "bold blue", "remove": "dim"}


SHOW_PAGE = 1000
"""Messages read per request by ``show``: a long session is printed page by page."""


async def _message_pages(manager: SessionManager, session_id: str, last: int | None
                         ) -> AsyncIterator[tuple[int, list[dict[str, Any]]]]:
    """(total, messages) page by page, oldest first; with ``last`` only the newest
    ``last`` (read backwards in pages, then given oldest first)."""
    memory = manager.memory()
    if last is None:
        start = 0
        while True:
            page = await memory.page(session_id, start=start, limit=SHOW_PAGE)
            yield page.total, [m.to_dict() for m in page.messages]
            if page.end >= page.total or not page.messages:
                return
            start = page.end
    pages: list[list[dict[str, Any]]] = []
    end: int | None = None
    wanted, total = last, 0
    while wanted > 0:
        page = await memory.page_before(session_id, end=end, limit=min(wanted, SHOW_PAGE))
        total = max(total, page.total)
        pages.insert(0, [m.to_dict() for m in page.messages])
        wanted -= len(page.messages)
        if page.start == 0 or not page.messages:
            break
        end = page.start
    for chunk in pages or [[]]:
        yield total, chunk


def cmd_show(args: argparse.Namespace) -> int:
    from synaptic_s3.checkpoint import NAMESPACE as CHECKPOINTS
    from synaptic_s3.checkpoint import CheckpointConfig
    from synaptic_s3.core.errors import NotFoundError

    session_id = args.session_id

    async def work(manager: SessionManager) -> int:
        info = await manager.get_session(session_id)
        if info is None:
            raise NotFoundError("session", session_id)
        summary = await manager.memory().get_summary(session_id)
        pages = _message_pages(manager, session_id, args.last)
        if args.json:
            await _show_json(manager, info.to_dict(), summary, pages)
            return 0
        count = 0
        async for _ in manager.store.iter_keys((CHECKPOINTS, session_id)):
            count += 1
        latest = await manager.checkpointer().get(CheckpointConfig(session_id)) if count \
            else None
        await _show_rich(info.to_dict(), summary, pages, count,
                         latest.to_dict() if latest is not None else None)
        return 0

    return _run_with_manager(args, work)


async def _show_json(manager: SessionManager, info: dict[str, str], summary: str | None,
                     pages: AsyncIterator[tuple[int, list[dict[str, Any]]]]) -> None:
    """The export entry of the session, written as it is read (never whole in memory)."""
    from synaptic_s3.checkpoint import CheckpointConfig

    def dump(value: Any) -> str:
        return json.dumps(value, ensure_ascii=False)

    write = sys.stdout.write
    write('{\n  "session": ' + dump(info) + ',\n  "messages": [')
    first = True
    async for _, messages in pages:
        for message in messages:
            write(("\n    " if first else ",\n    ") + dump(message))
            first = False
    write('\n  ],\n  "summary": ' + dump(summary) + ',\n  "checkpoints": [')
    first, after = True, None
    while True:
        page = await manager.checkpointer().list_page(CheckpointConfig(info["id"]),
                                                      limit=100, after=after)
        for checkpoint in page.checkpoints:
            write(("\n    " if first else ",\n    ") + dump(checkpoint.to_dict()))
            first = False
        if page.next_after is None:
            break
        after = page.next_after
    write("\n  ]\n}\n")


async def _show_rich(info: dict[str, str], summary: str | None,
                     pages: AsyncIterator[tuple[int, list[dict[str, Any]]]],
                     checkpoints: int, latest: dict[str, Any] | None) -> None:
    from rich.markup import escape
    from rich.panel import Panel
    from rich.rule import Rule

    console = _console()
    console.print(Rule(f"session {info['id']}"))
    headed = False
    async for total, messages in pages:
        if not headed:
            console.print(f"created {info['created_at']}  ·  {total} message(s)  ·  "
                          f"{checkpoints} checkpoint(s)")
            if summary is not None:
                console.print(Panel(escape(summary), title="summary", title_align="left"))
            headed = True
        for message in messages:
            _print_message(console, message)
    if latest is not None:
        console.print(f"[dim]latest checkpoint {escape(latest['id'])}"
                      f" (next node: {escape(str(latest.get('next_node')))})[/dim]")


def _print_message(console: Console, message: dict[str, Any]) -> None:
    from rich.markup import escape

    role = message["role"]
    label = message.get("custom_role") if role == "chat" else role
    if role == "remove":
        console.print(f"[dim]- removes message {escape(str(message.get('id')))}[/dim]")
        return
    head = f"[{_ROLE_STYLE.get(role, 'bold')}]{escape(str(label))}[/]"
    if message.get("name"):
        head += f" [dim]({escape(message['name'])})[/dim]"
    if role == "tool":
        head += f" [dim]→ call {escape(str(message.get('tool_call_id')))}[/dim]"
    console.print(head)
    if message.get("content"):
        console.print("  " + escape(message["content"]).replace("\n", "\n  "))
    for call in message.get("tool_calls") or ():
        arguments = json.dumps(call.get("arguments"), ensure_ascii=False)
        console.print(f"  [yellow]⚙ {escape(call.get('name', '?'))}"
                      f"({escape(arguments)})[/yellow] [dim]id={escape(call.get('id', '?'))}"
                      "[/dim]")


def cmd_delete(args: argparse.Namespace) -> int:
    if not args.session_ids and not args.all:
        raise CliError("name the sessions to delete, or pass --all")
    if args.all and not args.yes:
        if not sys.stdin.isatty():
            raise CliError("--all deletes every session: add --yes to confirm")
        answer = input(f"Delete EVERY session in {args.store}? Type 'yes': ")
        if answer.strip() != "yes":
            raise CliError("nothing deleted")
    console = _console(stderr=True)

    async def work(manager: SessionManager) -> tuple[int, list[str]]:
        ids = list(args.session_ids)
        if args.all:
            ids = [info.id for info in await manager.list_sessions()]
        async def delete(session_id: str) -> bool:
            if not args.all and await manager.get_session(session_id) is None:
                return False
            await manager.delete_session(session_id)
            return True

        with _progress(console, _show_progress(args, len(ids))) as progress:
            found = await _for_each(ids, delete, progress, "deleting")
        missing = [sid for sid, ok in zip(ids, found, strict=True) if not ok]
        return len(ids) - len(missing), missing

    deleted, missing = _run_with_manager(args, work)
    for session_id in missing:
        console.print(f"[yellow]no session {session_id}[/yellow]")
    console.print(f"deleted {deleted} session(s)")
    return 1 if missing and not args.all else 0


def cmd_append(args: argparse.Namespace) -> int:
    from synaptic_s3.core.messages import Message

    if args.json is not None or args.file is not None:
        text = args.json
        if args.file is not None:
            text = sys.stdin.read() if args.file == "-" else Path(args.file).read_text("utf-8")
        try:
            data = json.loads(text or "")
        except ValueError as exc:
            raise CliError(f"not valid JSON: {exc}") from None
        items = data.get("messages") if isinstance(data, dict) and "messages" in data else data
        items = items if isinstance(items, list) else [items]
        messages = [Message.from_dict(item) for item in items]
    else:
        if args.content is None:
            raise CliError("give --content TEXT (or --json / --file with wire-format messages)")
        fields: dict[str, Any] = {"role": args.role, "content": args.content}
        if args.tool_call_id:
            fields["tool_call_id"] = args.tool_call_id
        if args.custom_role:
            fields["custom_role"] = args.custom_role
        messages = [Message.from_dict(fields)]

    async def work(manager: SessionManager) -> None:
        if await manager.get_session(args.session_id) is None:
            from synaptic_s3.core.errors import NotFoundError

            raise NotFoundError("session", args.session_id)
        await manager.memory().append_many(args.session_id, messages)

    _run_with_manager(args, work)
    for message in messages:
        print(message.id)
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from synaptic_s3.cli.transfer import envelope, export_session

    if not args.session_ids and not args.all:
        raise CliError("name the sessions to export, or pass --all")
    console = _console(stderr=True)

    async def work(manager: SessionManager) -> list[dict[str, Any]]:
        ids = list(args.session_ids)
        if args.all:
            ids = [info.id for info in await manager.list_sessions()]
        with _progress(console, _show_progress(args, len(ids))) as progress:
            return await _for_each(ids, lambda sid: export_session(manager, sid), progress,
                                   "exporting")

    document = envelope(_run_with_manager(args, work))
    text = json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    if args.output in (None, "-"):
        sys.stdout.write(text)
    else:
        Path(args.output).write_text(text, encoding="utf-8")
        console.print(f"exported {len(document['sessions'])} session(s) to {args.output}")
    return 0


def _read_export(name: str) -> Any:
    """The parsed JSON of an export file (``-``: standard input), or a CliError that
    says what is wrong with it: missing, a directory, not UTF-8, not JSON, too deep."""
    try:
        data = sys.stdin.buffer.read() if name == "-" else Path(name).read_bytes()
    except IsADirectoryError:
        raise CliError(f"{name}: is a directory, not an export file") from None
    except FileNotFoundError:
        raise CliError(f"{name}: no such file") from None
    except OSError as exc:
        raise CliError(f"{name}: cannot read it: {exc.strerror or exc}") from None
    try:
        return json.loads(data.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise CliError(f"{name}: not UTF-8 text (byte {exc.start})") from None
    except RecursionError:
        raise CliError(f"{name}: JSON nested too deeply to be an export") from None
    except ValueError as exc:
        raise CliError(f"{name}: not valid JSON: {exc}") from None


def cmd_import(args: argparse.Namespace) -> int:
    from synaptic_s3.cli.transfer import import_session, parse_export, prepare_export
    from synaptic_s3.core.errors import SynapticError

    document = _read_export(args.file)
    try:  # the whole file, before the first write
        prepared = prepare_export(parse_export(document))
    except ValueError as exc:
        raise CliError(f"{args.file}: {exc}; nothing was imported") from None
    console = _console(stderr=True)

    async def work(manager: SessionManager) -> tuple[list[tuple[str, str]], list[str]]:
        done: list[tuple[str, str]] = []
        failed: list[str] = []
        with _progress(console, _show_progress(args, len(prepared))) as progress:
            task = progress.add_task("importing", total=len(prepared))
            for session in prepared:
                old = session.info.id
                try:
                    done.append((old, await import_session(manager, session,
                                                           new_id=args.new_ids)))
                except (SynapticError, ValueError) as exc:
                    failed.append(f"{old}: {exc}")
                progress.advance(task)
        return done, failed

    done, failed = _run_with_manager(args, work)
    for old, new in done:
        print(new if old == new else f"{old} -> {new}")
    for problem in failed:
        console.print(f"[red]not imported: {problem}[/red]")
    console.print(f"imported {len(done)} of {len(prepared)} session(s)")
    if failed:
        console.print("running the same import again finishes what it started")
    return 1 if failed else 0


def cmd_serve(args: argparse.Namespace) -> int:
    try:
        import aws_lambda_powertools  # noqa: F401
    except ImportError:
        raise CliError("serve needs the service extra: pip install 'synaptic-s3[service]'"
                       ) from None
    from synaptic_s3.cli.server import serve

    if args.s3_emulator and args.store_given:
        raise CliError("--s3-emulator and --store exclude each other")
    try:
        serve(store_url=args.store, host=args.host, port=args.port,
              s3_emulator=args.s3_emulator, isolation=args.isolation,
              max_body_bytes=args.max_body_bytes, verbose=args.verbose)
    except OSError as exc:
        raise CliError(f"cannot listen on {args.host}:{args.port}: {exc.strerror or exc}"
                       ) from None
    except StoreURLError as exc:
        raise CliError(f"--store: {exc}") from None
    return 0


def cmd_console(args: argparse.Namespace) -> int:
    from synaptic_s3.console.server import serve_console

    try:
        spec = parse_store_url(args.store)
    except StoreURLError as exc:
        raise CliError(f"--store: {exc}") from None
    try:
        serve_console(spec, host=args.host, port=args.port, allow_writes=args.allow_writes,
                      verbose=args.verbose)
    except OSError as exc:
        raise CliError(f"cannot listen on {args.host}:{args.port}: {exc.strerror or exc}"
                       ) from None
    return 0


# -- the parser -----------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    default_store = os.environ.get("SYNAPTIC_STORE_URL") or DEFAULT_STORE_URL
    store_help = f"where sessions live (default: {default_store})"
    # Before or after the command name; SUPPRESS keeps a subcommand from resetting it.
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--store", metavar="URL", default=argparse.SUPPRESS, help=store_help)
    parser = argparse.ArgumentParser(
        prog="synaptic-s3",
        description="Operate LLM-agent sessions kept in S3 (or local files), and serve "
        "their HTTP API locally.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    from synaptic_s3 import __version__

    parser.add_argument("--store", metavar="URL", default=None, help=store_help)
    parser.add_argument("--version", action="version", version=f"synaptic-s3 {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    def add(name: str, handler: Callable[[argparse.Namespace], int], help_text: str,
            description: str | None = None) -> argparse.ArgumentParser:
        command = sub.add_parser(name, parents=[common], help=help_text,
                                 description=description or help_text,
                                 formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog=EPILOG.split("\n\n")[0])
        command.set_defaults(handler=handler)
        return command

    create = add("create", cmd_create, "create a session and print its id")
    create.add_argument("--count", type=_positive, default=1, help="how many (default 1)")

    listing = add("list", cmd_list, "list sessions, oldest first, as a table")
    listing.add_argument("--limit", type=_positive, help="show at most N sessions")
    listing.add_argument("--messages", action="store_true",
                         help="count each session's messages (one read per session)")
    listing.add_argument("--json", action="store_true", help="print JSON instead of a table")

    show = add("show", cmd_show, "print a session's conversation, readably",
               "Print a session: its summary, its messages (roles, tool calls) and its "
               "latest checkpoint.")
    show.add_argument("session_id", metavar="SESSION_ID")
    show.add_argument("--last", type=_non_negative, metavar="N", help="only the newest N messages")
    show.add_argument("--json", action="store_true",
                      help="print the session as JSON (the export format of one session)")

    delete = add("delete", cmd_delete, "delete sessions and everything they own",
                 "Delete sessions: messages, summary, checkpoints and metadata.")
    delete.add_argument("session_ids", nargs="*", metavar="SESSION_ID")
    delete.add_argument("--all", action="store_true", help="delete EVERY session in the store")
    delete.add_argument("--yes", action="store_true", help="do not ask before --all")
    delete.add_argument("--no-progress", action="store_true", help="no progress bar")

    append = add("append", cmd_append, "append messages to a session",
                 "Append one message (--role/--content) or wire-format messages "
                 "(--json, --file: one object, a list, or {\"messages\": [...]}). "
                 "Prints the ids of the messages.")
    append.add_argument("session_id", metavar="SESSION_ID")
    append.add_argument("--role", default="human",
                        choices=["human", "assistant", "system", "tool", "chat"],
                        help="role of the message (default human)")
    append.add_argument("--content", metavar="TEXT", help="the message text")
    append.add_argument("--tool-call-id", help="for --role tool: the call it answers")
    append.add_argument("--custom-role", help="for --role chat: the role's name")
    append.add_argument("--json", metavar="JSON", help="wire-format message(s) as JSON text")
    append.add_argument("--file", metavar="PATH", help="wire-format message(s) from a file, "
                        "or - for standard input")

    export = add("export", cmd_export, "export sessions as JSON",
                 "Export sessions (metadata, messages, summary, checkpoints) as one JSON "
                 "document, to a file or standard output.")
    export.add_argument("session_ids", nargs="*", metavar="SESSION_ID")
    export.add_argument("--all", action="store_true", help="export every session")
    export.add_argument("-o", "--output", metavar="FILE", help="write here (default: stdout)")
    export.add_argument("--no-progress", action="store_true", help="no progress bar")

    imp = add("import", cmd_import, "import sessions from an export",
              "Import the sessions of an export document. Each keeps its id (a session "
              "that already exists is reported and skipped) unless --new-ids.")
    imp.add_argument("file", metavar="FILE", help="an export document, or - for stdin")
    imp.add_argument("--new-ids", action="store_true", help="import as new sessions")
    imp.add_argument("--no-progress", action="store_true", help="no progress bar")

    serve = add("serve", cmd_serve, "serve the HTTP API on 127.0.0.1",
                "Serve the HTTP API through the Lambda handler itself, on this machine, "
                "backed by --store (default local files) or by an S3 emulator.")
    serve.add_argument("--host", default="127.0.0.1", help="address (default 127.0.0.1)")
    serve.add_argument("--port", type=_port, default=8080, help="port (default 8080; 0 = any)")
    serve.add_argument("--s3-emulator", action="store_true",
                       help="start a local S3 (moto) and keep sessions there (in memory)")
    serve.add_argument("--isolation", choices=["none", "jwt"], default="none",
                       help="jwt: per-user data by the 'sub' of a Bearer token (NOT "
                       "verified locally)")
    serve.add_argument("--max-body-bytes", type=_positive, help="request body limit "
                       "(default 1 MiB)")
    serve.add_argument("--verbose", action="store_true",
                       help="access log and the handler's JSON logs")
    console = add("console", cmd_console, "browse sessions in a web page (read-only)",
                  "Serve a web console on 127.0.0.1: sessions, conversations and checkpoints "
                  "of --store. Read-only unless --allow-writes (delete, fork).")
    console.add_argument("--host", default="127.0.0.1", help="address (default 127.0.0.1)")
    console.add_argument("--port", type=_port, default=8090, help="port (default 8090; 0 = any)")
    console.add_argument("--allow-writes", action="store_true",
                         help="offer delete (and fork) behind a confirmation")
    console.add_argument("--verbose", action="store_true", help="access log")
    return parser


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def _non_negative(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError("must not be negative")
    return value


def _port(text: str) -> int:
    value = int(text)
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError("must be 0..65535")
    return value


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    args.store_given = args.store is not None
    if args.store is None:
        args.store = os.environ.get("SYNAPTIC_STORE_URL") or DEFAULT_STORE_URL
    from synaptic_s3.core.errors import NotFoundError, SynapticError

    try:
        return int(args.handler(args))
    except CliError as exc:
        print(f"synaptic-s3: {exc}", file=sys.stderr)
    except NotFoundError as exc:
        print(f"synaptic-s3: {exc}", file=sys.stderr)
    except SynapticError as exc:
        print(f"synaptic-s3: {type(exc).__name__}: {exc}", file=sys.stderr)
    except FileNotFoundError as exc:
        print(f"synaptic-s3: {exc.filename}: no such file", file=sys.stderr)
    except BrokenPipeError:  # e.g. `synaptic-s3 export --all | head`
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 1
    except KeyboardInterrupt:
        print("synaptic-s3: interrupted", file=sys.stderr)
        return 130
    return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
