"""Ban values, expiry presets and the BanSet index. Time is always an injected `now`."""
from __future__ import annotations

import ipaddress
from datetime import UTC, datetime, timedelta, timezone

import pytest

from frontdesk.moderation.bans import (
    BAN_KINDS,
    EXPIRY_PRESETS,
    MESSAGES,
    Ban,
    BanSet,
    BanValueError,
    check_ban_value,
    parse_expiry,
)

T0 = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)


def ban(id, kind, value, *, expires=None, created=T0, **kw) -> Ban:
    return Ban.create(id, kind, value, reason=kw.get("reason", "spam"), author="op@example.com",
                      created_at=created, expires_at=expires)


# --- check_ban_value ---------------------------------------------------------------

@pytest.mark.parametrize(("kind", "value", "expected"), [
    ("ip", " 203.0.113.7 ", "203.0.113.7"),
    ("ip", "2001:0DB8:0000:0000:0000:0000:0000:0001", "2001:db8::1"),
    ("ip", "::ffff:203.0.113.7", "203.0.113.7"),          # IPv4-mapped -> IPv4
    ("ip", "::ffff:cb00:7107", "203.0.113.7"),
    ("ip", "::1", "::1"),
    ("subnet", "192.168.1.77/24", "192.168.1.0/24"),     # host bits cleared
    ("subnet", "10.1.2.3/8", "10.0.0.0/8"),
    ("subnet", "203.0.113.7/32", "203.0.113.7/32"),
    ("subnet", "0.0.0.0/0", "0.0.0.0/0"),
    ("subnet", "8.8.8.8/0", "0.0.0.0/0"),
    ("subnet", "2001:DB8:abcd:12::1/64", "2001:db8:abcd:12::/64"),
    ("subnet", "2001:db8::1/128", "2001:db8::1/128"),
    ("subnet", "::/0", "::/0"),
    ("subnet", "::ffff:203.0.113.0/120", "203.0.113.0/24"),  # mapped block -> IPv4 block
    ("subnet", "::ffff:0:0/96", "0.0.0.0/0"),
    ("visitor", " v_3f2a9c-77:AB ", "v_3f2a9c-77:AB"),
])
def test_values_are_normalised(kind: str, value: str, expected: str) -> None:
    assert check_ban_value(kind, value) == expected


@pytest.mark.parametrize(("kind", "value", "code"), [
    ("ip", "", "empty"),
    ("ip", "   ", "empty"),
    ("ip", "999.1.1.1", "not_ip"),
    ("ip", "1.2.3", "not_ip"),
    ("ip", "example.com", "not_ip"),
    ("ip", "10.0.0.0/8", "ip_with_prefix"),
    ("ip", "fe80::1%eth0", "zone"),
    ("ip", "1.2.3.4; DROP TABLE bans", "not_ip"),
    ("subnet", "10.0.0.1", "needs_prefix"),
    ("subnet", "10.0.0.0/33", "not_subnet"),
    ("subnet", "2001:db8::/129", "not_subnet"),
    ("subnet", "10.0.0.0/-1", "needs_prefix"),
    ("subnet", "10.0.0.0/255.0.0.0", "needs_prefix"),
    ("subnet", "junk/8", "not_subnet"),
    ("subnet", "fe80::/10%eth0", "zone"),
    ("subnet", "1" * 80, "too_long"),
    ("visitor", "a b", "bad_visitor"),
    ("visitor", "<script>", "bad_visitor"),
    ("visitor", "x" * 257, "bad_visitor"),
    ("cookie", "abc", "bad_kind"),
])
def test_junk_is_refused_with_a_clear_error(kind: str, value: str, code: str) -> None:
    with pytest.raises(BanValueError) as exc:
        check_ban_value(kind, value)
    assert exc.value.code == code
    en, ru = exc.value.message("en"), exc.value.message("ru")
    assert str(exc.value) == en and en != ru and ru.strip() and "{" not in en + ru
    if value.strip() and kind != "cookie" and code != "too_long":
        assert value.strip()[:50] in en and value.strip()[:50] in ru      # says what was wrong


def test_every_message_exists_in_both_languages() -> None:
    for code, texts in MESSAGES.items():
        assert set(texts) == {"en", "ru"}, code
        assert texts["en"] != texts["ru"]
        assert BanValueError(code, "x").message("de") == BanValueError(code, "x").message("en")
    long = BanValueError("not_ip", "9" * 500)
    assert len(long.value) == 58 and long.value.endswith("…")


def test_non_text_value_is_refused() -> None:
    with pytest.raises(BanValueError):
        check_ban_value("ip", 12345)  # type: ignore[arg-type]
    assert BAN_KINDS == ("visitor", "ip", "subnet")


def test_ban_create_checks_times_and_value() -> None:
    b = ban(1, "subnet", "192.168.1.77/24", expires=T0 + HOUR)
    assert b.value == "192.168.1.0/24" and b.lifted_at is None
    with pytest.raises(BanValueError) as exc:
        ban(2, "ip", "1.2.3.4", expires=T0)
    assert exc.value.code == "expires_before_created"
    with pytest.raises(BanValueError) as exc:
        Ban.create(3, "ip", "1.2.3.4", created_at=datetime(2026, 1, 1))
    assert exc.value.code == "bad_time"
    with pytest.raises(BanValueError) as exc:
        BanSet([Ban(4, "ip", "::ffff:1.2.3.4", "", "", T0)])
    assert exc.value.code == "not_normalised"


# --- active / expiry ----------------------------------------------------------------

def test_active_until_expiry_and_never_after_lift() -> None:
    b = ban(1, "ip", "1.2.3.4", expires=T0 + HOUR)
    assert b.active(T0) and b.active(T0 + HOUR - timedelta(microseconds=1))
    assert not b.active(T0 + HOUR)           # expiring exactly now: over
    assert not b.active(T0 + 2 * HOUR)
    forever = ban(2, "ip", "1.2.3.4")
    assert forever.active(T0 + timedelta(days=36500))
    lifted = forever.lifted(T0 + HOUR, by="admin@example.com")
    assert lifted.lifted_by == "admin@example.com" and lifted.lifted_at == T0 + HOUR
    assert not lifted.active(T0 + 2 * HOUR)


def test_parse_expiry_presets() -> None:
    assert EXPIRY_PRESETS == ("1h", "1d", "1w", "custom", "permanent")
    assert parse_expiry("1h", T0) == T0 + HOUR
    assert parse_expiry("1d", T0) == T0 + timedelta(days=1)
    assert parse_expiry("1w", T0) == T0 + timedelta(weeks=1)
    assert parse_expiry(" 12H ", T0) == T0 + 12 * HOUR
    assert parse_expiry("permanent", T0) is None
    assert parse_expiry("custom", T0, custom="2026-12-31T18:00:00+03:00") == datetime(
        2026, 12, 31, 15, 0, tzinfo=UTC)
    assert parse_expiry("custom", T0, custom="2026-12-31T18:00Z") == datetime(
        2026, 12, 31, 18, 0, tzinfo=UTC)
    msk = timezone(timedelta(hours=3))
    assert parse_expiry("custom", T0, custom="2026-12-31 18:00", tz=msk) == datetime(
        2026, 12, 31, 18, 0, tzinfo=msk)
    assert parse_expiry("2027-01-01", T0) == datetime(2027, 1, 1, tzinfo=UTC)


@pytest.mark.parametrize(("preset", "custom", "code"), [
    ("custom", None, "no_choice"),
    ("", None, "no_choice"),
    ("custom", "tomorrow", "bad_datetime"),
    ("custom", "2026-11-30T11:00:00+00:00", "past"),
    ("custom", "2026-11-30T12:00:00+00:00", "past"),
    ("0h", None, "past"),
    ("custom", "2099-01-01T00:00Z", "too_far"),
    ("99999w", None, "too_far"),
    ("1y", None, "bad_datetime"),
])
def test_parse_expiry_refuses(preset: str, custom: str | None, code: str) -> None:
    with pytest.raises(BanValueError) as exc:
        parse_expiry(preset, T0, custom=custom)
    assert exc.value.code == code
    with pytest.raises(BanValueError) as exc:
        parse_expiry("1h", datetime(2026, 1, 1))
    assert exc.value.code == "bad_time"


# --- BanSet.match ----------------------------------------------------------------------

def test_each_kind_matches_only_its_target() -> None:
    s = BanSet([
        ban(1, "visitor", "visitor-A"),
        ban(2, "ip", "203.0.113.7"),
        ban(3, "ip", "2001:db8::7"),
        ban(4, "subnet", "198.51.100.0/24"),
        ban(5, "subnet", "2001:db8:1::/48"),
    ])
    assert s.match("visitor-A", None, T0).id == 1
    assert s.match("visitor-A", "192.0.2.1", T0).id == 1
    assert s.match("visitor-B", "192.0.2.1", T0) is None
    assert s.match("visitor-B", "203.0.113.7", T0).id == 2          # fresh token, same IP
    assert s.match(None, "203.0.113.8", T0) is None
    assert s.match(None, "2001:db8:0:0::7", T0).id == 3
    assert s.match(None, ipaddress.ip_address("2001:db8::7"), T0).id == 3
    assert s.match(None, "198.51.100.0", T0).id == 4
    assert s.match(None, "198.51.100.255", T0).id == 4
    assert s.match(None, "198.51.101.0", T0) is None
    assert s.match(None, "198.51.99.255", T0) is None
    assert s.match(None, "2001:db8:1:ffff::1", T0).id == 5
    assert s.match(None, "2001:db8:2::1", T0) is None
    assert s.match(None, "not-an-ip", T0) is None                    # junk: no address
    assert s.match("", "", T0) is None


def test_cidr_edges_slash0_32_128() -> None:
    v4_all = BanSet([ban(1, "subnet", "0.0.0.0/0")])
    for ip in ["0.0.0.0", "255.255.255.255", "10.0.0.1", "::ffff:8.8.8.8"]:
        assert v4_all.match(None, ip, T0).id == 1
    assert v4_all.match(None, "2001:db8::1", T0) is None           # /0 of IPv4 is not IPv6
    v6_all = BanSet([ban(2, "subnet", "::/0")])
    assert v6_all.match(None, "2001:db8::1", T0).id == 2
    assert v6_all.match(None, "::", T0).id == 2
    assert v6_all.match(None, "8.8.8.8", T0).id == 2                # ::/0 holds ::ffff:8.8.8.8
    one = BanSet([ban(3, "subnet", "203.0.113.7/32"), ban(4, "subnet", "2001:db8::7/128")])
    assert one.match(None, "203.0.113.7", T0).id == 3
    assert one.match(None, "203.0.113.6", T0) is None
    assert one.match(None, "203.0.113.8", T0) is None
    assert one.match(None, "2001:db8::7", T0).id == 4
    assert one.match(None, "2001:db8::6", T0) is None
    assert one.match(None, "2001:db8::8", T0) is None
    edge = BanSet([ban(5, "subnet", "255.255.255.254/31"), ban(6, "subnet", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe/127")])
    assert edge.match(None, "255.255.255.255", T0).id == 5
    assert edge.match(None, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", T0).id == 6


def test_ipv4_mapped_ipv6_both_ways() -> None:
    s = BanSet([ban(1, "ip", "203.0.113.7"), ban(2, "subnet", "198.51.100.0/24")])
    assert s.match(None, "::ffff:203.0.113.7", T0).id == 1
    assert s.match(None, "::FFFF:cb00:7107", T0).id == 1
    assert s.match(None, "::ffff:198.51.100.9", T0).id == 2
    mapped = BanSet([ban(3, "ip", "::ffff:203.0.113.7"), ban(4, "subnet", "::ffff:198.51.100.0/120")])
    assert mapped.match(None, "203.0.113.7", T0).id == 3
    assert mapped.match(None, "198.51.100.200", T0).id == 4
    covering = BanSet([ban(5, "subnet", "::/64")])                   # holds ::ffff:0:0/96
    assert covering.match(None, "192.0.2.1", T0).id == 5
    not_covering = BanSet([ban(6, "subnet", "2001:db8::/32")])
    assert not_covering.match(None, "192.0.2.1", T0) is None
    # ::/80 holds ::ffff:0:0/96; ::/96 is the old IPv4-compatible range, not the mapped one
    assert BanSet([ban(7, "subnet", "::/80")]).match(None, "192.0.2.1", T0).id == 7
    assert BanSet([ban(8, "subnet", "::/96")]).match(None, "192.0.2.1", T0) is None
    assert BanSet([ban(8, "subnet", "::/96")]).match(None, "::c000:201", T0).id == 8
    # a zone id does not hide an address (a ban can be typed without one)
    scoped = ipaddress.ip_address("fe80::1%eth0")
    link = BanSet([ban(9, "subnet", "fe80::/10"), ban(10, "ip", "fe80::2")])
    assert link.match(None, "fe80::1", T0).id == 9
    assert link.match(None, scoped, T0).id == 9 and link.match(None, "fe80::1%eth0", T0).id == 9
    assert link.match(None, "fe80::2%3", T0).id == 10


def test_expired_and_lifted_bans_never_match() -> None:
    s = BanSet([
        ban(1, "ip", "203.0.113.7", expires=T0 + HOUR),
        ban(2, "subnet", "203.0.113.0/24", expires=T0 + 2 * HOUR),
        ban(3, "visitor", "v1").lifted(T0 + timedelta(minutes=5)),
    ])
    assert s.match("v1", "203.0.113.7", T0).id == 2                  # 3 is lifted; 2 lasts longer
    assert s.match("v1", "203.0.113.7", T0 + HOUR + timedelta(seconds=1)).id == 2
    assert s.match("v1", "203.0.113.7", T0 + 2 * HOUR) is None
    assert s.match("v1", None, T0) is None
    assert s.prune(T0 + 2 * HOUR) == 3 and len(s) == 0
    assert s.match(None, "203.0.113.7", T0) is None                  # gone from every index


def test_overlapping_bans_longest_lasting_wins() -> None:
    short = ban(1, "ip", "203.0.113.7", expires=T0 + HOUR)
    long = ban(2, "subnet", "203.0.113.0/24", expires=T0 + 24 * HOUR)
    wide = ban(3, "subnet", "203.0.0.0/16", expires=T0 + 6 * HOUR)
    forever = ban(4, "subnet", "203.0.0.0/8")
    visitor = ban(5, "visitor", "v1", expires=T0 + 48 * HOUR)
    for order in ([short, long, wide], [wide, long, short], [long, short, wide]):
        assert BanSet(order).match("v1", "203.0.113.7", T0).id == 2
    s = BanSet([short, long, wide, forever, visitor])
    assert s.match("v1", "203.0.113.7", T0).id == 4                  # permanent first
    s.add(forever.lifted(T0))                                        # replace: lifted
    assert s.match("v1", "203.0.113.7", T0).id == 5                  # then latest expiry
    # equal expiry: the newest ban wins, then the larger id — never insertion order
    a = ban(6, "ip", "192.0.2.1", expires=T0 + HOUR, created=T0 - HOUR)
    b = ban(7, "subnet", "192.0.2.0/24", expires=T0 + HOUR, created=T0)
    c = ban(8, "subnet", "192.0.0.0/16", expires=T0 + HOUR, created=T0)
    assert BanSet([a, b, c]).match(None, "192.0.2.1", T0).id == 8
    assert BanSet([c, b, a]).match(None, "192.0.2.1", T0).id == 8
    d = ban(10, "subnet", "192.0.0.0/12", expires=T0 + HOUR, created=T0)   # 10 > 8 as numbers
    assert BanSet([d, c, b, a]).match(None, "192.0.2.1", T0).id == 10
    assert BanSet([a, b, c, d]).match(None, "192.0.2.1", T0).id == 10


def test_add_replace_remove() -> None:
    s = BanSet()
    s.add(ban(1, "subnet", "10.0.0.0/8"))
    s.add(ban(2, "subnet", "10.1.0.0/16"))
    assert len(s) == 2 and 1 in s and s.get(2).value == "10.1.0.0/16"
    s.add(ban(1, "ip", "192.0.2.1"))                                 # same id: replaced
    assert s.match(None, "10.200.0.1", T0) is None
    assert s.match(None, "10.1.0.1", T0).id == 2
    assert s.match(None, "192.0.2.1", T0).id == 1
    assert s.remove(2).id == 2 and s.remove(2) is None
    assert s.match(None, "10.1.0.1", T0) is None
    assert [b.id for b in s] == [1]
    assert s._nets[4] == {}                                          # empty levels dropped
    assert [b.id for b in s.active(T0)] == [1]


def test_many_bans_agree_with_a_brute_force_scan() -> None:
    import random

    rnd = random.Random(17)
    bans = []
    for i in range(1200):
        if i % 3 == 0:
            value = f"{rnd.randrange(256)}.{rnd.randrange(256)}.{rnd.randrange(256)}.{rnd.randrange(256)}"
            bans.append(ban(i, "ip", value, expires=T0 + rnd.randrange(1, 100) * HOUR))
        elif i % 3 == 1:
            plen = rnd.choice([8, 12, 16, 20, 24, 28, 32])
            value = f"{rnd.randrange(256)}.{rnd.randrange(256)}.{rnd.randrange(256)}.0/{plen}"
            bans.append(ban(i, "subnet", value, expires=rnd.choice([None, T0 + rnd.randrange(1, 100) * HOUR])))
        else:
            plen = rnd.choice([32, 48, 56, 64, 128])
            value = f"2001:db8:{rnd.randrange(4):x}:{rnd.randrange(4):x}::{rnd.randrange(9):x}/{plen}"
            bans.append(ban(i, "subnet", value, expires=T0 + rnd.randrange(1, 100) * HOUR))
    s = BanSet(bans)
    nets = [(b, ipaddress.ip_network(b.value) if b.kind == "subnet" else ipaddress.ip_network(b.value + ("/32" if ":" not in b.value else "/128"))) for b in bans]
    probes = [f"{rnd.randrange(256)}.{rnd.randrange(256)}.{rnd.randrange(256)}.{rnd.randrange(256)}" for _ in range(300)]
    probes += [f"2001:db8:{rnd.randrange(4):x}:{rnd.randrange(4):x}::{rnd.randrange(9):x}" for _ in range(200)]
    probes += [str(ipaddress.ip_network(b.value).network_address) for b in bans[:200]]
    now = T0 + 30 * HOUR
    for ip in probes:
        addr = ipaddress.ip_address(ip)
        hits = [b for b, n in nets if addr.version == n.version and addr in n and b.active(now)]
        expected = max(hits, key=lambda b: b._rank()).id if hits else None
        got = s.match(None, ip, now)
        assert (got.id if got else None) == expected, ip
