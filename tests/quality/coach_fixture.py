"""A committed fixture of conversations with known coach scores (docs/quality.md), for
tests/quality/test_coach.py. The site has no working hours: its days are UTC days."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

from frontdesk.models import Conversation, Message, Operator, Site, SiteMember, Visitor

PERIOD = ("2026-11-02", "2026-11-03")
T0 = datetime(2026, 11, 2, 10, 0, tzinfo=UTC)

# key: (started after T0 in minutes, operator, visitor name, closed after s (None: open), [(s, kind, text)])
CONVERSATIONS = {
    "good": (0, "anna", "Ольга", 200, [
        (0, "v", "Здравствуйте, сколько идёт доставка в Казань?"),
        (40, "o", "Добрый день! Доставка в Казань — 2–3 дня."),
        (100, "v", "Спасибо"),
        (130, "o", "Пожалуйста! Всего доброго!")]),
    "poor": (60, "boris", "Tom", 2000, [
        (0, "v", "Do you ship to Canada"),
        (150, "o", "Yes we do."),               # no greeting, 150 s > 60 s
        (200, "v", "How long does it take?"),
        (900, "o", "About a week."),            # 700 s of silence > 5 min
        (950, "v", "And the price?"),           # never answered
        (960, "n", "note: check prices")]),     # notes do not count
    "slow": (120, "anna", None, 200, [
        (0, "v", "Привет"),
        (90, "o", "Здравствуйте! Чем помочь?"),  # 90 s > 60 s: the only miss
        (120, "o", "Хорошего дня!")]),
    "open": (180, "anna", None, None, [(0, "v", "Есть кто?")]),
    "empty": (240, None, None, 10, []),         # closed, never announced: nothing to score
}

# criteria in the engine's order; None = did not apply
EXPECTED = {
    "good": (100, {"greeting": True, "first_reply": True, "questions_answered": True, "no_long_silence": True,
                   "polite_closing": True, "spelling": None}),
    "poor": (0, {"greeting": False, "first_reply": False, "questions_answered": False, "no_long_silence": False,
                 "polite_closing": False, "spelling": None}),
    # greeting 1 + silence 2 + closing 1 of 1 + 2 + 2 + 1 = 6 → 67
    "slow": (67, {"greeting": True, "first_reply": False, "questions_answered": None, "no_long_silence": True,
                  "polite_closing": True, "spelling": None}),
}
# the messages that triggered each failed criterion of "poor" (by their text)
POOR_TRIGGERS = {"greeting": ["Yes we do."], "first_reply": ["Do you ship to Canada", "Yes we do."],
                 "questions_answered": ["And the price?"],
                 "no_long_silence": ["How long does it take?", "And the price?"],
                 "polite_closing": ["About a week."]}

EXPECTED_SITE = {
    "scored": 3, "score_avg": 55.7,   # (100 + 0 + 67) / 3
    "criteria": {"greeting": 0.667, "first_reply": 0.333, "questions_answered": 0.5, "no_long_silence": 0.667,
                 "polite_closing": 0.667, "spelling": None},
}
EXPECTED_OPERATORS = {
    "Анна": {"scored": 2, "score_avg": 83.5, "score_min": 67, "score_max": 100,
             "criteria": {"greeting": 1.0, "first_reply": 0.5, "questions_answered": 1.0, "no_long_silence": 1.0,
                          "polite_closing": 1.0, "spelling": None}},
    "Борис": {"scored": 1, "score_avg": 0.0, "score_min": 0, "score_max": 0,
              "criteria": {"greeting": 0.0, "first_reply": 0.0, "questions_answered": 0.0, "no_long_silence": 0.0,
                           "polite_closing": 0.0, "spelling": None}},
}
EXPECTED_BEST = ["good", "slow", "poor"]
EXPECTED_WORST = ["poor", "slow"]   # a perfect score is nothing to learn from


async def load(session) -> dict:
    """Insert the fixture; returns ids: "shop", "other" (sites), "anna", "boris" (operators), and a
    conversation id per key of CONVERSATIONS."""
    ids: dict = {}
    for key, name in (("shop", "Магазин"), ("other", "Другой")):
        site = Site(site_key=f"q-{key}", name=name)
        session.add(site)
        await session.flush()
        ids[key] = site.id
    for key, name in (("anna", "Анна"), ("boris", "Борис")):
        op = Operator(email=f"{key}@example.com", name=name, password_hash="x")
        session.add(op)
        await session.flush()
        ids[key] = op.id
        session.add(SiteMember(site_id=ids["shop"], operator_id=op.id))
    kinds = {"v": "visitor", "o": "operator", "n": "note"}
    for n, (key, (start, who, vname, close, lines)) in enumerate(CONVERSATIONS.items()):
        created = T0 + timedelta(minutes=start)
        visitor = Visitor(site_id=ids["shop"], token_hash=f"q{n:063d}", name=vname,
                          email="olga@example.com" if vname == "Ольга" else None, language="ru")
        session.add(visitor)
        await session.flush()
        first_reply = next((s for s, k, _ in lines if k == "o"), None)
        conv = Conversation(
            site_id=ids["shop"], visitor_id=visitor.id, status="closed" if close is not None else "open",
            assignee_id=ids[who] if who else None, last_seq=len(lines), created_at=created,
            first_reply_at=created + timedelta(seconds=first_reply) if first_reply is not None else None,
            closed_at=created + timedelta(seconds=close) if close is not None else None)
        session.add(conv)
        await session.flush()
        ids[key] = conv.id
        for seq, (sec, k, text) in enumerate(lines, 1):
            kind = kinds[k]
            session.add(Message(conversation_id=conv.id, seq=seq, kind=kind,
                                sender=f"o{ids[who]}" if kind != "visitor" else f"v{visitor.id}",
                                author_operator_id=ids[who] if kind != "visitor" else None,
                                text=text, created_at=created + timedelta(seconds=sec)))
    await session.flush()
    return ids
