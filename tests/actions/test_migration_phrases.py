"""Migration 0004_phrases (quick phrases, usage, hotkeys, spell-check dictionaries): up, down, up
again on SQLite and PostgreSQL, and the migrated schema matches the models."""
from __future__ import annotations

from tests.migrations import tables_round_trip

TABLES = {"phrases", "phrase_usage", "phrase_hotkeys", "spell_words"}


def _mine(diff: object) -> bool:
    return any(t in repr(diff) for t in TABLES)


async def test_migration_0004_goes_up_and_down_and_matches_the_models(tmp_path, database_url):
    await tables_round_trip(tmp_path, database_url, TABLES, _mine, "0003")
