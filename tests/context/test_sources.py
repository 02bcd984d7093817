"""Traffic source classification on real-world landing / referrer pairs.

Every row of the rule table must be hit by at least one case here
(test_every_rule_row_is_exercised), so adding a row without a case fails the suite.
"""

from __future__ import annotations

import pytest

from frontdesk.context import sources
from frontdesk.context.sources import RULES, classify, label, readable_url

SHOP = "https://shop.example.ru/"
# "купить диван" percent-encoded in UTF-8 and in Windows-1251
KUPIT_DIVAN_UTF8 = "%D0%BA%D1%83%D0%BF%D0%B8%D1%82%D1%8C+%D0%B4%D0%B8%D0%B2%D0%B0%D0%BD"
KUPIT_DIVAN_CP1251 = "%EA%F3%EF%E8%F2%FC+%E4%E8%E2%E0%ED"

# (case id, landing, referrer, rule id, ru label, en label)
CASES = [
    # --- Yandex Direct --------------------------------------------------------------------------
    ("yandex-direct-yclid-utm",
     SHOP + "?utm_source=yandex&utm_medium=cpc&utm_campaign=12345678&utm_content=16-1&utm_term="
     + KUPIT_DIVAN_UTF8 + "&yclid=8031227542829318143",
     "https://yandex.ru/", "yandex-direct-click", "реклама · Яндекс", "ads · Yandex"),
    ("yandex-direct-yclid-only", SHOP + "catalog/sofas?yclid=2749523415613441535", "",
     "yandex-direct-click", "реклама · Яндекс", "ads · Yandex"),
    ("yandex-direct-utm-only", SHOP + "?utm_source=yandex&utm_medium=cpc&utm_campaign=sofas",
     "", "yandex-search", "реклама · Яндекс", "ads · Yandex"),
    ("yandex-direct-utm-alias", SHOP + "?utm_source=yandex_direct&utm_medium=paid", "",
     "yandex-ads-referrer", "реклама · Яндекс", "ads · Yandex"),
    ("yandex-ad-network-referrer", SHOP,
     "https://an.yandex.ru/count/WZiejI_zO7C1vH0000000Gz0Jkq00000FgVk3m8f", "yandex-ads-referrer",
     "реклама · Яндекс", "ads · Yandex"),
    ("openstat-yandex", SHOP + "?_openstat=ZGlyZWN0LnlhbmRleC5ydTsxMjM0NTsxMjM0NTY3O3lhbmRleC5ydTpwcmVtaXVt",
     "https://yandex.ru/", "yandex-direct-click", "реклама · Яндекс", "ads · Yandex"),
    ("openstat-other", SHOP + "?_openstat=YmVndW4ucnU7MTsyOzM=", "", "openstat-click",
     "реклама · Openstat", "ads · Openstat"),
    # --- Google Ads and other paid clicks -------------------------------------------------------
    ("google-ads-gclid", SHOP + "?gclid=Cj0KCQiA4NWrBhD-ARIsAFCKwWvV9Xz2kOaEAl_wcB",
     "https://www.google.com/", "google-ads-click", "реклама · Google", "ads · Google"),
    ("google-ads-gbraid-ios", SHOP + "?gbraid=0AAAAADxyz&utm_source=google&utm_medium=cpc", "",
     "google-ads-click", "реклама · Google", "ads · Google"),
    ("google-adservices-referrer", SHOP,
     "https://www.googleadservices.com/pagead/aclk?sa=L&ai=DChcSEwi&sig=AOD64_3", "google-ads-referrer",
     "реклама · Google", "ads · Google"),
    ("google-doubleclick-referrer", SHOP, "https://googleads.g.doubleclick.net/pagead/ads?client=ca-pub-1",
     "google-ads-referrer", "реклама · Google", "ads · Google"),
    ("bing-ads", SHOP + "?msclkid=5b1c9e0f2a3d1e7b8c9d", "https://www.bing.com/", "microsoft-ads-click",
     "реклама · Bing", "ads · Bing"),
    ("vk-ads-rb-clickid", SHOP + "?rb_clickid=123456789-abc", "", "vk-ads-click",
     "реклама · ВКонтакте", "ads · VK"),
    ("vk-ads-utm", SHOP + "?utm_source=vk&utm_medium=cpc&utm_campaign=retarget", "https://vk.com/",
     "vk", "реклама · ВКонтакте", "ads · VK"),
    ("tiktok-ads", SHOP + "?ttclid=E.C.P.abc", "", "tiktok-ads-click", "реклама · TikTok", "ads · TikTok"),
    ("unknown-ad-network-utm", SHOP + "?utm_source=myTarget&utm_medium=cpm", "",
     "ads", "реклама · myTarget", "ads · myTarget"),
    # --- search engines -------------------------------------------------------------------------
    ("yandex-organic-phrase", SHOP, "https://yandex.ru/search/?text=" + KUPIT_DIVAN_UTF8 + "&lr=213&clid=2270455",
     "yandex-search", "поиск · Яндекс: «купить диван»", "search · Yandex: “купить диван”"),
    ("yandex-organic-cp1251", SHOP, "http://yandex.ru/yandsearch?text=" + KUPIT_DIVAN_CP1251 + "&lr=2",
     "yandex-search", "поиск · Яндекс: «купить диван»", "search · Yandex: “купить диван”"),
    ("yandex-organic-origin-only", SHOP + "?ysclid=lq2k3j4h5g123456789", "https://yandex.ru/",
     "yandex-search", "поиск · Яндекс", "search · Yandex"),
    ("yandex-ysclid-without-referrer", SHOP + "?ysclid=lq2k3j4h5g123456789", "",
     "yandex-search", "поиск · Яндекс", "search · Yandex"),
    ("yandex-kz", SHOP, "https://yandex.kz/search/?text=%D0%B4%D0%B8%D0%B2%D0%B0%D0%BD", "yandex-search",
     "поиск · Яндекс: «диван»", "search · Yandex: “диван”"),
    ("yandex-com-tr", SHOP, "https://yandex.com.tr/", "yandex-search", "поиск · Яндекс", "search · Yandex"),
    ("yandex-by", SHOP, "https://www.yandex.by/search/touch/?text=sofa", "yandex-search",
     "поиск · Яндекс: «sofa»", "search · Yandex: “sofa”"),
    ("ya-ru", SHOP, "https://ya.ru/", "yandex-search", "поиск · Яндекс", "search · Yandex"),
    ("yandex-app", SHOP, "android-app://ru.yandex.searchplugin/", "yandex-search", "поиск · Яндекс",
     "search · Yandex"),
    ("google-organic-no-phrase", SHOP, "https://www.google.com/", "google-search", "поиск · Google",
     "search · Google"),
    ("google-organic-empty-q", SHOP, "https://www.google.ru/url?sa=t&rct=j&q=&esrc=s&source=web&cd=1",
     "google-search", "поиск · Google", "search · Google"),
    ("google-de-phrase", SHOP, "https://www.google.de/search?q=sofa+kaufen&hl=de", "google-search",
     "поиск · Google: «sofa kaufen»", "search · Google: “sofa kaufen”"),
    ("google-co-uk", SHOP, "https://www.google.co.uk/", "google-search", "поиск · Google", "search · Google"),
    ("google-app", SHOP, "android-app://com.google.android.googlequicksearchbox/https/www.google.com",
     "google-search", "поиск · Google", "search · Google"),
    ("google-utm-organic", SHOP + "?utm_source=google&utm_medium=organic", "", "google-search",
     "поиск · Google", "search · Google"),
    ("mailru-phrase", SHOP, "https://go.mail.ru/search?q=%D0%B4%D0%B8%D0%B2%D0%B0%D0%BD&fr=main",
     "mailru-search", "поиск · Поиск Mail.ru: «диван»", "search · Mail.ru Search: “диван”"),
    ("bing-phrase", SHOP, "https://www.bing.com/search?q=buy+sofa&form=QBLH", "bing-search",
     "поиск · Bing: «buy sofa»", "search · Bing: “buy sofa”"),
    ("duckduckgo", SHOP, "https://duckduckgo.com/", "duckduckgo-search", "поиск · DuckDuckGo",
     "search · DuckDuckGo"),
    ("rambler-phrase", SHOP, "https://nova.rambler.ru/search?query=%D0%B4%D0%B8%D0%B2%D0%B0%D0%BD&utm_source=head",
     "rambler-search", "поиск · Рамблер: «диван»", "search · Rambler: “диван”"),
    ("yahoo-phrase", SHOP, "https://search.yahoo.com/search?p=sofa&fr=yfp-t", "yahoo-search",
     "поиск · Yahoo: «sofa»", "search · Yahoo: “sofa”"),
    ("baidu-phrase", SHOP, "https://www.baidu.com/s?wd=%E6%B2%99%E5%8F%91", "baidu-search",
     "поиск · Baidu: «沙发»", "search · Baidu: “沙发”"),
    ("ecosia", SHOP, "https://www.ecosia.org/search?method=index&q=sofa", "ecosia-search",
     "поиск · Ecosia: «sofa»", "search · Ecosia: “sofa”"),
    ("brave", SHOP, "https://search.brave.com/search?q=sofa", "brave-search", "поиск · Brave: «sofa»",
     "search · Brave: “sofa”"),
    ("qwant", SHOP, "https://www.qwant.com/?q=sofa&t=web", "qwant-search", "поиск · Qwant: «sofa»",
     "search · Qwant: “sofa”"),
    ("startpage", SHOP, "https://www.startpage.com/", "startpage-search", "поиск · Startpage",
     "search · Startpage"),
    # --- social networks ------------------------------------------------------------------------
    ("vk", SHOP, "https://vk.com/", "vk", "соцсеть · ВКонтакте", "social · VK"),
    ("vk-mobile-wall", SHOP, "https://m.vk.com/wall-12345_678", "vk", "соцсеть · ВКонтакте", "social · VK"),
    ("vk-away", SHOP, "https://away.vk.com/away.php?to=https%3A%2F%2Fshop.example.ru%2F&cc_key=",
     "vk", "соцсеть · ВКонтакте", "social · VK"),
    ("vk-ru", SHOP, "https://vk.ru/", "vk", "соцсеть · ВКонтакте", "social · VK"),
    ("vk-utm-post", SHOP + "?utm_source=vk&utm_medium=post", "", "vk", "соцсеть · ВКонтакте", "social · VK"),
    ("ok", SHOP, "https://ok.ru/group/54321/topic/987", "ok", "соцсеть · Одноклассники", "social · OK"),
    ("telegram-t-me", SHOP, "https://t.me/", "telegram", "соцсеть · Telegram", "social · Telegram"),
    ("telegram-web", SHOP, "https://web.telegram.org/k/", "telegram", "соцсеть · Telegram",
     "social · Telegram"),
    ("telegram-app", SHOP, "android-app://org.telegram.messenger/", "telegram", "соцсеть · Telegram",
     "social · Telegram"),
    ("telegram-utm-no-medium", SHOP + "?utm_source=telegram&utm_campaign=channel", "", "telegram",
     "соцсеть · Telegram", "social · Telegram"),
    ("whatsapp", SHOP, "https://web.whatsapp.com/", "whatsapp", "соцсеть · WhatsApp", "social · WhatsApp"),
    ("facebook-l", SHOP + "?fbclid=IwAR2xyz", "https://l.facebook.com/l.php?u=https%3A%2F%2Fshop.example.ru",
     "facebook", "соцсеть · Facebook", "social · Facebook"),
    ("facebook-fbclid-hint", SHOP + "?fbclid=IwAR2xyz", "", "facebook", "соцсеть · Facebook",
     "social · Facebook"),
    ("instagram", SHOP, "https://l.instagram.com/", "instagram", "соцсеть · Instagram", "social · Instagram"),
    ("youtube", SHOP, "https://www.youtube.com/", "youtube", "соцсеть · YouTube", "social · YouTube"),
    ("twitter-t-co", SHOP, "https://t.co/AbC123xyz", "twitter", "соцсеть · X (Twitter)", "social · X (Twitter)"),
    ("linkedin", SHOP, "https://www.linkedin.com/", "linkedin", "соцсеть · LinkedIn", "social · LinkedIn"),
    ("tiktok", SHOP, "https://www.tiktok.com/", "tiktok", "соцсеть · TikTok", "social · TikTok"),
    ("dzen", SHOP, "https://dzen.ru/a/ZB1xYz", "dzen", "соцсеть · Дзен", "social · Dzen"),
    ("dzen-old", SHOP, "https://zen.yandex.ru/media/shop/post-5f1", "dzen", "соцсеть · Дзен", "social · Dzen"),
    ("pikabu", SHOP, "https://pikabu.ru/story/divan_12345", "pikabu", "соцсеть · Пикабу", "social · Pikabu"),
    ("habr", SHOP, "https://habr.com/ru/articles/777777/", "habr", "соцсеть · Хабр", "social · Habr"),
    ("vc", SHOP, "https://vc.ru/", "vc", "соцсеть · vc.ru", "social · vc.ru"),
    ("reddit", SHOP, "https://old.reddit.com/r/furniture/", "reddit", "соцсеть · Reddit", "social · Reddit"),
    ("pinterest", SHOP, "https://www.pinterest.ru/", "pinterest", "соцсеть · Pinterest", "social · Pinterest"),
    # --- campaigns, referrals -------------------------------------------------------------------
    ("campaign-email", SHOP + "?utm_source=newsletter&utm_medium=email&utm_campaign=nov", "https://e.mail.ru/",
     "campaign", "кампания · newsletter (email)", "campaign · newsletter (email)"),
    ("webmail-referral", SHOP, "https://e.mail.ru/inbox/", "referral", "переход с e.mail.ru",
     "referral · e.mail.ru"),
    ("referral-forum", SHOP, "https://forum.example.org/thread/123?page=2", "referral",
     "переход с forum.example.org", "referral · forum.example.org"),
    ("referral-punycode", SHOP, "https://xn--80aswg.xn--p1ai/", "referral", "переход с сайт.рф",
     "referral · сайт.рф"),
    ("referral-www-and-port", SHOP, "http://www.Partner.example.com:8080/links", "referral",
     "переход с partner.example.com", "referral · partner.example.com"),
    ("yandex-market-is-referral", SHOP, "https://market.yandex.ru/product/123", "referral",
     "переход с market.yandex.ru", "referral · market.yandex.ru"),
    # --- internal, direct -----------------------------------------------------------------------
    ("internal", SHOP + "cart", SHOP + "catalog/sofas", "internal", "внутренний переход", "internal"),
    ("internal-www", "https://www.shop.example.ru/cart", "https://shop.example.ru/", "internal",
     "внутренний переход", "internal"),
    ("direct-empty", SHOP, "", "direct", "прямой заход", "direct"),
    ("direct-javascript", SHOP, "javascript:void(0)", "direct", "прямой заход", "direct"),
    ("direct-data", SHOP, "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==", "direct",
     "прямой заход", "direct"),
    ("direct-about-blank", SHOP, "about:blank", "direct", "прямой заход", "direct"),
    # --- malformed ------------------------------------------------------------------------------
    ("malformed-ipv6-bracket", SHOP, "http://[::1", "direct", "прямой заход", "direct"),
    ("malformed-not-a-url", SHOP, "not a url at all", "direct", "прямой заход", "direct"),
    ("malformed-empty-host", SHOP, "https://", "direct", "прямой заход", "direct"),
    ("schemeless-yandex", SHOP, "yandex.ru/search/?text=sofa", "yandex-search", "поиск · Яндекс: «sofa»",
     "search · Yandex: “sofa”"),
    ("malformed-landing", "::::not-a-url%ZZ?x=%ZZ%&%", "https://www.google.com/", "google-search",
     "поиск · Google", "search · Google"),
]


@pytest.mark.parametrize(
    "landing, referrer, rule, ru, en",
    [pytest.param(*case[1:], id=case[0]) for case in CASES],
)
def test_classify_real_world_pairs(landing, referrer, rule, ru, en):
    source = classify(landing, referrer)
    assert source.rule == rule
    assert label(source, "ru") == ru
    assert label(source, "en") == en
    assert source.kind in sources.KINDS


def test_every_rule_row_is_exercised():
    hit = {classify(case[1], case[2]).rule for case in CASES}
    missing = [rule.id for rule in RULES if rule.id not in hit]
    assert not missing, f"rule rows without a test case: {missing}"
    assert {"campaign", "referral", "internal", "direct", "ads"} <= hit  # the fallbacks too


def test_rule_table_is_well_formed():
    ids = [rule.id for rule in RULES]
    assert len(ids) == len(set(ids))
    for rule in RULES:
        assert rule.kind in ("ads", "search", "social")
        assert rule.name and rule.name_en
        assert rule.hosts or rule.click_ids or rule.utm_sources, rule.id
        assert rule.kind == "search" or not rule.phrase_params, rule.id
        for pattern in rule.hosts:
            assert pattern == pattern.lower().strip()


def test_yandex_direct_keeps_utm_and_click_id():
    source = classify(CASES[0][1], CASES[0][2])
    assert source.utm == {"source": "yandex", "medium": "cpc", "campaign": "12345678",
                          "content": "16-1", "term": "купить диван"}
    assert source.click_ids == {"yclid": "8031227542829318143"}
    assert source.matched_by == "click_id"
    assert source.name == "Яндекс" and source.name_en == "Yandex"
    assert source.referrer == "https://yandex.ru/"
    assert source.landing == CASES[0][1]
    assert "utm_term=купить+диван" in source.decoded_landing


def test_search_phrase_field_and_decoded_referrer():
    referrer = "https://yandex.ru/search/?text=" + KUPIT_DIVAN_UTF8 + "&lr=213"
    source = classify(SHOP, referrer)
    assert source.search_phrase == "купить диван"
    assert source.decoded_referrer == "https://yandex.ru/search/?text=купить+диван&lr=213"
    assert source.referrer == referrer  # raw kept as sent
    assert source.referrer_host == "yandex.ru"


def test_cp1251_phrase_in_decoded_referrer():
    source = classify(SHOP, "http://yandex.ru/yandsearch?text=" + KUPIT_DIVAN_CP1251)
    assert source.decoded_referrer == "http://yandex.ru/yandsearch?text=купить+диван"


def test_decoded_landing_cyrillic_path_and_punycode_host():
    landing = "https://xn--80aswg.xn--p1ai/%D0%BA%D0%B0%D1%82%D0%B0%D0%BB%D0%BE%D0%B3/?q=a%26b%3Dc"
    source = classify(landing, "")
    # text is decoded; the reserved & and = stay escaped so the URL keeps its meaning
    assert source.decoded_landing == "https://сайт.рф/каталог/?q=a%26b%3Dc"


def test_readable_url_keeps_control_and_bidi_characters_escaped():
    # U+202E RIGHT-TO-LEFT OVERRIDE would let a link text lie about itself
    assert readable_url("https://evil.example/%E2%80%AEgpj.exe") == "https://evil.example/%E2%80%AEgpj.exe"
    assert readable_url("https://e.example/a%00b%0Ac") == "https://e.example/a%00b%0Ac"
    assert readable_url("https://e.example/%D0%B0%20%D0%B1") == "https://e.example/а б"


def test_non_utf8_escapes_never_raise():
    # %98 is the one byte Windows-1251 leaves undefined, %FF%FE are not UTF-8
    source = classify(SHOP + "?utm_source=%FF%98&utm_medium=cpc",
                      "https://www.google.com/search?q=%FF%FE%98%C3")
    assert source.kind == "ads"
    assert source.rule == "ads"
    assert source.search_phrase == ""
    assert isinstance(source.decoded_referrer, str)
    assert label(source, "ru").startswith("реклама · ")


def test_huge_urls_are_cut_not_fatal():
    referrer = "https://yandex.ru/search/?text=" + "диван" * 50000
    landing = SHOP + "?" + "&".join(f"p{i}=v" for i in range(50000))
    source = classify(landing, referrer)
    assert source.kind == "search"
    assert len(source.referrer) == sources.MAX_URL_CHARS
    assert len(source.landing) == sources.MAX_URL_CHARS
    assert 0 < len(source.search_phrase) <= sources.MAX_VALUE_CHARS
    assert source.search_phrase.startswith("диван")


def test_control_characters_in_phrase_are_removed():
    source = classify(SHOP, "https://www.google.com/search?q=sofa%00%1B%5B31m%E2%80%AE+red")
    assert source.search_phrase == "sofa [31m red"


def test_site_hosts_make_a_mirror_internal():
    referrer = "https://old-shop.example.com/catalog"
    assert classify(SHOP, referrer).kind == "referral"
    assert classify(SHOP, referrer, ["old-shop.example.com"]).kind == "internal"
    assert classify(SHOP, referrer, ["https://old-shop.example.com/"]).kind == "internal"
    assert classify(SHOP, "https://blog.example.com/", ["*.example.com"]).kind == "internal"
    assert classify(SHOP, "https://example.com/", ["*.example.com"]).kind == "internal"
    assert classify(SHOP, "https://notexample.com/", ["*.example.com"]).kind == "referral"


def test_non_string_input_is_direct():
    source = classify(None, None)
    assert source.kind == "direct" and source.referrer == "" and source.landing == ""
    source = classify(12345, b"https://yandex.ru/")  # type: ignore[arg-type]
    assert source.kind == "direct"


def test_host_patterns_do_not_overmatch():
    assert sources.match_referrer_host("google.com").id == "google-search"
    assert sources.match_referrer_host("www.google.com.br").id == "google-search"
    assert sources.match_referrer_host("notgoogle.com") is None
    assert sources.match_referrer_host("google.com.evil.example") is None
    assert sources.match_referrer_host("vk.com.evil.example") is None
    assert sources.match_referrer_host("evilvk.com") is None
    assert sources.match_referrer_host("mail.google.com") is None


def test_to_dict_round_trips_the_fields():
    data = classify(CASES[0][1], CASES[0][2]).to_dict()
    assert data["kind"] == "ads" and data["name"] == "Яндекс"
    assert data["utm"]["term"] == "купить диван"
    assert set(data) >= {"referrer", "landing", "decoded_referrer", "decoded_landing", "click_ids"}


def test_label_unknown_language_falls_back_to_english():
    assert label(classify(SHOP, ""), "de") == "direct"


def test_site_hosts_as_a_single_string():
    assert classify(SHOP, "https://old-shop.example.com/", "old-shop.example.com").kind == "internal"
