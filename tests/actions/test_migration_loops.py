"""Migration 0007_loops (the loops' next offer repeat and indexes): up, down, up again on SQLite and
PostgreSQL, and the migrated schema matches the models."""
from __future__ import annotations

from sqlalchemy import inspect

from frontdesk import db
from frontdesk.settings import Settings
from tests.migrations import tables_round_trip

NAMES = ("next_offer_at", "ix_conversations_waiting_offer", "ix_conversations_open_last_message")


def _mine(diff: object) -> bool:
    return any(n in repr(diff) for n in NAMES)


async def test_migration_0007_goes_up_and_down_and_matches_the_models(tmp_path, database_url):
    await tables_round_trip(tmp_path, database_url, set(), _mine, "0006_report_stats")
    engine = db.create_engine(Settings(data_dir=tmp_path, database_url=database_url).resolved_database_url())
    try:
        async with engine.connect() as conn:
            columns, indexes = await conn.run_sync(lambda c: (
                {col["name"] for col in inspect(c).get_columns("conversations")},
                {ix["name"] for ix in inspect(c).get_indexes("conversations")}))
    finally:
        await engine.dispose()
    assert "next_offer_at" in columns and set(NAMES[1:]) <= indexes
