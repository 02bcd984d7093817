"""A committed fixture of conversations with known statistics (docs/reports.md), for
tests/actions/test_reports.py. Times are local to Europe/Moscow (UTC+3, no DST)."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from frontdesk.models import (
    Conversation,
    ConversationRating,
    Department,
    Message,
    Operator,
    Site,
    SiteMember,
    Visitor,
)

MSK = ZoneInfo("Europe/Moscow")
PERIOD = ("2026-11-02", "2026-11-05")   # [from, to): 2, 3 and 4 November; previous: 30 Oct .. 1 Nov


def local(s: str) -> datetime:
    return datetime.fromisoformat(s).replace(tzinfo=MSK).astimezone(UTC)


# (started local, site, operator, first reply after s, closed after s, visitor msgs, operator msgs, notes, rating)
CONVERSATIONS = [
    ("2026-11-02 10:00", "shop", "anna", 30, 600, 2, 2, 1, (5, "Всё отлично")),
    ("2026-11-03 01:00", "shop", "boris", 90, 1200, 1, 1, 0, (3, None)),   # 2 Nov 22:00 UTC: a local day later
    ("2026-11-03 12:00", "shop", None, None, 300, 1, 0, 0, None),          # missed: closed without a reply
    ("2026-11-04 09:00", "shop", "anna", 10, None, 2, 1, 0, None),         # still open
    ("2026-11-04 15:00", "shop", None, None, None, 1, 0, 0, None),         # missed: still waiting
    ("2026-11-04 16:00", "shop", "anna", 200, 1000, 1, 3, 0, (4, None)),
    ("2026-11-05 00:30", "shop", "anna", 5, 50, 1, 1, 0, (1, None)),       # after the period (4 Nov 21:30 UTC)
    ("2026-11-01 23:59", "shop", "boris", 60, 120, 1, 1, 0, (1, None)),     # the previous period
    ("2026-11-03 12:00", "other", "anna", 5, 10, 1, 1, 0, (1, None)),       # another site
    ("2026-11-03 13:00", "shop", None, None, None, 0, 0, 0, None),          # never announced: no message
]

EXPECTED_SUMMARY = {
    "conversations": 6, "accepted": 4, "missed": 2, "closed": 4, "accepted_share": 0.667,
    # first responses 10, 30, 90, 200: nearest rank ⌈0.5·4⌉ = 2nd, ⌈0.9·4⌉ = 4th
    "first_response_median": 30.0, "first_response_p90": 200.0, "first_response_avg": 82.5,
    # durations 300, 600, 1000, 1200
    "duration_median": 600.0, "duration_p90": 1200.0, "duration_avg": 775.0,
    "messages": 15, "messages_per_conversation": 2.5,
    "csat_avg": 4.0, "csat_count": 3,
}
EXPECTED_DAILY = [
    {"date": "2026-11-02", "conversations": 1, "accepted": 1, "missed": 0},
    {"date": "2026-11-03", "conversations": 2, "accepted": 1, "missed": 1},
    {"date": "2026-11-04", "conversations": 3, "accepted": 2, "missed": 1},
]
EXPECTED_CSAT = {"1": 0, "2": 0, "3": 1, "4": 1, "5": 1}
EXPECTED_OPERATORS = {
    "Анна": {"conversations": 3, "accepted": 3, "first_response_median": 30.0, "first_response_p90": 200.0,
             "duration_avg": 800.0, "messages": 6, "csat_avg": 4.5, "csat_count": 2,
             # speed 100·min(1, 60/30) = 100, accepted 3/3 = 100, csat (4.5−1)/4 = 87.5 → .3·100 + .3·100 + .4·87.5
             "rating": {"value": 95, "speed": 100.0, "accepted": 100.0, "csat": 87.5}},
    "Борис": {"conversations": 1, "accepted": 1, "first_response_median": 90.0, "first_response_p90": 90.0,
              "duration_avg": 1200.0, "messages": 1, "csat_avg": 3.0, "csat_count": 1,
              # speed 100·60/90 = 66.7, accepted 100, csat (3−1)/4 = 50 → .3·66.67 + .3·100 + .4·50 = 70
              "rating": {"value": 70, "speed": 66.7, "accepted": 100.0, "csat": 50.0}},
}
# per local weekday (2 Nov 2026 is a Monday) and hour: the six conversations of the period
EXPECTED_HOUR_OF_WEEK = [[0] * 24 for _ in range(7)]
for _day, _hour in ((0, 10), (1, 1), (1, 12), (2, 9), (2, 15), (2, 16)):
    EXPECTED_HOUR_OF_WEEK[_day][_hour] = 1
# the shop's departments in their order (the last has no conversation), and the department of each
# conversation of CONVERSATIONS by index (the rest: none)
DEPARTMENTS = ("Продажи", "Поддержка", "Склад")
CONVERSATION_DEPARTMENT = {0: "Продажи", 1: "Поддержка", 2: "Продажи", 4: "Поддержка", 5: "Продажи", 7: "Поддержка"}
_NONE = {"first_response_median": None, "first_response_p90": None, "duration_avg": None, "csat_avg": None}
EXPECTED_DEPARTMENTS = [
    # conversations 0, 2, 5: replies after 30 and 200 s (2 → rank 1 and 2), closed after 600, 300, 1000 s,
    # messages 4 + 1 + 4, ratings 5 and 4
    {"name": "Продажи", "conversations": 3, "accepted": 2, "missed": 1, "first_response_median": 30.0,
     "first_response_p90": 200.0, "duration_avg": 633.3, "messages": 9, "csat_avg": 4.5, "csat_count": 2},
    # conversations 1 and 4 (7 is the previous period's)
    {"name": "Поддержка", "conversations": 2, "accepted": 1, "missed": 1, "first_response_median": 90.0,
     "first_response_p90": 90.0, "duration_avg": 1200.0, "messages": 3, "csat_avg": 3.0, "csat_count": 1},
    {"name": "Склад", "conversations": 0, "accepted": 0, "missed": 0, **_NONE, "messages": 0, "csat_count": 0},
    # conversation 3: still open
    {"name": "", "conversations": 1, "accepted": 1, "missed": 0, **_NONE, "first_response_median": 10.0,
     "first_response_p90": 10.0, "messages": 3, "csat_count": 0},
]
EXPECTED_PREVIOUS = {"conversations": 1, "accepted": 1, "missed": 0, "first_response_median": 60.0,
                     "csat_avg": 1.0, "csat_count": 1}


async def load(session) -> dict:
    """Insert the fixture; returns {"shop": site id, "other": …, "anna": operator id, "boris": …}."""
    ids: dict = {}
    for key, name in (("shop", "Магазин"), ("other", "Другой")):
        site = Site(site_key=f"k-{key}", name=name, hours={"timezone": "Europe/Moscow", "days": {}})
        session.add(site)
        await session.flush()
        ids[key] = site.id
    for key, name in (("anna", "Анна"), ("boris", "Борис")):
        op = Operator(email=f"{key}@example.com", name=name, password_hash="x")
        session.add(op)
        await session.flush()
        ids[key] = op.id
        session.add(SiteMember(site_id=ids["shop"], operator_id=op.id))
    for position, name in enumerate(DEPARTMENTS):
        dep = Department(site_id=ids["shop"], name=name, position=position)
        session.add(dep)
        await session.flush()
        ids[name] = dep.id
    for n, (start, site, who, reply, close, v_msgs, o_msgs, notes, rating) in enumerate(CONVERSATIONS):
        created = local(start)
        visitor = Visitor(site_id=ids[site], token_hash=f"t{n:063d}")
        session.add(visitor)
        await session.flush()
        kinds = ["visitor"] * v_msgs + ["operator"] * o_msgs + ["note"] * notes
        conv = Conversation(
            site_id=ids[site], visitor_id=visitor.id, status="closed" if close is not None else "open",
            assignee_id=ids[who] if who else None, last_seq=len(kinds), created_at=created,
            first_reply_at=created + timedelta(seconds=reply) if reply is not None else None,
            closed_at=created + timedelta(seconds=close) if close is not None else None,
            department_id=ids[CONVERSATION_DEPARTMENT[n]] if n in CONVERSATION_DEPARTMENT else None)
        session.add(conv)
        await session.flush()
        for seq, kind in enumerate(kinds, 1):
            session.add(Message(conversation_id=conv.id, seq=seq, kind=kind,
                                sender=f"o{ids[who]}" if kind != "visitor" and who else f"v{visitor.id}",
                                author_operator_id=ids[who] if kind != "visitor" and who else None,
                                text=f"{kind} {seq}", created_at=created + timedelta(seconds=seq)))
        if rating is not None:
            session.add(ConversationRating(conversation_id=conv.id, site_id=ids[site],
                                           operator_id=ids[who] if who else None, value=rating[0], scale="stars",
                                           comment=rating[1], created_at=created, updated_at=created))
        ids.setdefault("conversations", []).append(conv.id)
    await session.flush()
    return ids
