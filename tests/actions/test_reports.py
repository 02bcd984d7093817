"""Every statistic of the reports on a committed fixture with known answers, on SQLite and PostgreSQL."""
from __future__ import annotations

import csv
import io

import pytest

from frontdesk.actions import reports
from frontdesk.actions.errors import ActionError
from frontdesk.actions.identity import OperatorRef
from tests.actions import reports_fixture as fx


def _op(oid: int, role: str = "operator") -> OperatorRef:
    return OperatorRef(id=oid, email="x@example.com", name="x", role=role, status="online", is_active=True,
                       language="ru", photo_type=None, photo_version=0)


async def _load(rt) -> dict:
    async with rt.sessions() as session, session.begin():
        return await fx.load(session)


async def test_every_statistic_on_the_fixture(rt):
    ids = await _load(rt)
    report = await reports.site_report(rt, _op(ids["anna"]), ids["shop"], *fx.PERIOD)
    assert report["timezone"] == "Europe/Moscow"
    cur = report["current"]
    assert (cur["from"], cur["to"]) == fx.PERIOD
    assert cur["summary"] == fx.EXPECTED_SUMMARY
    assert cur["daily"] == fx.EXPECTED_DAILY
    assert cur["csat"] == fx.EXPECTED_CSAT
    assert cur["hour_of_week"] == fx.EXPECTED_HOUR_OF_WEEK
    by_name = {r["name"]: {k: v for k, v in r.items() if k not in ("name", "operator_id")} for r in cur["operators"]}
    assert by_name == fx.EXPECTED_OPERATORS
    assert [r["name"] for r in cur["operators"]] == ["Анна", "Борис"]
    deps = [{k: v for k, v in r.items() if k != "department_id"} for r in cur["departments"]]
    assert deps == fx.EXPECTED_DEPARTMENTS
    assert [r["department_id"] for r in cur["departments"]] == [ids[n] for n in fx.DEPARTMENTS] + [None]
    prev = report["previous"]
    assert (prev["from"], prev["to"]) == ("2026-10-30", "2026-11-02")
    assert {k: prev["summary"][k] for k in fx.EXPECTED_PREVIOUS} == fx.EXPECTED_PREVIOUS
    assert prev["csat"] == {"1": 1, "2": 0, "3": 0, "4": 0, "5": 0}
    assert prev["operators"] == [] and prev["departments"] == []   # the chosen period's only


async def test_csv_of_every_table(rt):
    ids = await _load(rt)
    rows = {}
    for table in reports.TABLES:
        name, body = await reports.site_report_csv(rt, _op(ids["anna"]), ids["shop"], *fx.PERIOD, table)
        assert name.endswith(".csv") and table in name
        rows[table] = list(csv.reader(io.StringIO(body)))
    assert rows["daily"][1:] == [[d["date"], str(d["conversations"]), str(d["accepted"]), str(d["missed"])]
                                 for d in fx.EXPECTED_DAILY]
    assert ["conversations", "6", "1"] in rows["summary"]
    assert ["csat_avg", "4.0", "1.0"] in rows["summary"]
    assert rows["csat"][1:] == [["1", "0", "1"], ["2", "0", "0"], ["3", "1", "0"], ["4", "1", "0"], ["5", "1", "0"]]
    assert rows["operators"][1][1:4] == ["Анна", "3", "3"]
    assert rows["operators"][0][-1] == "rating" and rows["operators"][1][-1] == "95"
    assert rows["hours"][0] == ["weekday", *[f"{h:02d}" for h in range(24)]]
    assert rows["hours"][1] == ["mon", *["1" if h == 10 else "0" for h in range(24)]]
    assert [sum(map(int, r[1:])) for r in rows["hours"][1:]] == [1, 2, 3, 0, 0, 0, 0]
    assert rows["departments"][0] == ["department_id", "name", "conversations", "accepted", "missed",
                                      "first_response_median", "first_response_p90", "duration_avg", "messages",
                                      "csat_avg", "csat_count"]
    assert rows["departments"][1] == [str(ids["Продажи"]), "Продажи", "3", "2", "1", "30.0", "200.0", "633.3", "9",
                                      "4.5", "2"]
    assert rows["departments"][3][1:4] == ["Склад", "0", "0"] and rows["departments"][4][:3] == ["", "", "1"]
    with pytest.raises(ActionError) as e:
        await reports.site_report_csv(rt, _op(ids["anna"]), ids["shop"], *fx.PERIOD, "secrets")
    assert e.value.code == "invalid_input"


async def test_only_sites_the_operator_works_on(rt):
    ids = await _load(rt)
    with pytest.raises(ActionError) as e:   # anna is not a member of "other"
        await reports.site_report(rt, _op(ids["anna"]), ids["other"], *fx.PERIOD)
    assert e.value.code == "not_found"
    assert [s["id"] for s in await reports.report_sites(rt, _op(ids["anna"]))] == [ids["shop"]]
    admin = await reports.site_report(rt, _op(999_999, "admin"), ids["other"], *fx.PERIOD)
    assert admin["current"]["summary"]["conversations"] == 1
    assert admin["current"]["departments"] == []   # a site without departments: the page's empty state


@pytest.mark.parametrize(("date_from", "date_to"), [("2026-11-05", "2026-11-02"), ("2026-11-02", "2026-11-02"),
                                                    ("yesterday", "2026-11-02"), ("2025-01-01", "2026-11-02")])
async def test_bad_periods(rt, date_from, date_to):
    ids = await _load(rt)
    with pytest.raises(ActionError) as e:
        await reports.site_report(rt, _op(ids["anna"]), ids["shop"], date_from, date_to)
    assert e.value.code == "invalid_input"


async def test_an_empty_period(rt):
    ids = await _load(rt)
    report = await reports.site_report(rt, _op(ids["anna"]), ids["shop"], "2026-06-01", "2026-06-08")
    s = report["current"]["summary"]
    assert s["conversations"] == 0 and s["first_response_median"] is None and s["csat_avg"] is None
    assert len(report["current"]["daily"]) == 7 and report["current"]["operators"] == []


def test_operator_rating_formula():
    """docs/reports.md § Operator rating: parts that do not apply are left out of the average."""
    full = reports.operator_rating({"conversations": 4, "accepted": 3, "first_response_median": 120.0,
                                    "csat_avg": 5.0, "csat_count": 2})
    # speed 100·60/120 = 50, accepted 75, csat 100 → .3·50 + .3·75 + .4·100 = 77.5 → 78
    assert full == {"value": 78, "speed": 50.0, "accepted": 75.0, "csat": 100.0}
    # nobody rated: speed and accepted only, reweighted (.3·100 + .3·50) / .6 = 75
    assert reports.operator_rating({"conversations": 2, "accepted": 1, "first_response_median": 20.0,
                                    "csat_avg": None, "csat_count": 0})["value"] == 75
    # every chat missed: no speed part, accepted 0
    assert reports.operator_rating({"conversations": 2, "accepted": 0, "first_response_median": None,
                                    "csat_avg": None, "csat_count": 0}) == {
        "value": 0, "speed": None, "accepted": 0.0, "csat": None}
    assert reports.operator_rating({"conversations": 0, "accepted": 0})["value"] is None
