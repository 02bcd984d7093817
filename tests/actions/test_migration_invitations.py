"""Migration 0005_invitations (rules, their records, manual invitations, conversation origin): up, down, up
again on SQLite and PostgreSQL, and the migrated schema matches the models."""
from __future__ import annotations

from tests.migrations import tables_round_trip

TABLES = {"invitation_rules", "invitation_events", "manual_invitations"}


def _mine(diff: object) -> bool:
    return any(t in repr(diff) for t in (*TABLES, "origin", "invitation_rule_id", "invitation_name"))


async def test_migration_0005_goes_up_and_down_and_matches_the_models(tmp_path, database_url):
    await tables_round_trip(tmp_path, database_url, TABLES, _mine, "0004_team")
