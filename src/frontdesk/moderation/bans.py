"""Ban values, expiry presets and a fast in-memory ban index. Pure: no I/O, no clock.

Semantics (docs/moderation.md has the long version):

* A ban has a kind: ``visitor`` (the visitor key: their id or token hash, an opaque
  string), ``ip`` (one address, IPv4 or IPv6) or ``subnet`` (a CIDR block).
* Values are normalised once, by `check_ban_value`, before they are stored:
  canonical address text (``2001:db8::1``, never ``2001:0DB8:0:0::1``); an
  IPv4-mapped IPv6 address or block (``::ffff:1.2.3.4``, ``::ffff:1.2.3.0/120``) is
  stored as the IPv4 one (``1.2.3.4``, ``1.2.3.0/24``); a CIDR block with host bits
  set is CLEARED, not refused (``192.168.1.77/24`` -> ``192.168.1.0/24``), so an
  operator can type the visitor's own address with a prefix; the UI shows the
  normalised value. Junk is refused with `BanValueError` and a message for people.
* A ban is active at ``now`` while it is not lifted and ``now < expires_at``
  (``expires_at`` None = permanent). An expired or lifted ban never matches.
* `BanSet.match(visitor_key, ip, now)` returns the active ban that applies, or None.
  An IPv4 visitor seen as ``::ffff:a.b.c.d`` is the same as ``a.b.c.d``; IPv6 blocks
  that contain the mapped range (``::/0`` … ``::ffff:0:0/96``) match IPv4 visitors.
  With several bans applying, the one that lasts longest wins: a permanent one
  first, then the latest ``expires_at``; ties go to the most recent ``created_at``,
  then the larger id, so the answer does not depend on insertion order.
"""
from __future__ import annotations

import ipaddress
import re
import socket
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Literal

__all__ = [
    "BAN_KINDS",
    "MESSAGES",
    "EXPIRY_PRESETS",
    "Ban",
    "BanSet",
    "BanValueError",
    "check_ban_value",
    "normalise_ip",
    "parse_expiry",
]

BanKind = Literal["visitor", "ip", "subnet"]
BAN_KINDS: tuple[str, ...] = ("visitor", "ip", "subnet")
EXPIRY_PRESETS: tuple[str, ...] = ("1h", "1d", "1w", "custom", "permanent")

_VISITOR_KEY = re.compile(r"[A-Za-z0-9._:+/=-]{1,256}")
_MAPPED_V6 = ipaddress.IPv6Network("::ffff:0:0/96")
_MAX_EXPIRY = timedelta(days=3660)      # ~10 years: beyond that, say "permanent"

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


# Messages for people, in both UI languages; {value} etc. are filled from the error.
MESSAGES: dict[str, dict[str, str]] = {
    "bad_kind": {
        "en": "Block by visitor, IP or subnet (not {value}).",
        "ru": "Заблокировать можно по посетителю, по IP или по подсети (не {value}).",
    },
    "not_text": {"en": "The value must be text.", "ru": "Значение должно быть строкой."},
    "empty": {"en": "Enter what to block.", "ru": "Укажите, что заблокировать."},
    "bad_visitor": {
        "en": "Not a visitor key: {value}.",
        "ru": "Это не ключ посетителя: {value}.",
    },
    "too_long": {
        "en": "An address or subnet is at most 64 characters.",
        "ru": "Адрес или подсеть — не длиннее 64 символов.",
    },
    "ip_with_prefix": {
        "en": "An IP block takes one address; block {value} by subnet.",
        "ru": "Блокировка по IP — это один адрес; {value} заблокируйте по подсети.",
    },
    "zone": {
        "en": "An IPv6 zone (%…) is not allowed: {value}.",
        "ru": "Зона IPv6 (%…) не допускается: {value}.",
    },
    "not_ip": {"en": "Not an IP address: {value}.", "ru": "Это не IP-адрес: {value}."},
    "needs_prefix": {
        "en": "A subnet needs a prefix length after '/', like 10.0.0.0/8: {value}.",
        "ru": "У подсети после «/» нужна длина префикса, например 10.0.0.0/8: {value}.",
    },
    "not_subnet": {
        "en": "Not a subnet (CIDR) like 192.168.1.0/24 or 2001:db8::/32: {value}.",
        "ru": "Это не подсеть (CIDR) вида 192.168.1.0/24 или 2001:db8::/32: {value}.",
    },
    "not_normalised": {
        "en": "Ban value not normalised: {value}.",
        "ru": "Значение блокировки не нормализовано: {value}.",
    },
    "bad_time": {
        "en": "{value} must be a date and time with a time zone.",
        "ru": "{value}: нужны дата и время с часовым поясом.",
    },
    "expires_before_created": {
        "en": "A block must end after it starts.",
        "ru": "Блокировка должна заканчиваться позже, чем начинается.",
    },
    "past": {"en": "The end of the block must be in the future.", "ru": "Срок блокировки должен быть в будущем."},
    "too_far": {
        "en": "More than 10 years ahead: choose “permanent”.",
        "ru": "Дальше чем на 10 лет: выберите «навсегда».",
    },
    "no_choice": {
        "en": "Choose 1 hour, 1 day, 1 week, permanent or a date and time.",
        "ru": "Выберите 1 час, 1 день, 1 неделю, навсегда или дату и время.",
    },
    "bad_datetime": {
        "en": "Not a date and time (like 2026-12-31T18:00): {value}.",
        "ru": "Это не дата и время (например, 2026-12-31T18:00): {value}.",
    },
}


class BanValueError(ValueError):
    """A ban value, kind or expiry that cannot be used.

    `code` names the problem (a key of MESSAGES), `value` is the offending input
    (shortened); `message(lang)` is the text for people in "en" or "ru"; str(exc) is
    the English one.
    """

    def __init__(self, code: str, value: object = "") -> None:
        self.code = code
        text = value if isinstance(value, str) else repr(value)
        self.value = text if len(text) <= 60 else text[:57] + "…"
        super().__init__(self.message("en"))

    def message(self, lang: str = "en") -> str:
        texts = MESSAGES[self.code]
        return texts.get(lang, texts["en"]).format(value=self.value)


def _parse_address(text: str) -> IPAddress:
    if "%" in text:
        raise BanValueError("zone", text)
    try:
        addr = ipaddress.ip_address(text)
    except ValueError:
        raise BanValueError("not_ip", text) from None
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None:
        return addr.ipv4_mapped
    return addr


def normalise_ip(ip: str | IPAddress | None) -> IPAddress | None:
    """An address as the index sees it (IPv4-mapped IPv6 -> IPv4); None for junk."""
    if ip is None:
        return None
    if isinstance(ip, (ipaddress.IPv4Address, ipaddress.IPv6Address)):
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
            return ip.ipv4_mapped
        return ip
    try:
        return _parse_address(str(ip).strip())
    except BanValueError:
        return None


def _parse_network(text: str) -> IPNetwork:
    if "%" in text:
        raise BanValueError("zone", text)
    addr_part, _, prefix_part = text.partition("/")
    if not prefix_part.isdigit():
        raise BanValueError("needs_prefix", text)
    try:
        net = ipaddress.ip_network(text, strict=False)   # host bits cleared, see module doc
    except ValueError:
        raise BanValueError("not_subnet", text) from None
    if isinstance(net, ipaddress.IPv6Network) and net.prefixlen >= 96 and net.subnet_of(_MAPPED_V6):
        v4 = ipaddress.IPv4Address(int(net.network_address) & 0xFFFFFFFF)
        return ipaddress.IPv4Network(f"{v4}/{net.prefixlen - 96}")
    return net


def check_ban_value(kind: str, value: str) -> str:
    """The normalised value to store for a ban of this kind; BanValueError for junk.

    visitor: the visitor key as is (1–256 characters of [A-Za-z0-9._:+/=-]).
    ip:      one address, canonical text; ::ffff:a.b.c.d becomes a.b.c.d.
    subnet:  CIDR with host bits cleared; an address without /prefix is refused
             (ban it as kind ip); a mapped IPv6 block becomes the IPv4 block.
    """
    if kind not in BAN_KINDS:
        raise BanValueError("bad_kind", kind)
    if not isinstance(value, str):
        raise BanValueError("not_text", value)
    text = value.strip()
    if not text:
        raise BanValueError("empty")
    if kind == "visitor":
        if not _VISITOR_KEY.fullmatch(text):
            raise BanValueError("bad_visitor", text)
        return text
    if len(text) > 64:
        raise BanValueError("too_long", text)
    if kind == "ip":
        if "/" in text:
            raise BanValueError("ip_with_prefix", text)
        return str(_parse_address(text))
    return str(_parse_network(text))


def _aware(dt: datetime, what: str) -> datetime:
    if not isinstance(dt, datetime):
        raise BanValueError("bad_time", what)
    if dt.tzinfo is None or dt.utcoffset() is None:
        raise BanValueError("bad_time", what)
    return dt


def parse_expiry(
    preset: str,
    now: datetime,
    *,
    custom: str | None = None,
    tz: tzinfo = UTC,
) -> datetime | None:
    """expires_at for a UI choice; None means permanent.

    preset: "1h", "1d", "1w", any "<n>h" / "<n>d" / "<n>w", "permanent", or "custom"
    with `custom` an ISO 8601 datetime ("2026-12-31T18:00", "2026-12-31 18:00+03:00",
    "2026-12-31" = midnight). A custom time without an offset is read in `tz` (the
    operator's zone). It must lie after `now` and within ~10 years. Also accepted:
    an ISO datetime passed directly as `preset`.
    """
    now = _aware(now, "now")
    p = (preset or "").strip().lower()
    if p == "permanent":
        return None
    m = re.fullmatch(r"(\d{1,5})([hdw])", p)
    if m:
        n = int(m.group(1))
        if n == 0:
            raise BanValueError("past", p)
        delta = {"h": timedelta(hours=n), "d": timedelta(days=n), "w": timedelta(weeks=n)}[m.group(2)]
        if delta > _MAX_EXPIRY:
            raise BanValueError("too_far", p)
        return now + delta
    text = custom if p == "custom" else preset
    if not text or not str(text).strip():
        raise BanValueError("no_choice")
    text = str(text).strip()
    try:
        when = datetime.fromisoformat(text.replace("Z", "+00:00") if text.endswith("Z") else text)
    except ValueError:
        raise BanValueError("bad_datetime", text) from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=tz)
    if when <= now:
        raise BanValueError("past", p)
    if when - now > _MAX_EXPIRY:
        raise BanValueError("too_far", p)
    return when


@dataclass(frozen=True, slots=True)
class Ban:
    """One ban. `value` must already be normalised (use `Ban.create` or `check_ban_value`)."""

    id: int | str
    kind: str
    value: str
    reason: str
    author: str
    created_at: datetime
    expires_at: datetime | None = None   # None = permanent
    lifted_at: datetime | None = None
    lifted_by: str | None = None

    @classmethod
    def create(
        cls,
        id: int | str,
        kind: str,
        value: str,
        *,
        reason: str = "",
        author: str = "",
        created_at: datetime,
        expires_at: datetime | None = None,
    ) -> Ban:
        """A new ban with its value checked and normalised."""
        created_at = _aware(created_at, "created_at")
        if expires_at is not None:
            expires_at = _aware(expires_at, "expires_at")
            if expires_at <= created_at:
                raise BanValueError("expires_before_created")
        return cls(id, kind, check_ban_value(kind, value), reason, author, created_at, expires_at)

    def active(self, now: datetime) -> bool:
        """Not lifted, and not expired at `now` (a ban expiring exactly at now is over)."""
        if self.lifted_at is not None:
            return False
        return self.expires_at is None or now < self.expires_at

    def lifted(self, now: datetime, by: str = "") -> Ban:
        """A copy lifted at `now` by `by` (the author of the lift)."""
        return replace(self, lifted_at=_aware(now, "now"), lifted_by=by)

    def _rank(self) -> tuple:
        # larger = wins: permanent, then latest expiry, then newest, then largest id
        never = self.expires_at is None
        exp = self.expires_at.timestamp() if self.expires_at else float("inf")
        # ids compare as numbers when they are numbers (10 after 9), else as text
        tie = (1, self.id, "") if isinstance(self.id, int) else (0, 0, str(self.id))
        return (never, exp, self.created_at.timestamp(), tie)


def _better(a: Ban | None, b: Ban) -> Ban:
    return b if a is None or b._rank() > a._rank() else a


class BanSet:
    """An index of bans answering `match` in O(number of distinct prefix lengths).

    visitors and single IPs: dicts; subnets: per IP version, a dict per prefix
    length from the masked network address to its bans. Inactive bans may stay in
    the set (they never match); `prune(now)` drops them. Not thread-safe for writes
    (one owner updates it, e.g. from the broker's ban events); reads are plain dict
    look-ups.
    """

    def __init__(self, bans: Iterable[Ban] = ()) -> None:
        self._by_id: dict[int | str, Ban] = {}
        self._visitors: dict[str, dict[int | str, Ban]] = {}
        self._ips: dict[tuple[int, int], dict[int | str, Ban]] = {}
        # version -> prefixlen -> masked network int -> bans
        self._nets: dict[int, dict[int, dict[int, dict[int | str, Ban]]]] = {4: {}, 6: {}}
        for ban in bans:
            self.add(ban)

    def __len__(self) -> int:
        return len(self._by_id)

    def __contains__(self, ban_id: object) -> bool:
        return ban_id in self._by_id

    def get(self, ban_id: int | str) -> Ban | None:
        return self._by_id.get(ban_id)

    def __iter__(self) -> Iterator[Ban]:
        return iter(list(self._by_id.values()))

    def _slot(self, ban: Ban) -> dict[int | str, Ban]:
        if ban.kind == "visitor":
            return self._visitors.setdefault(ban.value, {})
        if ban.kind == "ip":
            addr = ipaddress.ip_address(ban.value)
            return self._ips.setdefault((addr.version, int(addr)), {})
        if ban.kind == "subnet":
            net = ipaddress.ip_network(ban.value)
            by_len = self._nets[net.version].setdefault(net.prefixlen, {})
            return by_len.setdefault(int(net.network_address), {})
        raise BanValueError("bad_kind", ban.kind)

    def add(self, ban: Ban) -> None:
        """Insert or replace (same id) a ban. Its value must be normalised already."""
        if check_ban_value(ban.kind, ban.value) != ban.value:
            raise BanValueError("not_normalised", ban.value)
        if ban.id in self._by_id:
            self.remove(ban.id)
        self._by_id[ban.id] = ban
        self._slot(ban)[ban.id] = ban

    def remove(self, ban_id: int | str) -> Ban | None:
        ban = self._by_id.pop(ban_id, None)
        if ban is None:
            return None
        slot = self._slot(ban)
        slot.pop(ban_id, None)
        if not slot:   # keep the dicts small: drop empty slots and prefix levels
            if ban.kind == "visitor":
                self._visitors.pop(ban.value, None)
            elif ban.kind == "ip":
                addr = ipaddress.ip_address(ban.value)
                self._ips.pop((addr.version, int(addr)), None)
            else:
                net = ipaddress.ip_network(ban.value)
                by_len = self._nets[net.version][net.prefixlen]
                by_len.pop(int(net.network_address), None)
                if not by_len:
                    del self._nets[net.version][net.prefixlen]
        return ban

    def prune(self, now: datetime) -> int:
        """Drop bans that are no longer active; returns how many."""
        dead = [b.id for b in self._by_id.values() if not b.active(now)]
        for ban_id in dead:
            self.remove(ban_id)
        return len(dead)

    def active(self, now: datetime) -> list[Ban]:
        return [b for b in self._by_id.values() if b.active(now)]

    @staticmethod
    def _best(slot: dict[int | str, Ban], now: datetime, best: Ban | None) -> Ban | None:
        for ban in slot.values():
            if ban.active(now):
                best = _better(best, ban)
        return best

    def match(
        self,
        visitor_key: str | None,
        ip: str | IPAddress | None,
        now: datetime,
    ) -> Ban | None:
        """The active ban that applies to this visitor and address, or None.

        `ip` may be text or an ipaddress object; unparsable text is treated as no
        address (the visitor key still counts); a zone id is ignored. Longest-lasting ban wins (see module doc).
        Cost: one dict look-up for the visitor, one for the address, one per distinct
        subnet prefix length of its IP version (and of IPv6 lengths <= 96 for IPv4).
        """
        best: Ban | None = None
        if visitor_key:
            slot = self._visitors.get(visitor_key)
            if slot:
                best = self._best(slot, now, best)
        key = _ip_key(ip)
        if key is None:
            return best
        version, value = key
        slot = self._ips.get(key)
        if slot:
            best = self._best(slot, now, best)
        if version == 4:
            for plen, nets in self._nets[4].items():
                shift = 32 - plen
                slot = nets.get(value >> shift << shift)
                if slot:
                    best = self._best(slot, now, best)
            if self._nets[6]:
                # IPv6 blocks that contain ::ffff:0:0/96 cover every IPv4 visitor in them
                mapped = value | _MAPPED_PREFIX
                for plen, nets in self._nets[6].items():
                    if plen <= 96:
                        shift = 128 - plen
                        slot = nets.get(mapped >> shift << shift)
                        if slot:
                            best = self._best(slot, now, best)
        else:
            for plen, nets in self._nets[6].items():
                shift = 128 - plen
                slot = nets.get(value >> shift << shift)
                if slot:
                    best = self._best(slot, now, best)
        return best


_MAPPED_PREFIX = 0xFFFF << 32


def _ip_key(ip: str | IPAddress | None) -> tuple[int, int] | None:
    """(version, integer) of an address as the index sees it: ::ffff:a.b.c.d -> IPv4.

    Text goes through inet_pton (about ten times faster than ipaddress); anything
    it does not take is no address. A zone id (fe80::1%eth0) is ignored.
    """
    if isinstance(ip, str):
        text = ip.strip().partition("%")[0]   # a zone id does not change who it is
        try:
            return 4, int.from_bytes(socket.inet_pton(socket.AF_INET, text), "big")
        except OSError:
            pass
        try:
            value = int.from_bytes(socket.inet_pton(socket.AF_INET6, text), "big")
        except OSError:
            return None
    elif isinstance(ip, ipaddress.IPv4Address):
        return 4, int(ip)
    elif isinstance(ip, ipaddress.IPv6Address):
        value = int(ip)
    else:
        return None
    if value >> 32 == 0xFFFF:
        return 4, value & 0xFFFFFFFF
    return 6, value
