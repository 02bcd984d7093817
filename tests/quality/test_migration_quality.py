"""Migration 0005_quality (coach scores per conversation and criterion, per-site coach settings): up, down, up
again on SQLite and PostgreSQL, and the migrated schema matches the models."""
from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from frontdesk import db
from frontdesk.migrate import alembic_config
from frontdesk.models import Base
from frontdesk.settings import Settings

TABLES = {"conversation_quality", "quality_criteria", "site_quality_settings"}


def _mine(diff: object) -> bool:
    return any(t in repr(diff) for t in (*TABLES, "ix_conversations_status_closed", "ix_messages_conversation_kind"))


async def test_migration_0005_goes_up_and_down_and_matches_the_models(tmp_path, database_url):
    engine = db.create_engine(Settings(data_dir=tmp_path, database_url=database_url).resolved_database_url())
    cfg = alembic_config()

    async def alembic(fn, *args) -> None:
        def run(sync_conn) -> None:
            cfg.attributes["connection"] = sync_conn
            fn(cfg, *args)

        async with engine.begin() as conn:
            await conn.run_sync(run)

    async def tables() -> set[str]:
        async with engine.connect() as conn:
            return await conn.run_sync(lambda c: set(inspect(c).get_table_names()))

    try:
        await alembic(command.upgrade, "head")
        assert TABLES <= await tables()
        async with engine.connect() as conn:
            diffs = await conn.run_sync(lambda c: compare_metadata(MigrationContext.configure(c), Base.metadata))
        assert [d for d in diffs if _mine(d)] == []
        await alembic(command.downgrade, "0004_team")
        assert not TABLES & await tables()
        await alembic(command.upgrade, "head")
        assert TABLES <= await tables()
    finally:
        await engine.dispose()
