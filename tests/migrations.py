"""What the migration tests share: alembic on a real database (SQLite or PostgreSQL), the table names
it holds, and the differences between the migrated schema and the models."""
from __future__ import annotations

from collections.abc import Callable, Iterable

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from frontdesk import db
from frontdesk.migrate import alembic_config
from frontdesk.models import Base
from frontdesk.settings import Settings


async def tables_round_trip(tmp_path, database_url: str | None, tables: set[str],
                            mine: Callable[[object], bool], down_to: str) -> None:
    """Up to head (``tables`` there, no model difference that ``mine`` claims), down to ``down_to``
    (none of ``tables`` left), up again (all back)."""
    engine = db.create_engine(Settings(data_dir=tmp_path, database_url=database_url).resolved_database_url())
    cfg = alembic_config()

    async def alembic(fn, *args) -> None:
        def run(sync_conn) -> None:
            cfg.attributes["connection"] = sync_conn
            fn(cfg, *args)

        async with engine.begin() as conn:
            await conn.run_sync(run)

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
