"""What the migration tests share: alembic on a real database (SQLite or PostgreSQL), the table names
it holds, and the differences between the migrated schema and the models."""
from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect
from sqlalchemy.ext.asyncio import AsyncEngine

from frontdesk import db
from frontdesk.migrate import alembic_config
from frontdesk.models import Base
from frontdesk.settings import Settings


def migrating(tmp_path, database_url: str | None) -> tuple[AsyncEngine, Callable[..., Awaitable[None]]]:
    """An engine on a fresh database and ``alembic(command.upgrade, "head")``-style calls run on it."""
    engine = db.create_engine(Settings(data_dir=tmp_path, database_url=database_url).resolved_database_url())
    cfg = alembic_config()

    async def alembic(fn: Callable[..., object], *args: object) -> None:
        def run(sync_conn: object) -> None:
            cfg.attributes["connection"] = sync_conn
            fn(cfg, *args)

        async with engine.begin() as conn:
            await conn.run_sync(run)

    return engine, alembic


async def tables_round_trip(tmp_path, database_url: str | None, tables: set[str],
                            mine: Callable[[object], bool], down_to: str) -> None:
    """Up to head (``tables`` there, no model difference that ``mine`` claims), down to ``down_to``
    (none of ``tables`` left), up again (all back)."""
    engine, alembic = migrating(tmp_path, database_url)

    async def present() -> set[str]:
        async with engine.connect() as conn:
            return await conn.run_sync(lambda c: set(inspect(c).get_table_names()))

    try:
        await alembic(command.upgrade, "head")
        assert tables <= await present()
        async with engine.connect() as conn:
            diffs: Iterable[object] = await conn.run_sync(
                lambda c: compare_metadata(MigrationContext.configure(c), Base.metadata))
        assert [d for d in diffs if mine(d)] == []
        await alembic(command.downgrade, down_to)
        assert not tables & await present()
        await alembic(command.upgrade, "head")
        assert tables <= await present()
    finally:
        await engine.dispose()
