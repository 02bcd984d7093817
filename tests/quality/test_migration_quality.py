"""Migration 0005_quality (coach scores per conversation and criterion, per-site coach settings): up, down, up
again on SQLite and PostgreSQL, and the migrated schema matches the models."""
from __future__ import annotations

from tests.migrations import tables_round_trip

TABLES = {"conversation_quality", "quality_criteria", "site_quality_settings"}


def _mine(diff: object) -> bool:
    return any(t in repr(diff) for t in (*TABLES, "ix_conversations_status_closed", "ix_messages_conversation_kind"))


async def test_migration_0005_goes_up_and_down_and_matches_the_models(tmp_path, database_url):
    await tables_round_trip(tmp_path, database_url, TABLES, _mine, "0004_team")
