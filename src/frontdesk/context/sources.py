"""Traffic source of a visit: advertising, search, social network, referring site, direct, internal.

``classify(landing, referrer, site_hosts)`` answers a :class:`Source`; ``label(source, lang)``
answers the short text an operator reads ("реклама · Яндекс", "поиск · Google: «купить диван»").

The knowledge lives in data, not in branches: :data:`RULES` is a table whose rows say which
kind and name a visit gets and how to recognise it — landing-URL parameters (click ids),
``utm_source`` aliases, referrer host patterns, and the referrer parameters that carry the
search phrase. :data:`PAID_MEDIUMS` / :data:`SOCIAL_MEDIUMS` / :data:`ORGANIC_MEDIUMS` say how
``utm_medium`` is read. Order of decision (first that answers wins):

1. a paid click id in the landing URL (``yclid``, ``gclid``, ``msclkid``, ``_openstat`` …);
2. ``utm_*`` tags: a paid ``utm_medium`` → ads; otherwise the row whose alias is ``utm_source``
   (medium ``organic`` → search, ``social`` → social), else the kind ``campaign``;
3. the referrer: an ad server, a search engine, a social network (rows in table order),
   the site itself → ``internal``, any other site → ``referral``;
4. hints left by a source that hid its referrer (``ysclid`` → Yandex search,
   ``fbclid`` → Facebook);
5. nothing → ``direct``.

``fbclid`` is deliberately *not* an ad signal: Facebook appends it to every outbound link,
organic posts included. ``ysclid`` likewise marks organic Yandex clicks.

Inputs are untrusted (a referrer is whatever the browser or a bot sent): every function here
answers for any string — empty, malformed, 1 MB long, with control characters or non-UTF-8
escapes — and never raises.
"""

from __future__ import annotations

import base64
import binascii
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import SplitResult, urlsplit

# URLs longer than this are cut before parsing and storing: browsers send at most a few KB
# (Chrome trims referrers to 4 KB), anything longer is a bot or an attack.
MAX_URL_CHARS = 8192
# A search phrase or a utm value longer than this is cut (a phrase is read by a person).
MAX_VALUE_CHARS = 200

KINDS = ("ads", "search", "social", "campaign", "referral", "internal", "direct")
UTM_KEYS = ("source", "medium", "campaign", "term", "content")


@dataclass(frozen=True)
class Rule:
    """One row of the source table.

    ``hosts`` patterns (matched against the referrer host, lower-cased, IDNA-decoded):
    ``"vk.com"`` — that host or ``www.`` / ``m.`` of it; ``"*.vk.com"`` — it and any subdomain;
    a last label ``*`` — any country TLD (``google.*`` = google.com, google.de, google.com.tr,
    google.co.uk …). Android app referrers (``android-app://org.telegram.messenger``) match
    by package name as a host.
    ``click_ids``: landing-URL parameters whose presence alone decides (paid clicks).
    ``utm_sources``: ``utm_source`` values (lower-case) that name this source.
    ``phrase_params``: referrer parameters holding the search phrase, first non-empty wins.
    """

    id: str
    kind: str
    name: str  # Russian (the canonical display name)
    name_en: str
    hosts: tuple[str, ...] = ()
    click_ids: tuple[str, ...] = ()
    utm_sources: tuple[str, ...] = ()
    phrase_params: tuple[str, ...] = ()


_YANDEX = ("Яндекс", "Yandex")
_GOOGLE = ("Google", "Google")
_VK = ("ВКонтакте", "VK")

RULES: tuple[Rule, ...] = (
    # --- paid clicks: a parameter in the landing URL ----------------------------------------
    Rule("yandex-direct-click", "ads", *_YANDEX, click_ids=("yclid",)),
    Rule("google-ads-click", "ads", *_GOOGLE, click_ids=("gclid", "gbraid", "wbraid", "dclid")),
    Rule("microsoft-ads-click", "ads", "Bing", "Bing", click_ids=("msclkid",)),
    Rule("vk-ads-click", "ads", *_VK, click_ids=("vkclid", "rb_clickid")),
    Rule("tiktok-ads-click", "ads", "TikTok", "TikTok", click_ids=("ttclid",)),
    # _openstat is decoded separately (base64 "service;campaign;ad;place"); this row names it
    # when the service inside is unknown.
    Rule("openstat-click", "ads", "Openstat", "Openstat", click_ids=("_openstat",)),
    # --- ad servers as referrers (before the search rows: an.yandex.ru is not a search) ---
    Rule(
        "yandex-ads-referrer", "ads", *_YANDEX,
        hosts=("an.yandex.ru", "yabs.yandex.ru", "*.yabs.yandex.ru", "direct.yandex.ru",
               "yabs.yandex.*", "an.yandex.*"),
        utm_sources=("yandex_direct", "yandexdirect", "direct", "direct.yandex.ru", "yandex.direct"),
    ),
    Rule(
        "google-ads-referrer", "ads", *_GOOGLE,
        hosts=("*.googleadservices.com", "*.doubleclick.net", "*.googlesyndication.com"),
        utm_sources=("adwords", "google_ads", "googleads", "google-ads"),
    ),
    # --- search engines -----------------------------------------------------------------------
    Rule(
        "yandex-search", "search", *_YANDEX,
        # yandex.ru/com/kz/by/uz/ua/az/com.tr/com.am/co.il/… and the short ya.ru
        hosts=("yandex.*", "ya.ru", "яндекс.рф", "images.yandex.*", "ru.yandex.searchplugin",
               "com.yandex.browser"),
        utm_sources=("yandex", "ya", "yandex.ru", "ya.ru"),
        phrase_params=("text",),
    ),
    Rule(
        "google-search", "search", *_GOOGLE,
        hosts=("google.*", "images.google.*", "news.google.*",
               "com.google.android.googlequicksearchbox"),
        utm_sources=("google", "google.com"),
        phrase_params=("q",),
    ),
    Rule("bing-search", "search", "Bing", "Bing", hosts=("bing.com", "cn.bing.com"),
         utm_sources=("bing",), phrase_params=("q",)),
    Rule("mailru-search", "search", "Поиск Mail.ru", "Mail.ru Search",
         hosts=("go.mail.ru", "search.mail.ru"),
         utm_sources=("mail.ru", "mailru", "go.mail.ru"), phrase_params=("q",)),
    Rule("duckduckgo-search", "search", "DuckDuckGo", "DuckDuckGo", hosts=("duckduckgo.com",),
         utm_sources=("duckduckgo",), phrase_params=("q",)),
    Rule("rambler-search", "search", "Рамблер", "Rambler",
         hosts=("nova.rambler.ru", "rambler.ru", "search.rambler.ru"),
         utm_sources=("rambler",), phrase_params=("query", "words")),
    Rule("yahoo-search", "search", "Yahoo", "Yahoo",
         hosts=("search.yahoo.com", "*.search.yahoo.com", "search.yahoo.*"),
         utm_sources=("yahoo",), phrase_params=("p",)),
    Rule("baidu-search", "search", "Baidu", "Baidu", hosts=("baidu.com",),
         utm_sources=("baidu",), phrase_params=("wd", "word")),
    Rule("ecosia-search", "search", "Ecosia", "Ecosia", hosts=("ecosia.org",),
         utm_sources=("ecosia",), phrase_params=("q",)),
    Rule("brave-search", "search", "Brave", "Brave", hosts=("search.brave.com",),
         phrase_params=("q",)),
    Rule("qwant-search", "search", "Qwant", "Qwant", hosts=("qwant.com",), phrase_params=("q",)),
    Rule("startpage-search", "search", "Startpage", "Startpage", hosts=("startpage.com",),
         phrase_params=("query", "q")),
    # --- social networks and communities ------------------------------------------------------
    Rule("dzen", "social", "Дзен", "Dzen", hosts=("*.dzen.ru", "zen.yandex.*"),
         utm_sources=("dzen", "zen", "yandex.zen")),
    Rule("vk", "social", *_VK, hosts=("*.vk.com", "*.vk.ru", "*.vkontakte.ru", "com.vkontakte.android"),
         utm_sources=("vk", "vkontakte", "vk.com", "vk.ru")),
    Rule("ok", "social", "Одноклассники", "OK", hosts=("*.ok.ru", "*.odnoklassniki.ru"),
         utm_sources=("ok", "odnoklassniki", "ok.ru")),
    Rule("telegram", "social", "Telegram", "Telegram",
         hosts=("t.me", "telegram.me", "*.telegram.org", "org.telegram.messenger"),
         utm_sources=("telegram", "tg", "t.me")),
    Rule("whatsapp", "social", "WhatsApp", "WhatsApp", hosts=("wa.me", "*.whatsapp.com"),
         utm_sources=("whatsapp",)),
    Rule("facebook", "social", "Facebook", "Facebook", hosts=("*.facebook.com", "fb.com", "fb.me"),
         utm_sources=("facebook", "fb", "facebook.com")),
    Rule("instagram", "social", "Instagram", "Instagram", hosts=("*.instagram.com",),
         utm_sources=("instagram", "ig")),
    Rule("youtube", "social", "YouTube", "YouTube", hosts=("*.youtube.com", "youtu.be"),
         utm_sources=("youtube",)),
    Rule("twitter", "social", "X (Twitter)", "X (Twitter)", hosts=("twitter.com", "x.com", "t.co"),
         utm_sources=("twitter", "x")),
    Rule("linkedin", "social", "LinkedIn", "LinkedIn", hosts=("*.linkedin.com", "lnkd.in"),
         utm_sources=("linkedin",)),
    Rule("tiktok", "social", "TikTok", "TikTok", hosts=("*.tiktok.com",), utm_sources=("tiktok",)),
    Rule("pikabu", "social", "Пикабу", "Pikabu", hosts=("pikabu.ru",), utm_sources=("pikabu",)),
    Rule("habr", "social", "Хабр", "Habr", hosts=("*.habr.com", "habrahabr.ru"),
         utm_sources=("habr",)),
    Rule("vc", "social", "vc.ru", "vc.ru", hosts=("vc.ru",), utm_sources=("vc", "vc.ru")),
    Rule("reddit", "social", "Reddit", "Reddit", hosts=("*.reddit.com",), utm_sources=("reddit",)),
    Rule("pinterest", "social", "Pinterest", "Pinterest", hosts=("*.pinterest.com", "*.pinterest.ru"),
         utm_sources=("pinterest",)),
)

# utm_medium values that mean a paid placement (lower-case, compared after trimming).
PAID_MEDIUMS = frozenset({
    "cpc", "ppc", "cpm", "cpa", "cpv", "cpi", "paid", "paidsearch", "paid_search", "paid-search",
    "paidsocial", "paid_social", "paid-social", "display", "banner", "ad", "ads", "advertising",
    "retargeting", "remarketing", "context", "context-cpc", "search-cpc", "smm-paid", "targeting",
    "target", "promo-paid",
})
ORGANIC_MEDIUMS = frozenset({"organic", "seo"})
SOCIAL_MEDIUMS = frozenset({"social", "smm", "social-network", "social_network", "sm", "post"})

# Click ids that are kept (shown, stored) but decide nothing by themselves except as hints.
HINT_CLICK_IDS = {"ysclid": "yandex-search", "fbclid": "facebook"}

_RULES_BY_ID = {rule.id: rule for rule in RULES}

# Schemes whose "referrer" says nothing about where the visitor came from.
_NO_SOURCE_SCHEMES = frozenset({"javascript", "data", "about", "blob", "file", "chrome",
                                "chrome-extension", "moz-extension", "safari-extension",
                                "edge", "view-source", "vbscript"})
_APP_SCHEMES = frozenset({"android-app", "ios-app"})
# "yandex.ru/search?text=…" — a referrer written down without its scheme
_SCHEMELESS = re.compile(r"[\w.-]+\.[a-z]{2,}(?:[/?:]|$)", re.I)


def _compile_host_pattern(pattern: str) -> re.Pattern[str]:
    any_sub = pattern.startswith("*.")
    body = pattern[2:] if any_sub else pattern
    labels = body.split(".")
    parts = []
    for i, piece in enumerate(labels):
        if piece == "*" and i == len(labels) - 1:
            # any country TLD: de, ru, com, com.tr, co.uk, com.br …
            parts.append(r"(?:(?:com?|org|net)\.)?[a-z]{2,3}")
        else:
            parts.append(re.escape(piece))
    core = r"\.".join(parts)
    prefix = r"(?:[a-z0-9-]+\.)*" if any_sub else r"(?:www\.|m\.)?"
    return re.compile(prefix + core)


# Host matching without a loop over ~80 patterns: exact hosts (with www./m.) and "*.suffix"
# patterns go into dicts keyed by host / domain suffix; only the TLD-wildcard patterns
# ("google.*") are one regex alternation, a named group per rule row. The lowest row index
# among the candidates wins, as if the table were scanned in order.
_EXACT_HOSTS: dict[str, int] = {}
_SUFFIX_HOSTS: dict[str, int] = {}
_WILD_PARTS: list[str] = []
for _index, _rule in enumerate(RULES):
    _wild = []
    for _pattern in _rule.hosts:
        if _pattern.endswith(".*"):
            _wild.append(_compile_host_pattern(_pattern).pattern)
        elif _pattern.startswith("*."):
            _SUFFIX_HOSTS.setdefault(_pattern[2:], _index)
        else:
            for _prefix in ("", "www.", "m."):
                _EXACT_HOSTS.setdefault(_prefix + _pattern, _index)
    if _wild:
        _WILD_PARTS.append(f"(?P<r{_index}>" + "|".join(_wild) + ")")
_WILD_REGEX = re.compile("|".join(_WILD_PARTS))
_CLICK_ID_RULES: dict[str, Rule] = {
    param: rule for rule in RULES for param in rule.click_ids
}
_UTM_SOURCE_RULES: dict[str, Rule] = {}
for _rule in RULES:
    for _alias in _rule.utm_sources:
        _UTM_SOURCE_RULES.setdefault(_alias, _rule)


@dataclass(frozen=True)
class Source:
    """Where one visit came from. ``name`` is Russian, ``name_en`` English; both empty for
    ``direct`` / ``internal``. ``rule`` is the id of the table row that decided (or the kind
    itself for the fallbacks ``campaign`` / ``referral`` / ``internal`` / ``direct``).
    ``matched_by`` tells which evidence decided: ``click_id``, ``utm``, ``referrer``,
    ``hint`` or ``none``."""

    kind: str
    name: str = ""
    name_en: str = ""
    rule: str = ""
    matched_by: str = "none"
    search_phrase: str = ""
    utm: dict[str, str] = field(default_factory=dict)
    click_ids: dict[str, str] = field(default_factory=dict)
    referrer: str = ""
    landing: str = ""
    referrer_host: str = ""  # Unicode, without "www."
    decoded_referrer: str = ""
    decoded_landing: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind, "name": self.name, "name_en": self.name_en, "rule": self.rule,
            "matched_by": self.matched_by, "search_phrase": self.search_phrase,
            "utm": dict(self.utm), "click_ids": dict(self.click_ids),
            "referrer": self.referrer, "landing": self.landing,
            "referrer_host": self.referrer_host,
            "decoded_referrer": self.decoded_referrer, "decoded_landing": self.decoded_landing,
        }


# ----------------------------------------------------------------------------- decoding


def _decode_bytes(raw: bytes) -> str:
    """UTF-8 if it is UTF-8, else Windows-1251 (old Yandex / Rambler / Mail.ru links), else
    UTF-8 with replacement characters."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        text = raw.decode("cp1251")
    except UnicodeDecodeError:  # 0x98 is the one byte cp1251 leaves undefined
        return raw.decode("utf-8", errors="replace")
    return text


def _clean_text(text: str, limit: int = MAX_VALUE_CHARS) -> str:
    """Collapse whitespace, drop control and bidi-override characters, cut to ``limit``."""
    if text.isprintable():  # the usual case; isprintable() is False for Cc/Cf/Cs/Co/Cn/Z* but " "
        return " ".join(text.split())[:limit]
    out = []
    for ch in text:
        cat = unicodedata.category(ch)
        if cat in ("Cc", "Cf", "Cs", "Co", "Cn") or cat.startswith("Z"):
            out.append(" ")
        else:
            out.append(ch)
    cleaned = " ".join("".join(out).split())
    return cleaned[:limit]


def _run_bytes(run: str) -> bytes:
    """"%D0%B4%D0%B8" → b"\xd0\xb4\xd0\xb8" (C speed; urllib's unquote_to_bytes loops in Python)."""
    return bytes.fromhex(run.replace("%", ""))


def _unescape(text: str) -> str:
    """Form-decode one query key or value: "+" is a space, each run of %XX escapes is UTF-8
    (else cp1251); a "%" not followed by two hex digits stays as it is."""
    if "+" in text:
        text = text.replace("+", " ")
    if "%" not in text:
        return text
    return _ESCAPE_RUN.sub(lambda m: _decode_bytes(_run_bytes(m.group(0))), text)


def _query_params(query: str) -> dict[str, str]:
    """First value of each parameter, percent- and plus-decoded, cp1251 tolerated."""
    params: dict[str, str] = {}
    for piece in query.split("&"):
        if not piece:
            continue
        key, _, value = piece.partition("=")
        key = _unescape(key).strip().lower()
        if not key or key in params:
            continue
        params[key] = _unescape(value)
    return params


_ESCAPE_RUN = re.compile(r"(?:%[0-9A-Fa-f]{2})+")
# ASCII characters shown decoded in a readable URL; the rest (/?#&=+%; and controls) stay
# escaped so that the shown URL still means the same thing.
_SHOW_ASCII = frozenset(
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~!$'()*,:@ \"<>[]\\^`{|}"
)


_KEEP_ESCAPED = frozenset("#%&+/;=?")  # the printable ASCII characters not in _SHOW_ASCII


def _readable_escapes(text: str) -> str:
    def replace(match: re.Match[str]) -> str:
        run = match.group(0)
        decoded = _decode_bytes(_run_bytes(run))
        if "\ufffd" in decoded:
            return run
        if decoded.isprintable() and _KEEP_ESCAPED.isdisjoint(decoded):
            return decoded
        out = []
        for ch in decoded:
            cat = unicodedata.category(ch)
            if ch in _SHOW_ASCII or (ord(ch) > 0x7F and cat[0] not in "CZ"):
                out.append(ch)
            else:
                out.append("".join(f"%{b:02X}" for b in ch.encode("utf-8")))
        return "".join(out)

    return _ESCAPE_RUN.sub(replace, text)


def _decode_host(host: str) -> str:
    if "xn--" not in host:
        return host
    labels = []
    for label in host.split("."):
        if label.startswith("xn--"):
            try:
                label = label[4:].encode("ascii").decode("punycode")
            except (UnicodeError, ValueError):
                pass
        labels.append(label)
    return ".".join(labels)


def readable_url(url: str) -> str:
    """The URL as a person would read it: percent-escapes of text decoded (UTF-8, else
    cp1251), punycode host shown in Unicode. Reserved characters and control characters stay
    escaped, so the result still points where the original did. Never raises."""
    url = (url or "")[:MAX_URL_CHARS]
    if not url:
        return ""
    parts = _split(url)
    if parts is None or not parts.netloc:
        return _readable_escapes(url)
    netloc = parts.netloc
    if "xn--" in netloc.lower():
        netloc = re.sub(r"xn--[a-z0-9-]+", lambda m: _decode_host(m.group(0).lower()), netloc, flags=re.I)
    rebuilt = f"{parts.scheme}://{netloc}{parts.path}"
    if parts.query:
        rebuilt += "?" + parts.query
    if parts.fragment:
        rebuilt += "#" + parts.fragment
    return _readable_escapes(rebuilt)


def _split(url: str) -> SplitResult | None:
    try:
        return urlsplit(url.strip())
    except ValueError:  # "http://[::1" and friends
        return None


def _host_of(parts: SplitResult) -> str:
    try:
        host = parts.hostname or ""
    except ValueError:
        return ""
    return _decode_host(host.rstrip(".").lower())


def _normalise_site_host(value: str) -> str:
    value = (value or "").strip().lower()
    if "://" in value:
        parts = _split(value)
        value = _host_of(parts) if parts else ""
    else:
        value = value.split("/")[0].split(":")[0]
    value = _decode_host(value.rstrip("."))
    return value[4:] if value.startswith("www.") else value


def _strip_www(host: str) -> str:
    return host[4:] if host.startswith("www.") else host


# ----------------------------------------------------------------------------- matching


def match_referrer_host(host: str) -> Rule | None:
    """The first table row whose host pattern matches ``host`` (lower-case, Unicode)."""
    if not host or len(host) > 253:
        return None
    candidates = []
    if host in _EXACT_HOSTS:
        candidates.append(_EXACT_HOSTS[host])
    suffix = host
    while True:
        if suffix in _SUFFIX_HOSTS:
            candidates.append(_SUFFIX_HOSTS[suffix])
        dot = suffix.find(".")
        if dot < 0:
            break
        suffix = suffix[dot + 1:]
    match = _WILD_REGEX.fullmatch(host)
    if match is not None and match.lastgroup is not None:
        candidates.append(int(match.lastgroup[1:]))
    return RULES[min(candidates)] if candidates else None


def _openstat_rule(value: str) -> Rule:
    """``_openstat`` is base64 of "service;campaign;ad;place" (or that text as is)."""
    text = value
    try:
        padded = value + "=" * (-len(value) % 4)
        text = base64.b64decode(padded, altchars=b"-_", validate=False).decode("utf-8")
    except (binascii.Error, ValueError, UnicodeDecodeError):
        pass
    service = text.split(";", 1)[0].strip().lower()
    if "yandex" in service:
        return _RULES_BY_ID["yandex-direct-click"]
    if "google" in service:
        return _RULES_BY_ID["google-ads-click"]
    return _RULES_BY_ID["openstat-click"]


def _search_phrase(rule: Rule, params: Mapping[str, str]) -> str:
    for key in rule.phrase_params:
        value = _clean_text(params.get(key, ""))
        if value:
            return value
    return ""


def classify(landing: str | None, referrer: str | None, site_hosts: Iterable[str] = ()) -> Source:
    """Classify a visit by its landing URL and referrer. ``site_hosts`` are the site's own
    hosts (``example.com``, ``https://shop.example.com``, ``*.example.com`` for all
    subdomains); the landing URL's host always counts as the site's own. Never raises."""
    landing_raw = (landing or "")[:MAX_URL_CHARS] if isinstance(landing, str) else ""
    referrer_raw = (referrer or "")[:MAX_URL_CHARS] if isinstance(referrer, str) else ""

    landing_parts = _split(landing_raw)
    landing_params = _query_params(landing_parts.query) if landing_parts else {}
    utm = {}
    for key in UTM_KEYS:
        value = _clean_text(landing_params.get(f"utm_{key}", ""))
        if value:
            utm[key] = value
    click_ids = {}
    for key in (*_CLICK_ID_RULES, *HINT_CLICK_IDS):
        click = landing_params.get(key)
        if click is not None:
            click_ids[key] = _clean_text(click)

    ref_scheme, ref_host, ref_params = "", "", {}
    ref_text = referrer_raw.strip()
    if ref_text:
        ref_parts = _split(ref_text)
        if ref_parts is not None and not ref_parts.scheme and _SCHEMELESS.match(ref_text):
            ref_parts = _split("http://" + ref_text)  # a referrer logged without its scheme
        if ref_parts is not None:
            ref_scheme = ref_parts.scheme.lower()
            if ref_scheme in ("http", "https") or ref_scheme in _APP_SCHEMES:
                ref_host = _host_of(ref_parts)
                ref_params = _query_params(ref_parts.query)

    if isinstance(site_hosts, str):  # one host given as a bare string
        site_hosts = (site_hosts,)
    site = {_normalise_site_host(h) for h in site_hosts if isinstance(h, str)}
    site.discard("")
    if landing_parts is not None:
        landing_host = _strip_www(_host_of(landing_parts))
        if landing_host:
            site.add(landing_host)

    common: dict[str, Any] = dict(
        utm=utm, click_ids=click_ids, referrer=referrer_raw, landing=landing_raw,
        referrer_host=_strip_www(ref_host),
        decoded_referrer=readable_url(referrer_raw), decoded_landing=readable_url(landing_raw),
    )

    def answer(kind: str, rule: Rule | None, matched_by: str, phrase: str = "",
               name: str = "", name_en: str = "") -> Source:
        if rule is not None:
            name, name_en = rule.name, rule.name_en
        return Source(kind=kind, name=name, name_en=name_en or name,
                      rule=rule.id if rule else kind, matched_by=matched_by,
                      search_phrase=phrase, **common)

    # 1. paid click ids
    for key, click_rule in _CLICK_ID_RULES.items():
        if key in landing_params:
            if key == "_openstat":
                click_rule = _openstat_rule(landing_params[key])
            return answer("ads", click_rule, "click_id")

    # 2. utm tags
    if utm.get("source") or utm.get("medium"):
        source = utm.get("source", "").lower()
        medium = utm.get("medium", "").lower()
        rule: Rule | None = _UTM_SOURCE_RULES.get(source)
        if medium in PAID_MEDIUMS:
            if rule is not None:
                return answer("ads", rule, "utm")
            return answer("ads", None, "utm", name=utm.get("source", ""))
        if rule is not None:
            kind = rule.kind
            if medium in ORGANIC_MEDIUMS:
                kind = "search"
            elif medium in SOCIAL_MEDIUMS:
                kind = "social"
            return answer(kind, rule, "utm")
        if source:
            if medium in ORGANIC_MEDIUMS:
                return answer("search", None, "utm", name=utm["source"])
            if medium in SOCIAL_MEDIUMS:
                return answer("social", None, "utm", name=utm["source"])
            return answer("campaign", None, "utm", name=utm["source"])

    # 3. the referrer
    if ref_host:
        bare = _strip_www(ref_host)
        if _is_site_host(bare, site):
            return answer("internal", None, "referrer")
        rule = match_referrer_host(ref_host)
        if rule is not None:
            phrase = _search_phrase(rule, ref_params) if rule.kind == "search" else ""
            return answer(rule.kind, rule, "referrer", phrase)
        return answer("referral", None, "referrer", name=bare)

    # 4. hints from sources that hide their referrer
    for key, rule_id in HINT_CLICK_IDS.items():
        if key in landing_params:
            rule = _RULES_BY_ID[rule_id]
            return answer(rule.kind, rule, "hint")

    # 5. nothing at all
    return answer("direct", None, "none")


def _is_site_host(host: str, site: set[str]) -> bool:
    if host in site:
        return True
    for own in site:
        if own.startswith("*.") and (host == own[2:] or host.endswith(own[1:])):
            return True
    return False


# ----------------------------------------------------------------------------- labels

_KIND_WORDS = {
    "ru": {"ads": "реклама", "search": "поиск", "social": "соцсеть", "campaign": "кампания",
           "referral": "переход с", "internal": "внутренний переход", "direct": "прямой заход"},
    "en": {"ads": "ads", "search": "search", "social": "social", "campaign": "campaign",
           "referral": "referral ·", "internal": "internal", "direct": "direct"},
}
_QUOTES = {"ru": ("«", "»"), "en": ("“", "”")}


def label(source: Source, lang: str = "ru") -> str:
    """Short text for the operator: "реклама · Яндекс", "поиск · Google: «купить диван»",
    "соцсеть · ВКонтакте", "переход с example.com", "прямой заход" (en: "ads · Yandex",
    "search · Google: “buy sofa”", "social · VK", "referral · example.com", "direct")."""
    lang = lang if lang in _KIND_WORDS else "en"
    words = _KIND_WORDS[lang]
    kind = source.kind if source.kind in words else "direct"
    if kind in ("direct", "internal"):
        return words[kind]
    name = (source.name if lang == "ru" else source.name_en) or source.name
    if kind == "referral":
        return f"{words[kind]} {name}"
    text = f"{words[kind]} · {name}" if name else words[kind]
    if kind == "search" and source.search_phrase:
        left, right = _QUOTES[lang]
        text += f": {left}{source.search_phrase}{right}"
    elif kind == "campaign" and source.utm.get("medium"):
        text += f" ({source.utm['medium']})"
    return text
