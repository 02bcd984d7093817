"""The `frontdesk` command: serve, migrate, create-operator, create-site."""
from __future__ import annotations

import argparse
import asyncio
import getpass
import json
import logging
import os
import sys
from pathlib import Path
from typing import NoReturn

from frontdesk.settings import Settings


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:  # one line on stderr, exit 2 (the contract)
        print(f"frontdesk: {message}", file=sys.stderr)
        raise SystemExit(2)


def _settings(args: argparse.Namespace) -> Settings:
    overrides = {}
    for name in ("data_dir", "host", "port", "database_url"):
        value = getattr(args, name, None)
        if value is not None:
            overrides[name] = value
    if getattr(args, "demo", False):
        overrides["demo"] = True
    return Settings(**overrides)


async def _with_db(settings: Settings, fn):  # noqa: ANN001, ANN202
    from frontdesk import db, migrate

    engine = db.create_engine(settings.resolved_database_url())
    try:
        await migrate.upgrade(engine)
        async with db.session_factory(engine)() as session, session.begin():
            return await fn(session)
    finally:
        await engine.dispose()


def cmd_migrate(args: argparse.Namespace) -> int:
    settings = _settings(args)

    async def noop(_session):  # noqa: ANN001, ANN202
        return None

    asyncio.run(_with_db(settings, noop))
    print("database is up to date")
    return 0


def cmd_create_operator(args: argparse.Namespace) -> int:
    from frontdesk.actions.operators import add_operator

    password = args.password
    if password is None:
        if not sys.stdin.isatty():
            password = sys.stdin.readline().rstrip("\n")
        else:
            password = getpass.getpass("Password: ")
    settings = _settings(args)

    async def create(session):  # noqa: ANN001, ANN202
        op = await add_operator(session, email=args.email, name=args.name, password=password, admin=args.admin)
        return op.id

    op_id = asyncio.run(_with_db(settings, create))
    print(f"operator {op_id} created: {args.email}{' (admin)' if args.admin else ''}")
    return 0


def cmd_create_site(args: argparse.Namespace) -> int:
    from frontdesk.actions.sites import add_site

    settings = _settings(args)

    async def create(session):  # noqa: ANN001, ANN202
        site = await add_site(session, name=args.name, origins=args.origin, notify=args.notify)
        return site.site_key

    key = asyncio.run(_with_db(settings, create))
    base = settings.public_url.rstrip("/") or f"http://{settings.host}:{settings.port}"
    print(f"site created; embed it with:\n"
          f'<script src="{base}/widget.js" data-site="{key}" async></script>')
    print(key)
    if not args.origin:
        print("frontdesk: WARNING: no --origin given: this site's widget works on ANY web site, and anyone can "
              "chat in its name. Add your site's addresses (--origin https://your.site) or set them in the panel "
              "(Sites).", file=sys.stderr)
    return 0


def _one_line_for_bad_input(record: logging.LogRecord) -> bool:
    """A client's invalid UTF-8 is the client's error: one line in the log, not a stack trace."""
    if record.exc_info and str(record.msg).startswith("Invalid UTF-8"):
        record.exc_info = None
        record.exc_text = None
    return True


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from frontdesk.app import build_app

    settings = _settings(args)
    # Absolute from here on: a relative --data-dir (or the default ./frontdesk-data) follows the current
    # directory, and a start from another folder would silently make a second, empty installation.
    settings.data_dir = settings.data_dir.expanduser().resolve()
    fresh = _is_new_installation(settings)
    existed = settings.data_dir.exists()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    if not existed or fresh:
        settings.data_dir.chmod(0o700)
    settings.resolved_secret_key()
    _announce_data_dir(settings, fresh)
    app = build_app(settings)
    base = settings.public_url.rstrip("/") or f"http://{settings.host}:{settings.port}"

    logging.getLogger("uvicorn.error").addFilter(_one_line_for_bad_input)
    trusted = [p.strip() for p in settings.trusted_proxies.split(",") if p.strip()]
    config = uvicorn.Config(app, host=settings.host, port=settings.port, log_level=settings.log_level,
                            ws_max_size=settings.ws_max_frame, ws_per_message_deflate=False,
                            # X-Forwarded-For only from the configured proxies (uvicorn's own
                            # default would trust it from 127.0.0.1)
                            proxy_headers=bool(trusted), forwarded_allow_ips=trusted or None, lifespan="on",
                            # a reconnect storm: connections wait in the accept queue instead of being
                            # dropped (a dropped SYN is retried by the client's kernel 1, 3, 7 s later);
                            # the kernel caps it at net.core.somaxconn
                            backlog=8192)
    server = uvicorn.Server(config)

    async def run() -> int:
        task = asyncio.create_task(server.serve())
        while not server.started and not task.done():
            await asyncio.sleep(0.05)
        if server.started:
            _announce(settings, base, fresh)
        await task
        return 0

    try:
        with asyncio.Runner(loop_factory=_loop_factory()) as runner:
            return runner.run(run())
    except SystemExit:  # uvicorn's startup failure: port in use, or the app failed to start
        if server.started:
            raise
    print(f"frontdesk: could not start on {settings.host}:{settings.port} (see the log above)", file=sys.stderr)
    return 1


def _loop_factory():  # noqa: ANN202
    """uvloop when installed (it is, with uvicorn[standard]): ≈ 1.5-2× the stdlib loop for sockets.
    uvicorn picks it only in its own ``run()``; we drive ``Server.serve()`` ourselves."""
    try:
        import uvloop
    except ImportError:
        return None
    return uvloop.new_event_loop


def _is_new_installation(settings: Settings) -> bool:
    """Nothing of an installation in the data directory yet: no secret key, no SQLite database."""
    d = settings.data_dir
    return not (d / "secret_key").exists() and not (d / "frontdesk.db").exists()


def _database_label(settings: Settings) -> str:
    if not settings.database_url:
        return f"SQLite {settings.data_dir / 'frontdesk.db'}"
    from sqlalchemy.engine import make_url

    try:
        return make_url(settings.database_url).render_as_string(hide_password=True)
    except Exception:  # noqa: BLE001 - the engine will say what is wrong with it
        return "(unreadable FRONTDESK_DATABASE_URL)"


def _announce_data_dir(settings: Settings, fresh: bool) -> None:
    print(f"frontdesk data directory: {settings.data_dir}", flush=True)
    print(f"  database: {_database_label(settings)}", flush=True)
    if fresh:
        print("  a new installation was created there. To use it again, start from the same folder or pass "
              f"--data-dir {settings.data_dir} (or set FRONTDESK_DATA_DIR).", flush=True)


def _announce(settings: Settings, base: str, fresh: bool = False) -> None:
    print(f"frontdesk is running at {base}", flush=True)
    print(f"  operator panel: {base}/panel/", flush=True)
    demo_file = Path(settings.data_dir) / "demo.json"
    if settings.demo and demo_file.exists():
        info = json.loads(demo_file.read_text())
        print(f"  demo shop page: {base}/demo/", flush=True)
        print(f"  admin:    {info['admin_email']} / {info.get('admin_password', '(set earlier)')}", flush=True)
        print(f"  operator: {info['operator_email']} / {info.get('operator_password', '(set earlier)')}", flush=True)
        if fresh and info.get("started_online"):
            print("  both start online, so the demo shop shows the live chat; set yourself offline in the panel "
                  "and it shows the offline form.", flush=True)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="frontdesk", description="Self-hosted online consultant (live chat).")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    def common(p: argparse.ArgumentParser) -> None:
        p.add_argument("--data-dir", type=Path, help="data directory (FRONTDESK_DATA_DIR)")
        p.add_argument("--database-url", help="database URL (FRONTDESK_DATABASE_URL)")

    p = sub.add_parser("serve", help="migrate if needed, then serve HTTP + WebSocket")
    common(p)
    p.add_argument("--host", help="listen address (FRONTDESK_HOST, default 127.0.0.1)")
    p.add_argument("--port", type=int, help="listen port (FRONTDESK_PORT, default 8000)")
    p.add_argument("--demo", action="store_true", help="create the demo site and users, serve /demo/")
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("migrate", help="apply database migrations and exit")
    common(p)
    p.set_defaults(func=cmd_migrate)

    p = sub.add_parser("create-operator", help="create an operator")
    common(p)
    p.add_argument("--email", required=True)
    p.add_argument("--name", required=True)
    p.add_argument("--password", help="prompted for (or read from stdin) when absent")
    p.add_argument("--admin", action="store_true", help="give the admin role")
    p.set_defaults(func=cmd_create_operator)

    p = sub.add_parser("create-site", help="create a site; prints its site_key on the last line")
    common(p)
    p.add_argument("--name", required=True)
    p.add_argument("--origin", action="append", default=[], help="allowed widget origin (repeatable)")
    p.add_argument("--notify", action="append", default=[], help="e-mail for offline messages (repeatable)")
    p.set_defaults(func=cmd_create_site)
    return parser


def main(argv: list[str] | None = None) -> int:
    from frontdesk.actions import ActionError

    args = build_parser().parse_args(argv)
    # Everything frontdesk writes (the data directory, the SQLite database and its -wal/-shm files,
    # the secret key, photos, demo.json) holds personal data or secrets: readable by its owner only,
    # whatever the shell's umask (022 would make them world-readable).
    os.umask(0o077)
    try:
        return args.func(args)
    except ActionError as exc:
        print(f"frontdesk: {exc.message}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 0
    except Exception as exc:
        if args.command == "serve":
            raise
        print(f"frontdesk: {exc.__class__.__name__}: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
