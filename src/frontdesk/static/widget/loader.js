/* frontdesk widget loader (/widget.js): the launcher in an open shadow root; chat.js is
 * loaded only on a click, for an open conversation or unsent messages, or when the window
 * was open on the previous page. Budget: 5 KB gzipped (bench/widget_size.py). */
(function () {
  "use strict";
  var W = window, D = document, VERSION = "{{CHAT_VERSION}}";
  if (W.FrontdeskWidget) return; // embedded twice: the first copy wins
  var script = D.currentScript || D.querySelector('script[data-site][src*="widget.js"]');
  var site = script && script.getAttribute("data-site");
  if (!site) { if (W.console) console.warn("frontdesk: the widget script needs data-site"); return; }
  // our server = where this script came from (a path prefix works too)
  var base = script.src.replace(/\/widget\.js(?:[?#].*)?$/, "");
  var prefix = "frontdesk:" + site + ":";

  // localStorage; if refused: a cookie for the token and the flag, memory for the rest
  var mem = {}, COOKIE_KEYS = { token: 1, active: 1 };
  function area(session) { try { var s = session ? W.sessionStorage : W.localStorage; s.length; return s; } catch (e) { return null; } }
  function cookieName(k) { return "fd_" + site.replace(/[^\w-]/g, "") + "_" + k; }
  var store = {
    prefix: prefix,
    get: function (k, session) {
      var s = area(session);
      if (s) { try { return s.getItem(prefix + k); } catch (e) { /* fall through */ } }
      if (!session && COOKIE_KEYS[k]) {
        var m = D.cookie.match(new RegExp("(?:^|; )" + cookieName(k) + "=([^;]*)"));
        if (m) return decodeURIComponent(m[1]);
      }
      var mk = (session ? "s:" : "") + k;
      return mk in mem ? mem[mk] : null;
    },
    set: function (k, v, session) { // v null = remove; returns false when it could not persist
      var s = area(session);
      if (s) {
        try { if (v == null) s.removeItem(prefix + k); else s.setItem(prefix + k, v); return true; } catch (e) { /* quota or refused */ }
      }
      if (!session && COOKIE_KEYS[k]) {
        D.cookie = cookieName(k) + "=" + (v == null ? "; max-age=0" : encodeURIComponent(v) + "; max-age=31536000") +
          "; path=/; SameSite=Lax" + (location.protocol === "https:" ? "; Secure" : "");
      }
      var mk = (session ? "s:" : "") + k;
      if (v == null) delete mem[mk]; else mem[mk] = v;
      return false;
    },
    json: function (k, session) { try { return JSON.parse(store.get(k, session)); } catch (e) { return null; } }
  };

  // settings: the cached copy at once, fresh ones from the server after
  var DEFAULT = { color: "#1f6feb", position: "right", language: "auto", show_operator: true, texts: {} };
  var cfg = store.json("cfg") || { widget: DEFAULT, operators_online: false };
  // "available" = operators online within working hours (older servers: operators_online)
  function availableIn(o) { return !!(o && ("available" in o ? o.available : o.operators_online)); }
  var online = availableIn(cfg);
  function pickLang() {
    var want = cfg.widget.language;
    if (want === "ru" || want === "en") return want;
    var nav = ((navigator.languages && navigator.languages[0]) || navigator.language || "").toLowerCase();
    return nav.indexOf("ru") === 0 ? "ru" : "en";
  }
  var TEXT = {
    ru: { open: "Открыть чат", close: "Свернуть чат", unread: "непрочитанных: ", on: "Напишите нам, мы онлайн!", off: "Оставьте нам сообщение" },
    en: { open: "Open chat", close: "Minimise chat", unread: "unread: ", on: "Chat with us, we are online!", off: "Leave us a message" }
  };

  // text on the site colour: white or near-black, whichever contrasts more (WCAG)
  function onColor(hex) {
    var n = parseInt(hex.slice(1), 16), lum = 0;
    [[n >> 16, 0.2126], [(n >> 8) & 255, 0.7152], [n & 255, 0.0722]].forEach(function (p) {
      var v = p[0] / 255;
      lum += p[1] * (v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4));
    });
    return 1.05 / (lum + 0.05) >= (lum + 0.05) / 0.0611 ? "#fff" : "#111827";
  }

  // The site's CSS cannot reach inside the shadow root, and our !important :host rules
  // beat even the site's !important ones on the host, so div{display:none} cannot hide us.
  var host = D.createElement("div");
  host.id = "frontdesk-widget";
  host.setAttribute("translate", "no");
  var root = host.attachShadow({ mode: "open" });
  var style = D.createElement("style");
  style.textContent =
    `
    :host{all:initial!important;display:block!important;position:fixed!important;top:0!important;left:0!important;width:0!important;height:0!important;overflow:visible!important;visibility:visible!important;opacity:1!important;z-index:2147483000!important;pointer-events:none!important}
    [hidden]{display:none!important}
    .fd{--c:#1f6feb;--on:#fff;font:14px/1.4 system-ui,-apple-system,'Segoe UI',Roboto,'Helvetica Neue',Arial,sans-serif;color:#1b1f24;-webkit-text-size-adjust:100%;text-align:left;direction:ltr}
    .fd *,.fd *::before,.fd *::after{box-sizing:border-box}
    .fl{position:fixed;bottom:20px;right:20px;width:60px;height:60px;margin:0;padding:0;border:0;border-radius:50%;background:var(--c);color:var(--on);cursor:pointer;pointer-events:auto;display:flex;align-items:center;justify-content:center;box-shadow:0 4px 16px rgba(0,0,0,.24);transition:transform .15s ease;font:inherit}
    .fl:hover{transform:scale(1.06)}
    .fl:focus-visible{outline:3px solid #1b1f24;outline-offset:3px}
    .fl svg{width:30px;height:30px;display:block}
    .fl .i2,.open .fl .i1{display:none}
    .open .fl .i2{display:block}
    .fl[aria-busy=true] svg{opacity:.6}
    .dot{position:absolute;right:1px;bottom:1px;width:15px;height:15px;border-radius:50%;background:#8a939e;border:2px solid #fff}
    .on .dot{background:#12a150}
    .bd{position:absolute;top:-5px;right:-5px;min-width:22px;height:22px;padding:0 6px;border-radius:11px;background:#d0211c;color:#fff;font:700 12px/18px system-ui,sans-serif;text-align:center;border:2px solid #fff}
    .lb{position:fixed;bottom:31px;right:92px;max-width:260px;margin:0;padding:9px 14px;border:0;border-radius:18px;background:#fff;color:#1b1f24;font:inherit;box-shadow:0 2px 12px rgba(0,0,0,.18);white-space:nowrap;overflow:hidden;text-overflow:ellipsis;cursor:pointer;pointer-events:auto;animation:fdin .3s ease}
    .left .fl{right:auto;left:20px}
    .left .lb{right:auto;left:92px}
    .open .lb{display:none}
    @keyframes fdin{from{opacity:0;transform:translateY(6px)}
    }
    @media (max-width:479px){.lb{display:none}
    }
    @media (prefers-reduced-motion:reduce){.fd *{animation:none!important;transition:none!important}
    }`;
  var box = D.createElement("div");
  box.className = "fd";
  var ICONS = '<svg class="i1" viewBox="0 0 32 32" aria-hidden="true"><path fill="currentColor" d="M16 5C9.4 5 4 9.5 4 15c0 3 1.6 5.7 4.1 7.5L7 27l5.2-2.6c1.2.4 2.5.6 3.8.6 6.6 0 12-4.5 12-10S22.6 5 16 5z"/>' +
    '<circle cx="11" cy="15" r="1.6" fill="var(--c)"/><circle cx="16" cy="15" r="1.6" fill="var(--c)"/><circle cx="21" cy="15" r="1.6" fill="var(--c)"/></svg>' +
    '<svg class="i2" viewBox="0 0 32 32" aria-hidden="true"><path fill="none" stroke="currentColor" stroke-width="2.6" stroke-linecap="round" stroke-linejoin="round" d="M9 13l7 7 7-7"/></svg>';
  var launcher = D.createElement("button");
  launcher.type = "button";
  launcher.className = "fl";
  launcher.setAttribute("data-testid", "widget-launcher");
  launcher.setAttribute("aria-expanded", "false");
  launcher.innerHTML = ICONS + '<span class="dot"></span><span class="bd" hidden aria-hidden="true"></span>'; // constant markup only
  var badge = launcher.querySelector(".bd");
  var label = D.createElement("button");
  label.type = "button";
  label.className = "lb";
  label.tabIndex = -1; // the launcher itself is the keyboard target
  label.hidden = true;
  box.appendChild(launcher);
  box.appendChild(label);
  root.appendChild(style);
  root.appendChild(box);

  var unread = 0, isOpen = false, chatState = 0; // 0 not loaded, 1 loading, 2 loaded
  var ctx = W.FrontdeskWidget = {
    version: VERSION, site: site, base: base, root: root, box: box, store: store, t0: Date.now(), // t0: this page's start (invite.js)
    cfg: function () { return cfg; },
    lang: pickLang(),
    texts: function () { var t = cfg.widget.texts || {}; return t[ctx.lang] || t.ru || {}; },
    chat: null, wantOpen: false,
    setUnread: function (n) { unread = n; paint(); },
    available: availableIn,
    setOnline: function (on) { if (online !== on) { online = on; paint(); } },
    setOpen: function (open) {
      isOpen = open;
      store.set("open", open ? "1" : null, true);
      paint();
    },
    load: loadChat
  };

  function paint() {
    var w = cfg.widget, t = TEXT[ctx.lang], on = online;
    var color = /^#[0-9a-f]{6}$/i.test(w.color) ? w.color : DEFAULT.color;
    box.style.setProperty("--c", color);
    box.style.setProperty("--on", onColor(color));
    box.className = "fd" + (w.position === "left" ? " left" : "") + (on ? " on" : "") + (isOpen ? " open" : "");
    badge.hidden = !unread || isOpen;
    badge.textContent = unread > 99 ? "99+" : String(unread);
    launcher.setAttribute("aria-expanded", String(isOpen));
    launcher.setAttribute("aria-label", (isOpen ? t.close : t.open) + (unread && !isOpen ? ", " + t.unread + unread : ""));
    label.textContent = on ? ctx.texts().launcher || t.on : t.off;
    label.hidden = !!unread || store.get("active") != null;
  }

  function loadChat(open) {
    if (open) ctx.wantOpen = true;
    if (ctx.chat) { if (open) ctx.chat.open(); return; }
    if (chatState) return;
    chatState = 1;
    launcher.setAttribute("aria-busy", "true");
    var s = js("chat");
    s.onload = function () { chatState = 2; launcher.removeAttribute("aria-busy"); };
    s.onerror = function () { // server unreachable: a later click tries again
      chatState = 0; ctx.wantOpen = false; launcher.removeAttribute("aria-busy");
      s.remove();
    };
  }
  function js(name) {
    var s = D.createElement("script");
    s.src = base + "/static/widget/" + name + ".js?v=" + VERSION;
    s.async = true;
    return (D.head || D.documentElement).appendChild(s);
  }
  // page views: track.js, after load
  function track() { js("track"); }
  if (D.readyState == "complete") track(); else W.addEventListener("load", track);

  function toggle() {
    if (ctx.chat) ctx.chat.toggle();
    else loadChat(true);
  }
  launcher.addEventListener("click", toggle);
  label.addEventListener("click", toggle);

  // another tab started a conversation: follow it here too (badge, sound)
  W.addEventListener("storage", function (e) {
    if (e.key === prefix + "active" && e.newValue && !ctx.chat) loadChat(false);
    if (e.key === prefix + "active") paint();
  });

  var showing = 0, gone = false;
  function mount() {
    // under <html>: a transform on the site's <body> would break position:fixed
    // (after the site's delay, widget.launcher_delay in seconds from the page's start, unless a conversation is active)
    if (!host.isConnected && !showing) showing = setTimeout(function () { if (!gone) D.documentElement.appendChild(host); },
      store.get("active") ? 0 : (cfg.widget.launcher_delay || 0) * 1e3 + ctx.t0 - Date.now()); // counted from the page's start
    paint();
    var outbox = store.json("outbox");
    if (store.get("token") && (store.get("active") || store.get("open", true) || (outbox && outbox.length))) {
      loadChat(store.get("open", true) === "1");
    }
  }

  // availability, live: the chat socket's frames while it is up (ctx.live), else the settings
  // again on return to the tab and each minute while it is visible
  var askedAt = 0;
  function getCfg() {
    askedAt = Date.now();
    return fetch(base + "/api/v1/widget/config?site=" + encodeURIComponent(site), { credentials: "omit", cache: "no-store" })
      .then(function (r) {
        if (r.status === 404) throw { unknownSite: true };
        if (!r.ok) throw 0; // cached or default look
        return r.json();
      })
      .then(function (fresh) {
        cfg = fresh;
        online = availableIn(fresh);
        ctx.lang = pickLang();
        store.set("cfg", JSON.stringify(fresh));
        mount();
        if (ctx.chat) ctx.chat.configure();
      });
  }
  function recheck() {
    if (D.visibilityState == "visible" && !ctx.live && host.isConnected && Date.now() - askedAt > 5e3) getCfg().catch(mount);
  }
  D.addEventListener("visibilitychange", recheck);
  W.addEventListener("focus", recheck);
  setInterval(recheck, 6e4);

  if (store.get("cfg")) mount();
  getCfg().catch(function (err) {
    if (err && err.unknownSite) { // wrong site key: show nothing rather than a broken chat
      if (W.console) console.warn("frontdesk: unknown site key " + site);
      store.set("cfg", null);
      gone = true;
      host.remove();
      return;
    }
    mount();
  });
})();
