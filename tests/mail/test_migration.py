"""Migration 0002 (site working hours, e-mail outbox): up, down, up again on SQLite and PostgreSQL,
and the migrated schema matches the models."""
from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from frontdesk.models import Base
from tests.migrations import migrating


def _mine(diff: object) -> bool:
    text = repr(diff)
    return "outbox" in text or "'hours'" in text


async def test_migration_0002_goes_up_and_down_and_matches_the_models(tmp_path, database_url):
    engine, alembic = migrating(tmp_path, database_url)

    def schema(sync_conn) -> tuple[set, set]:
        insp = inspect(sync_conn)
        return set(insp.get_table_names()), {c["name"] for c in insp.get_columns("sites")}

    try:
        await alembic(command.upgrade, "head")
        async with engine.connect() as conn:
            tables, site_columns = await conn.run_sync(schema)
            diffs = await conn.run_sync(lambda c: compare_metadata(MigrationContext.configure(c), Base.metadata))
        assert "outbox" in tables and "hours" in site_columns
        assert [d for d in diffs if _mine(d)] == []

        await alembic(command.downgrade, "0001")
        async with engine.connect() as conn:
            tables, site_columns = await conn.run_sync(schema)
        assert "outbox" not in tables and "hours" not in site_columns and "messages" in tables

        await alembic(command.upgrade, "head")
        async with engine.connect() as conn:
            tables, site_columns = await conn.run_sync(schema)
        assert "outbox" in tables and "hours" in site_columns
    finally:
        await engine.dispose()
