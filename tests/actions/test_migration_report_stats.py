"""Migration 0006_report_stats (the reports' stored message counts): up, down, up again on SQLite and
PostgreSQL, the migrated schema matches the models, and the upgrade counts the closed conversations
already there."""
from __future__ import annotations

from datetime import UTC, datetime

from alembic import command
from sqlalchemy import insert, text

from frontdesk.models import Conversation, Message, Operator, Site, Visitor
from tests.migrations import migrating, tables_round_trip

TABLES = {"conversation_stats", "conversation_operator_stats"}


def _mine(diff: object) -> bool:
    return any(t in repr(diff) for t in (*TABLES, "ix_outbox_site_kind_created"))


async def test_migration_0006_goes_up_and_down_and_matches_the_models(tmp_path, database_url):
    await tables_round_trip(tmp_path, database_url, TABLES, _mine, "0005_departments")


async def test_the_upgrade_counts_the_closed_conversations_already_there(tmp_path, database_url):
    engine, alembic = migrating(tmp_path, database_url)

    t = datetime(2026, 11, 2, 10, tzinfo=UTC)
    try:
        await alembic(command.upgrade, "0005_departments")
        async with engine.begin() as conn:   # the models' tables but ours are those of 0005_departments
            await conn.execute(insert(Site), [{"id": 1, "site_key": "k", "name": "S"}])
            await conn.execute(insert(Operator), [{"id": 7, "email": "a@x", "name": "A", "password_hash": "x"}])
            await conn.execute(insert(Visitor), [{"id": v, "site_id": 1, "token_hash": f"{v:064d}"} for v in (1, 2)])
            # 1: closed, 2 visitor + 1 operator message + a note; 2: open (counted live, not stored)
            await conn.execute(insert(Conversation), [
                {"id": 1, "site_id": 1, "visitor_id": 1, "status": "closed", "last_seq": 4, "created_at": t,
                 "closed_at": t},
                {"id": 2, "site_id": 1, "visitor_id": 2, "status": "open", "last_seq": 1, "created_at": t,
                 "closed_at": None}])
            await conn.execute(insert(Message), [
                {"conversation_id": c, "seq": q, "kind": k, "sender": "x", "author_operator_id": a, "text": "hi",
                 "created_at": t}
                for c, q, k, a in ((1, 1, "visitor", None), (1, 2, "operator", 7), (1, 3, "note", 7),
                                   (1, 4, "visitor", None), (2, 1, "visitor", None))])
        await alembic(command.upgrade, "head")
        async with engine.connect() as conn:
            stats = (await conn.execute(text("SELECT conversation_id, last_seq, visitor_messages, operator_messages "
                                             "FROM conversation_stats"))).all()
            per_op = (await conn.execute(text("SELECT conversation_id, operator_id, messages "
                                              "FROM conversation_operator_stats"))).all()
        assert [tuple(r) for r in stats] == [(1, 4, 2, 1)]
        assert [tuple(r) for r in per_op] == [(1, 7, 1)]
    finally:
        await engine.dispose()
