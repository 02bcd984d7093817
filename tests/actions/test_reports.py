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
    by_name = {r["name"]: {k: v for k, v in r.items() if k not in ("name", "operator_id")} for r in cur["operators"]}
    assert by_name == fx.EXPECTED_OPERATORS
    assert [r["name"] for r in cur["operators"]] == ["Анна", "Борис"]
    prev = report["previous"]
    assert (prev["from"], prev["to"]) == ("2026-10-30", "2026-11-02")
    assert {k: prev["summary"][k] for k in fx.EXPECTED_PREVIOUS} == fx.EXPECTED_PREVIOUS
    assert prev["csat"] == {"1": 1, "2": 0, "3": 0, "4": 0, "5": 0}


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
