"""Migration 0005_departments: up, down, up again on SQLite and PostgreSQL, and the migrated schema
matches the models."""
from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from frontdesk.models import Base
from tests.migrations import migrating

TABLES = {"departments", "department_members", "site_routing", "operator_routing"}


def _mine(diff: object) -> bool:
    return any(t in repr(diff) for t in (*TABLES, "department_id"))


async def test_migration_0005_goes_up_and_down_and_matches_the_models(tmp_path, database_url):
    engine, alembic = migrating(tmp_path, database_url)

    def schema(sync_conn) -> tuple[set, set]:
        insp = inspect(sync_conn)
        return set(insp.get_table_names()), {c["name"] for c in insp.get_columns("conversations")}

    try:
        await alembic(command.upgrade, "head")
        async with engine.connect() as conn:
            tables, columns = await conn.run_sync(schema)
            diffs = await conn.run_sync(lambda c: compare_metadata(MigrationContext.configure(c), Base.metadata))
        assert TABLES <= tables and "department_id" in columns
        assert [d for d in diffs if _mine(d)] == []
        await alembic(command.downgrade, "0004_team")
        async with engine.connect() as conn:
            tables, columns = await conn.run_sync(schema)
        assert not TABLES & tables and "department_id" not in columns and "transfers" in tables
        await alembic(command.upgrade, "head")
        async with engine.connect() as conn:
            tables, columns = await conn.run_sync(schema)
        assert TABLES <= tables and "department_id" in columns
    finally:
        await engine.dispose()
