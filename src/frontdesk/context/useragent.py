"""Browser, operating system and device type from a User-Agent string.

``parse_user_agent(ua)`` answers a :class:`UserAgentInfo`; ``info.label("ru")`` the short text
an operator reads: "Chrome 120 · Windows 10 · компьютер".

Parsing is done by ua-parser (the maintained Python port of the uap-core regexes, Apache-2.0)
with its compiled regex set from ``ua-parser-builtins`` and, when installed, the native
``ua-parser-rs`` matcher (the ``ua-parser[regex]`` extra, ~50x faster than pure Python).
The same User-Agent repeats on every page view of a visitor, so answers are cached in an LRU
keyed by the (cut) string.

What ua-parser leaves open is decided here: the device *type* (desktop / phone / tablet /
bot / unknown), friendlier browser and OS names ("Mobile Safari" → Safari, "Mac OS X" →
macOS, iOS on an iPad → iPadOS).

Known limits of the User-Agent itself (not of the parser): Windows 11 sends the same
"Windows NT 10.0" as Windows 10; an iPad with iPadOS 13+ in Safari's default desktop mode
sends a Mac User-Agent and is read as macOS / desktop; macOS versions after 10.15 are frozen
at "10_15_7" by Safari and Chrome (shown as plain "macOS").
"""

from __future__ import annotations

import functools
import re
from dataclasses import asdict, dataclass
from typing import Any

import ua_parser

# A real User-Agent is 100–400 characters; longer ones are cut before parsing and caching so
# that the cache stays bounded in memory (CACHE_SIZE × MAX_UA_CHARS at worst).
MAX_UA_CHARS = 1024
CACHE_SIZE = 4096

DEVICE_TYPES = ("desktop", "phone", "tablet", "bot", "unknown")

_DEVICE_WORDS = {
    "ru": {"desktop": "компьютер", "phone": "телефон", "tablet": "планшет", "bot": "бот",
           "unknown": "неизвестное устройство"},
    "en": {"desktop": "desktop", "phone": "phone", "tablet": "tablet", "bot": "bot",
           "unknown": "unknown device"},
}

# ua-parser family → shown name (en, ru). Families not listed are shown as ua-parser names them.
_BROWSER_NAMES = {
    "Chrome Mobile": ("Chrome", "Chrome"),
    "Chrome Mobile iOS": ("Chrome", "Chrome"),
    "Chrome Mobile WebView": ("Chrome WebView", "Chrome WebView"),
    "Mobile Safari": ("Safari", "Safari"),
    "Mobile Safari UI/WKWebView": ("Safari WebView", "Safari WebView"),
    "Firefox Mobile": ("Firefox", "Firefox"),
    "Firefox iOS": ("Firefox", "Firefox"),
    "Edge Mobile": ("Edge", "Edge"),
    "Opera Mobile": ("Opera", "Opera"),
    "Yandex Browser": ("Yandex Browser", "Яндекс Браузер"),
    "Amazon Silk": ("Silk", "Silk"),
    "Other": ("", ""),
}
_OS_NAMES = {"Mac OS X": "macOS", "Other": ""}
_DESKTOP_OS = frozenset({"Windows", "Mac OS X", "Linux", "Ubuntu", "Chrome OS", "Fedora",
                         "Debian", "FreeBSD", "OpenBSD", "NetBSD", "Arch Linux", "Mint",
                         "Red Hat", "SUSE", "Gentoo", "Slackware", "Kubuntu", "Solaris"})
# Programs rather than people (ua-parser names most crawlers as device "Spider" already).
_AUTOMATION_FAMILIES = frozenset({
    "HeadlessChrome", "curl", "Wget", "Python Requests", "Python-urllib", "Go-http-client",
    "Apache-HttpClient", "okhttp", "PhantomJS", "Java", "aiohttp", "Scrapy", "PostmanRuntime",
    "Electron Headless", "Puppeteer",
})
# Plain substring tests on the lower-cased string: a case-insensitive regex alternation of
# the same words is ~50x slower in Python's re (no literal prefix to scan for).
_BOT_WORDS = ("headless", "crawler", "spider", "scraper", "bot/", "bot;", "lighthouse",
              "facebookexternalhit", "python-", "curl/", "wget/", "httpclient", "go-http",
              "okhttp", "node-fetch", "axios/", "preview")
_BOT_WORD = re.compile(r"\bbot\b")  # "bot" as a word, not "Cubot" (a phone brand)
_TABLET_WORDS = ("ipad", "tablet", "kindle", "silk/", "playbook")
_PHONE_WORDS = ("iphone", "ipod", "windows phone", "mobi", "blackberry", "opera mini")
_DESKTOP_WORDS = ("windows nt", "macintosh", "x11")


def _looks_like_bot(low: str) -> bool:
    return any(w in low for w in _BOT_WORDS) or ("bot" in low and _BOT_WORD.search(low) is not None)


_CLEAN = re.compile(r"[\x00-\x1f\x7f]+")


@dataclass(frozen=True)
class UserAgentInfo:
    browser: str = ""
    browser_version: str = ""  # major version, "120"
    os: str = ""
    os_version: str = ""  # "10", "17.2", "14"
    device_type: str = "unknown"  # one of DEVICE_TYPES
    device_brand: str = ""
    device_model: str = ""
    browser_ru: str = ""

    def label(self, lang: str = "ru") -> str:
        return label(self, lang)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def label(info: UserAgentInfo, lang: str = "ru") -> str:
    """"Chrome 120 · Windows 10 · компьютер" / "Safari 17 · iOS 17.2 · phone"."""
    lang = lang if lang in _DEVICE_WORDS else "en"
    browser = (info.browser_ru if lang == "ru" else info.browser) or info.browser
    parts = []
    if browser:
        parts.append(f"{browser} {info.browser_version}".strip())
    if info.os:
        shown_version = info.os_version
        if info.os == "macOS" and shown_version.startswith("10.15"):
            shown_version = ""  # frozen by the browsers, says nothing
        parts.append(f"{info.os} {shown_version}".strip())
    parts.append(_DEVICE_WORDS[lang][info.device_type])
    return " · ".join(parts)


def _version(*pieces: str | None) -> str:
    out = []
    for piece in pieces:
        if not piece:
            break
        out.append(piece)
    return ".".join(out)


def _device_type(ua: str, result: ua_parser.Result) -> str:
    family = result.user_agent.family if result.user_agent else ""
    os_family = result.os.family if result.os else ""
    device = result.device.family if result.device else ""
    low = ua.lower()
    if device == "Spider" or family in _AUTOMATION_FAMILIES or _looks_like_bot(low):
        return "bot"
    if device in ("iPad", "Kindle") or any(w in low for w in _TABLET_WORDS):
        return "tablet"
    if device in ("iPhone", "iPod") or any(w in low for w in _PHONE_WORDS):
        return "phone"
    if os_family == "Android":
        return "tablet"  # Android without "Mobile" is a tablet by Google's own convention
    if os_family in _DESKTOP_OS or any(w in low for w in _DESKTOP_WORDS):
        return "desktop"
    return "unknown"


def _build(ua: str, result: ua_parser.Result) -> UserAgentInfo:
    agent, os_, device = result.user_agent, result.os, result.device
    family = agent.family if agent else ""
    browser, browser_ru = _BROWSER_NAMES.get(family, (family, family))
    os_family = os_.family if os_ else ""
    os_name = _OS_NAMES.get(os_family, os_family)
    os_version = _version(os_.major, os_.minor) if os_ else ""
    if os_family == "Windows":
        os_version = os_.major or "" if os_ else ""
    elif os_family == "Android":
        os_version = os_.major or "" if os_ else ""
    elif os_family in ("Chrome OS", "Linux", "Ubuntu"):
        os_version = ""  # a build number / nothing a person would recognise
    if os_name == "iOS" and device is not None and device.family == "iPad":
        major = (os_.major if os_ is not None else None) or "0"
        os_name = "iPadOS" if major.isdigit() and int(major) >= 13 else os_name
    brand = device.brand if device and device.brand not in (None, "Generic", "Generic_Android", "Spider") else ""
    model = device.model if device and brand else ""
    return UserAgentInfo(
        browser=browser,
        browser_version=(agent.major or "") if agent and browser else "",
        os=os_name,
        os_version=os_version if os_name else "",
        device_type=_device_type(ua, result),
        device_brand=brand or "",
        device_model=model or "",
        browser_ru=browser_ru,
    )


def _make_parser() -> ua_parser.Parser:
    """A parser without ua-parser's own cache (we cache the finished answer instead)."""
    matchers = ua_parser.load_lazy_builtins() if ua_parser.RegexResolver else ua_parser.load_builtins()
    return ua_parser.Parser(ua_parser.BestAvailableResolver(matchers))


_parser: ua_parser.Parser | None = None


def _get_parser() -> ua_parser.Parser:
    global _parser
    if _parser is None:
        _parser = _make_parser()
    return _parser


def _normalise(ua: object) -> str:
    if not isinstance(ua, str):
        return ""
    ua = ua[:MAX_UA_CHARS]
    # lone surrogates cannot cross into the native matcher; control characters mean nothing
    ua = ua.encode("utf-8", "replace").decode("utf-8")
    return _CLEAN.sub(" ", ua).strip()


def parse_uncached(ua: str) -> UserAgentInfo:
    """Parse without the cache (benchmarks; callers want :func:`parse_user_agent`)."""
    ua = _normalise(ua)
    if not ua:
        return UserAgentInfo()
    try:
        result = _get_parser().parse(ua)
    except Exception:  # a parser bug on hostile input must not reach the caller
        return UserAgentInfo(device_type="bot" if _looks_like_bot(ua.lower()) else "unknown")
    return _build(ua, result)


@functools.lru_cache(maxsize=CACHE_SIZE)
def _parse_cached(ua: str) -> UserAgentInfo:
    return parse_uncached(ua)


def parse_user_agent(ua: str | None) -> UserAgentInfo:
    """Browser / OS / device type of ``ua``. Cached (LRU, :data:`CACHE_SIZE` entries, keyed by
    the string cut to :data:`MAX_UA_CHARS`); never raises, answers an all-empty ``unknown``
    for junk."""
    return _parse_cached(ua[:MAX_UA_CHARS] if isinstance(ua, str) else "")


def cache_info() -> Any:
    return _parse_cached.cache_info()


def cache_clear() -> None:
    _parse_cached.cache_clear()
