"""Migration 0005_phrases2 (the automatic holding line's claim columns, the operators' phrase settings):
up, down, up again on SQLite and PostgreSQL, and the migrated schema matches the models."""
from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from frontdesk.models import Base
from tests.migrations import migrating

COLUMNS = {"assigned_at", "auto_hold_seq"}


def _mine(diff: object) -> bool:
    text = repr(diff)
    return "operator_phrase_settings" in text or any(c in text for c in COLUMNS)


async def test_migration_0005_phrases2_goes_up_and_down_and_matches_the_models(tmp_path, database_url):
    engine, alembic = migrating(tmp_path, database_url)

    async def schema() -> tuple[set[str], set[str]]:
        async with engine.connect() as conn:
            return await conn.run_sync(lambda c: (set(inspect(c).get_table_names()),
                                                  {col["name"] for col in inspect(c).get_columns("conversations")}))

    try:
        await alembic(command.upgrade, "head")
        tables, columns = await schema()
        assert "operator_phrase_settings" in tables and COLUMNS <= columns
        async with engine.connect() as conn:
            diffs = await conn.run_sync(lambda c: compare_metadata(MigrationContext.configure(c), Base.metadata))
        assert [d for d in diffs if _mine(d)] == []
        await alembic(command.downgrade, "0004_team")
        tables, columns = await schema()
        assert "operator_phrase_settings" not in tables and not COLUMNS & columns
        await alembic(command.upgrade, "head")
        tables, columns = await schema()
        assert "operator_phrase_settings" in tables and COLUMNS <= columns
    finally:
        await engine.dispose()
