"""Writes tests/js/fixtures/invitation_cases.json: the cases both rule evaluators (Python,
actions/invitations.py, and the browser's static/widget/invite.js) must answer alike.
Run it after changing the cases: ``python tests/invitations/make_cases.py``."""
from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "js" / "fixtures" / "invitation_cases.json"
# Monday 30 Nov 2026, 12:00:00 UTC (15:00 in Moscow)
T0 = int(datetime(2026, 11, 30, 12, 0, tzinfo=UTC).timestamp() * 1000)
S = 1000
DAY = 86_400_000

BASE = {"now": T0, "url": "https://shop.example/catalog/sofas?color=red#top", "page_started": T0 - 5 * S,
        "visit_started": T0 - 60 * S, "pages": 3, "visit_number": 2, "source": "ads",
        "utm": {"source": "yandex", "medium": "cpc", "campaign": "sale"}, "country": "RU", "device": "desktop",
        "online": True, "within_hours": True, "chatting": False, "tz": "Europe/Moscow", "visit_key": "v1"}


def facts(**over: object) -> dict:
    return {**BASE, **over}


def m(name: str, cond: dict, expect: bool, **over: object) -> dict:
    return {"name": name, "kind": "matches", "conditions": cond, "facts": facts(**over), "expect": expect}


def b(name: str, caps: dict, hist: dict | None, expect: bool, **over: object) -> dict:
    return {"name": name, "kind": "blocked", "caps": caps, "history": hist, "facts": facts(**over), "expect": expect}


CASES = [
    # time on the current page
    m("page 10 s: 9.999 s is not yet", {"page_seconds": 10}, False, page_started=T0 - 9_999),
    m("page 10 s: at 10 s", {"page_seconds": 10}, True, page_started=T0 - 10 * S),
    m("page 0 s: at once", {"page_seconds": 0}, True, page_started=T0),
    # time on the site this visit
    m("site 120 s: after 60 s no", {"site_seconds": 120}, False),
    m("site 60 s: after 60 s yes", {"site_seconds": 60}, True),
    # URL
    m("url exact path", {"url": {"match": "exact", "value": "/catalog/sofas"}}, True),
    m("url exact path, other page", {"url": {"match": "exact", "value": "/catalog"}}, False),
    m("url exact path with query", {"url": {"match": "exact", "value": "/catalog/sofas?color=red"}}, True),
    m("url exact full address (no #fragment)", {"url": {"match": "exact",
                                                        "value": "https://shop.example/catalog/sofas?color=red"}}, True),
    m("url prefix", {"url": {"match": "prefix", "value": "/catalog/"}}, True),
    m("url prefix, no", {"url": {"match": "prefix", "value": "/cart"}}, False),
    m("url prefix full address", {"url": {"match": "prefix", "value": "https://shop.example/cat"}}, True),
    m("url wildcard /catalog/*", {"url": {"match": "wildcard", "value": "/catalog/*"}}, True),
    m("url wildcard /catalog/* not /catalog.html", {"url": {"match": "wildcard", "value": "/catalog/*"}}, False,
      url="https://shop.example/catalog.html"),
    m("url wildcard in the middle", {"url": {"match": "wildcard", "value": "/*/sofas"}}, True),
    m("url wildcard dots are literal", {"url": {"match": "wildcard", "value": "/catalog/sofas.html"}}, False,
      url="https://shop.example/catalog/sofasxhtml"),
    m("url wildcard full address", {"url": {"match": "wildcard", "value": "https://*.example/*"}}, True),
    m("url decoded Cyrillic path", {"url": {"match": "prefix", "value": "/каталог/"}}, True,
      url="https://shop.example/%D0%BA%D0%B0%D1%82%D0%B0%D0%BB%D0%BE%D0%B3/%D0%B4%D0%B8%D0%B2%D0%B0%D0%BD"),
    m("url unparseable page", {"url": {"match": "prefix", "value": "/"}}, False, url="not a url"),
    # pages viewed this visit
    m("pages >= 3 with 3", {"pages_min": 3}, True),
    m("pages >= 3 with 2", {"pages_min": 3}, False, pages=2),
    # visit number / returning
    m("returning, visit 2", {"visit": "returning"}, True),
    m("returning, visit 1", {"visit": "returning"}, False, visit_number=1),
    m("new, visit 1", {"visit": "new"}, True, visit_number=1),
    m("new, visit unknown", {"visit": "new"}, False, visit_number=None),
    m("visit >= 3 with 2", {"visit_min": 3}, False),
    m("visit >= 2 with 2", {"visit_min": 2}, True),
    # traffic source and utm
    m("source ads", {"sources": ["ads", "search"]}, True),
    m("source direct not listed", {"sources": ["search"]}, False),
    m("source unknown yet", {"sources": ["ads"]}, False, source=None),
    m("utm source+medium, any case", {"utm": {"source": "Yandex", "medium": "cpc"}}, True),
    m("utm campaign differs", {"utm": {"campaign": "winter"}}, False),
    m("utm missing", {"utm": {"source": "google"}}, False, utm={}),
    # country, device
    m("country RU", {"countries": ["RU", "KZ"]}, True),
    m("country lower case fact", {"countries": ["RU"]}, True, country="ru"),
    m("country DE not listed", {"countries": ["RU"]}, False, country="DE"),
    m("country unknown", {"countries": ["RU"]}, False, country=None),
    m("device phone", {"devices": ["phone", "tablet"]}, False),
    m("device desktop", {"devices": ["desktop"]}, True),
    # weekday and hour in the site's time zone (Mon 15:00 in Moscow, 12:00 UTC)
    m("Monday in Moscow", {"days": [1]}, True),
    m("weekend only", {"days": [6, 7]}, False),
    m("hours 9-18 Moscow (15:00)", {"hours": [9, 18]}, True),
    m("hours 9-15 Moscow (15:00 is outside)", {"hours": [9, 15]}, False),
    m("hours 15-16 Moscow", {"hours": [15, 16]}, True),
    m("hours over midnight 22-6 (15:00 no)", {"hours": [22, 6]}, False),
    m("hours over midnight 22-6 at 02:00 Moscow", {"hours": [22, 6]}, True, now=T0 + 11 * 3600 * S,
      page_started=T0 + 11 * 3600 * S, visit_started=T0 + 11 * 3600 * S),
    m("Tuesday after Moscow midnight (Mon 21:30 UTC)", {"days": [2]}, True, now=T0 + 9 * 3600 * S + 30 * 60 * S,
      page_started=T0, visit_started=T0),
    m("same instant in UTC is still Monday", {"days": [2]}, False, now=T0 + 9 * 3600 * S + 30 * 60 * S,
      tz="UTC"),
    m("unknown time zone counts as UTC", {"hours": [12, 13]}, True, tz="Mars/Olympus"),
    # an operator online
    m("operator online", {"operator_online": True}, True),
    m("no operator online", {"operator_online": True}, False, online=False),
    # combination (AND)
    m("empty rule holds", {}, True),
    m("the issue's rule: >2 pages and 10 s on /catalog/* — all hold",
      {"pages_min": 3, "page_seconds": 10, "url": {"match": "wildcard", "value": "/catalog/*"}}, True,
      page_started=T0 - 10 * S),
    m("the issue's rule: 2 pages only", {"pages_min": 3, "page_seconds": 10,
                                         "url": {"match": "wildcard", "value": "/catalog/*"}}, False,
      pages=2, page_started=T0 - 10 * S),
    m("the issue's rule: 9 s only", {"pages_min": 3, "page_seconds": 10,
                                     "url": {"match": "wildcard", "value": "/catalog/*"}}, False,
      page_started=T0 - 9 * S),
    m("the issue's rule: other page", {"pages_min": 3, "page_seconds": 10,
                                       "url": {"match": "wildcard", "value": "/catalog/*"}}, False,
      page_started=T0 - 10 * S, url="https://shop.example/cart"),
    m("everything at once", {"page_seconds": 5, "site_seconds": 60, "pages_min": 3, "visit": "returning",
                             "visit_min": 2, "sources": ["ads"], "utm": {"source": "yandex"}, "countries": ["RU"],
                             "devices": ["desktop"], "days": [1], "hours": [9, 18], "operator_online": True,
                             "url": {"match": "prefix", "value": "/catalog"}}, True),
    # frequency caps
    b("no caps, never shown", {}, None, False),
    b("dismissed in this visit: never again in it, whatever the caps", {}, {"dismissed": True, "dismissed_visit": "v1"},
      True),
    b("dismissed in an earlier visit, no cap", {}, {"dismissed": True, "dismissed_visit": "v0"}, False),
    b("once per visit: shown in this visit", {"once_per_visit": True}, {"shown_at": T0 - S, "shown_visit": "v1"}, True),
    b("once per visit: shown in an earlier visit", {"once_per_visit": True},
      {"shown_at": T0 - DAY, "shown_visit": "v0"}, False),
    b("every 3 days: shown 2 days ago", {"every_days": 3}, {"shown_at": T0 - 2 * DAY, "shown_visit": "v0"}, True),
    b("every 3 days: shown 3 days ago", {"every_days": 3}, {"shown_at": T0 - 3 * DAY, "shown_visit": "v0"}, False),
    b("every 3 days: never shown", {"every_days": 3}, {}, False),
    b("never after a dismissal: dismissed long ago", {"not_after_dismiss": True},
      {"dismissed": True, "dismissed_visit": "v0"}, True),
    b("never after a dismissal: only shown", {"not_after_dismiss": True}, {"shown_at": T0 - DAY, "shown_visit": "v0"},
      False),
    b("not while chatting: chatting", {"not_while_chatting": True}, None, True, chatting=True),
    b("not while chatting: not chatting", {"not_while_chatting": True}, None, False),
    b("working hours only: outside", {"working_hours_only": True}, None, True, within_hours=False),
    b("working hours only: inside", {"working_hours_only": True}, None, False),
]

PICK = [
    {"name": "the highest priority that matches and is not capped",
     "rules": [{"id": 1, "priority": 0, "conditions": {}, "caps": {}},
               {"id": 2, "priority": 5, "conditions": {"pages_min": 10}, "caps": {}},
               {"id": 3, "priority": 3, "conditions": {}, "caps": {"once_per_visit": True}},
               {"id": 4, "priority": 3, "conditions": {}, "caps": {}}],
     "history": {"3": {"shown_at": T0 - S, "shown_visit": "v1"}}, "facts": BASE, "expect": 4},
    {"name": "equal priority: the older rule", "rules": [{"id": 7, "priority": 1, "conditions": {}, "caps": {}},
                                                          {"id": 6, "priority": 1, "conditions": {}, "caps": {}}],
     "history": {}, "facts": BASE, "expect": 6},
    {"name": "nothing matches", "rules": [{"id": 1, "priority": 0, "conditions": {"pages_min": 9}, "caps": {}}],
     "history": {}, "facts": BASE, "expect": None},
]

if __name__ == "__main__":
    OUT.write_text(json.dumps({"t0": T0, "cases": CASES, "pick": PICK}, ensure_ascii=False, indent=1) + "\n")
    print(f"{len(CASES)} cases, {len(PICK)} pick cases → {OUT}")
