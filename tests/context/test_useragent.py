"""User-Agent → browser / OS / device type on real desktop and phone user agents."""

from __future__ import annotations

import pytest

from frontdesk.context import useragent
from frontdesk.context.useragent import UserAgentInfo, parse_user_agent

# (id, user agent, ru label, en label)
REAL_AGENTS = [
    ("chrome-windows",
     "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36",
     "Chrome 120 · Windows 10 · компьютер", "Chrome 120 · Windows 10 · desktop"),
    ("firefox-windows",
     "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:121.0) Gecko/20100101 Firefox/121.0",
     "Firefox 121 · Windows 10 · компьютер", "Firefox 121 · Windows 10 · desktop"),
    ("edge-windows",
     "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36 Edg/120.0.2210.91",
     "Edge 120 · Windows 10 · компьютер", "Edge 120 · Windows 10 · desktop"),
    ("yandex-browser-windows",
     "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/118.0.0.0 YaBrowser/23.11.0.0 Safari/537.36",
     "Яндекс Браузер 23 · Windows 10 · компьютер", "Yandex Browser 23 · Windows 10 · desktop"),
    ("opera-windows",
     "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36 OPR/106.0.0.0",
     "Opera 106 · Windows 10 · компьютер", "Opera 106 · Windows 10 · desktop"),
    ("chrome-windows-7",
     "Mozilla/5.0 (Windows NT 6.1; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/109.0.0.0 Safari/537.36",
     "Chrome 109 · Windows 7 · компьютер", "Chrome 109 · Windows 7 · desktop"),
    ("safari-macos",
     "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.2 Safari/605.1.15",
     "Safari 17 · macOS · компьютер", "Safari 17 · macOS · desktop"),
    ("chrome-macos",
     "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36",
     "Chrome 120 · macOS · компьютер", "Chrome 120 · macOS · desktop"),
    ("firefox-macos",
     "Mozilla/5.0 (Macintosh; Intel Mac OS X 14.2; rv:121.0) Gecko/20100101 Firefox/121.0",
     "Firefox 121 · macOS 14.2 · компьютер", "Firefox 121 · macOS 14.2 · desktop"),
    ("chrome-linux",
     "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36",
     "Chrome 120 · Linux · компьютер", "Chrome 120 · Linux · desktop"),
    ("firefox-ubuntu",
     "Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0",
     "Firefox 121 · Ubuntu · компьютер", "Firefox 121 · Ubuntu · desktop"),
    ("chrome-os",
     "Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36",
     "Chrome 120 · Chrome OS · компьютер", "Chrome 120 · Chrome OS · desktop"),
    ("chrome-android",
     "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.6099.144 Mobile Safari/537.36",
     "Chrome 120 · Android 10 · телефон", "Chrome 120 · Android 10 · phone"),
    ("samsung-internet",
     "Mozilla/5.0 (Linux; Android 13; SM-S911B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/23.0 Chrome/115.0.0.0 Mobile Safari/537.36",
     "Samsung Internet 23 · Android 13 · телефон", "Samsung Internet 23 · Android 13 · phone"),
    ("yandex-browser-android",
     "Mozilla/5.0 (Linux; Android 12; M2101K6G) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/112.0.0.0 YaBrowser/23.5.5.85.00 SA/3 Mobile Safari/537.36",
     "Яндекс Браузер 23 · Android 12 · телефон", "Yandex Browser 23 · Android 12 · phone"),
    ("firefox-android",
     "Mozilla/5.0 (Android 14; Mobile; rv:121.0) Gecko/121.0 Firefox/121.0",
     "Firefox 121 · Android 14 · телефон", "Firefox 121 · Android 14 · phone"),
    ("edge-android",
     "Mozilla/5.0 (Linux; Android 13; Pixel 7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/116.0.0.0 Mobile Safari/537.36 EdgA/116.0.1938.79",
     "Edge 116 · Android 13 · телефон", "Edge 116 · Android 13 · phone"),
    ("chrome-android-tablet",
     "Mozilla/5.0 (Linux; Android 13; SM-X706B) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36",
     "Chrome 120 · Android 13 · планшет", "Chrome 120 · Android 13 · tablet"),
    ("safari-iphone",
     "Mozilla/5.0 (iPhone; CPU iPhone OS 17_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.2 Mobile/15E148 Safari/604.1",
     "Safari 17 · iOS 17.2 · телефон", "Safari 17 · iOS 17.2 · phone"),
    ("chrome-iphone",
     "Mozilla/5.0 (iPhone; CPU iPhone OS 17_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/120.0.6099.119 Mobile/15E148 Safari/604.1",
     "Chrome 120 · iOS 17.2 · телефон", "Chrome 120 · iOS 17.2 · phone"),
    ("yandex-browser-iphone",
     "Mozilla/5.0 (iPhone; CPU iPhone OS 16_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/16.6 YaBrowser/23.11.3.441.10 SA/3 Mobile/15E148 Safari/604.1",
     "Яндекс Браузер 23 · iOS 16.6 · телефон", "Yandex Browser 23 · iOS 16.6 · phone"),
    ("safari-ipad",
     "Mozilla/5.0 (iPad; CPU OS 17_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.2 Mobile/15E148 Safari/604.1",
     "Safari 17 · iPadOS 17.2 · планшет", "Safari 17 · iPadOS 17.2 · tablet"),
    ("kindle-silk",
     "Mozilla/5.0 (Linux; Android 11; KFTRWI) AppleWebKit/537.36 (KHTML, like Gecko) Silk/120.3.1 like Chrome/120.0.6099.116 Safari/537.36",
     "Silk 120 · Android 11 · планшет", "Silk 120 · Android 11 · tablet"),
    ("yandexbot", "Mozilla/5.0 (compatible; YandexBot/3.0; +http://yandex.com/bots)",
     "YandexBot 3 · бот", "YandexBot 3 · bot"),
    ("googlebot-smartphone",
     "Mozilla/5.0 (Linux; Android 6.0.1; Nexus 5X Build/MMB29P) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.6099.71 Mobile Safari/537.36 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
     "Googlebot 2 · Android 6 · бот", "Googlebot 2 · Android 6 · bot"),
    ("headless-chrome",
     "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/120.0.0.0 Safari/537.36",
     "HeadlessChrome 120 · Linux · бот", "HeadlessChrome 120 · Linux · bot"),
    ("curl", "curl/8.4.0", "curl 8 · бот", "curl 8 · bot"),
    ("telegram-link-preview", "TelegramBot (like TwitterBot)", "TelegramBot · бот", "TelegramBot · bot"),
    # "Cubot" is a phone brand, not a bot
    ("cubot-phone",
     "Mozilla/5.0 (Linux; Android 12; CUBOT X30) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Mobile Safari/537.36",
     "Chrome 120 · Android 12 · телефон", "Chrome 120 · Android 12 · phone"),
]


@pytest.mark.parametrize("ua, ru, en", [pytest.param(*case[1:], id=case[0]) for case in REAL_AGENTS])
def test_real_user_agents(ua, ru, en):
    info = parse_user_agent(ua)
    assert info.label("ru") == ru
    assert info.label("en") == en
    assert info.device_type in useragent.DEVICE_TYPES


def test_fields_of_a_phone():
    info = parse_user_agent(REAL_AGENTS[13][1])  # Samsung Internet
    assert info == UserAgentInfo(browser="Samsung Internet", browser_version="23", os="Android",
                                 os_version="13", device_type="phone", device_brand="Samsung",
                                 device_model="SM-S911B", browser_ru="Samsung Internet")
    assert info.to_dict()["device_type"] == "phone"


@pytest.mark.parametrize("junk", [
    "", " ", "x" * 10_000, "\x00\x01\x02\x1b[31m\x7f", "\ud800\udfff lone surrogates",
    "Mozilla/5.0 (" * 2000, "😀" * 3000, "()()()((((", "Mozilla/5.0 (Windows NT 10.0\r\nX-Injected: 1)",
    None, 42,
])
def test_junk_never_raises(junk):
    info = parse_user_agent(junk)  # type: ignore[arg-type]
    assert info.device_type in useragent.DEVICE_TYPES
    assert isinstance(info.label("ru"), str) and info.label("ru")


def test_empty_is_unknown_device():
    assert parse_user_agent("").label("ru") == "неизвестное устройство"
    assert parse_user_agent(None).label("en") == "unknown device"


def test_repeated_user_agent_is_served_from_the_cache():
    useragent.cache_clear()
    ua = REAL_AGENTS[0][1]
    first = parse_user_agent(ua)
    second = parse_user_agent(ua)
    assert second is first
    info = useragent.cache_info()
    assert (info.hits, info.misses) == (1, 1)


def test_cache_key_is_cut_so_memory_stays_bounded():
    useragent.cache_clear()
    base = "y" * useragent.MAX_UA_CHARS
    parse_user_agent(base + "a")
    parse_user_agent(base + "b")  # differs only past the cut: same entry
    assert useragent.cache_info().misses == 1
    assert useragent.cache_info().currsize == 1


def test_uncached_parse_gives_the_same_answer():
    for case in REAL_AGENTS[:5]:
        assert useragent.parse_uncached(case[1]) == parse_user_agent(case[1])
