/* frontdesk proactive invitations (/static/widget/invite.js, loaded by track.js after the page's
 * load event; never part of the 5 KB loader). Evaluates the site's rules (sent with the widget
 * settings, no polling of the server) twice a second against this visit, shows the invitation
 * bubble in the widget's shadow root, reports shown / dismissed, and waits for a manual
 * invitation from an operator (one held request at a time). The chat code is loaded only when
 * the visitor answers. The rule logic (Rules) is pure and unit-tested with node
 * (tests/js/invitations.test.mjs), held against the Python twin in actions/invitations.py by
 * tests/js/fixtures/invitation_cases.json. docs/invitations.md */
(function (W) {
  "use strict";
  var DAY = 864e5;

  // --- pure rule logic ------------------------------------------------------------------------
  function decode(s) { try { return decodeURIComponent(s); } catch (e) { return s; } }
  function urlMatches(rule, url) {
    var value = String(rule.value || ""), target, u;
    try { u = new URL(url); } catch (e) { return false; }
    if (value.charAt(0) === "/") {
      target = u.pathname || "/";
      if (value.indexOf("?") >= 0 && u.search.length > 1) target += u.search;
    } else {
      target = url.split("#")[0];
    }
    target = decode(target);
    if (rule.match === "prefix") return target.indexOf(value) === 0;
    if (rule.match === "wildcard") {
      var re = value.split("*").map(function (p) { return p.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"); }).join("[\\s\\S]*");
      return new RegExp("^" + re + "$").test(target);
    }
    return target === value;
  }
  var DAYS = { Mon: 1, Tue: 2, Wed: 3, Thu: 4, Fri: 5, Sat: 6, Sun: 7 };
  function localTime(now, tz) { // [ISO weekday 1..7, hour 0..23] in the site's time zone
    var parts;
    try {
      parts = new Intl.DateTimeFormat("en-US", { timeZone: tz || "UTC", weekday: "short", hour: "numeric", hourCycle: "h23" }).formatToParts(new Date(now));
    } catch (e) {
      return tz && tz !== "UTC" ? localTime(now, "UTC") : [((new Date(now).getUTCDay() + 6) % 7) + 1, new Date(now).getUTCHours()];
    }
    var day = 1, hour = 0;
    parts.forEach(function (p) { if (p.type === "weekday") day = DAYS[p.value] || 1; if (p.type === "hour") hour = +p.value % 24; });
    return [day, hour];
  }
  function matches(c, f) {
    var now = f.now, n = f.visit_number, utm = f.utm || {};
    if ("page_seconds" in c && now - f.page_started < c.page_seconds * 1e3) return false;
    if ("site_seconds" in c && now - f.visit_started < c.site_seconds * 1e3) return false;
    if (c.url && !urlMatches(c.url, f.url || "")) return false;
    if ("pages_min" in c && (f.pages || 0) < c.pages_min) return false;
    if (c.visit && (n == null || (n > 1) !== (c.visit === "returning"))) return false;
    if ("visit_min" in c && (n == null || n < c.visit_min)) return false;
    if (c.sources && c.sources.indexOf(f.source) < 0) return false;
    for (var k in c.utm || {}) if (String(utm[k] == null ? "" : utm[k]).toLowerCase() !== c.utm[k].toLowerCase()) return false;
    if (c.countries && c.countries.indexOf(String(f.country || "").toUpperCase()) < 0) return false;
    if (c.devices && c.devices.indexOf(f.device) < 0) return false;
    if (c.days || c.hours) {
      var t = localTime(now, f.tz);
      if (c.days && c.days.indexOf(t[0]) < 0) return false;
      if (c.hours) {
        var lo = c.hours[0], hi = c.hours[1], h = t[1];
        if (!(lo < hi ? lo <= h && h < hi : h >= lo || h < hi)) return false;
      }
    }
    return !(c.operator_online && !f.online);
  }
  function blocked(caps, h, f) {
    h = h || {};
    var visit = f.visit_key;
    if (h.dismissed_visit != null && h.dismissed_visit === visit) return true; // never again in the visit it was closed in
    if (caps.once_per_visit && h.shown_visit != null && h.shown_visit === visit) return true;
    if (caps.every_days && h.shown_at != null && f.now - h.shown_at < caps.every_days * DAY) return true;
    if (caps.not_after_dismiss && h.dismissed) return true;
    if (caps.not_while_chatting && f.chatting) return true;
    return !!(caps.working_hours_only && !f.within_hours);
  }
  function pick(rules, f, history) {
    var sorted = rules.slice().sort(function (a, b) { return (b.priority || 0) - (a.priority || 0) || a.id - b.id; });
    for (var i = 0; i < sorted.length; i++) {
      var r = sorted[i];
      if (matches(r.conditions || {}, f) && !blocked(r.caps || {}, history[String(r.id)], f)) return r;
    }
    return null;
  }
  var Rules = { urlMatches: urlMatches, localTime: localTime, matches: matches, blocked: blocked, pick: pick };
  if (!W) return Rules; // node: the tests take the pure part

  // --- in the page ----------------------------------------------------------------------------
  var D = W.document, ctx = W.FrontdeskWidget;
  if (!ctx || ctx.inviter) return;
  var store = ctx.store, GAP = 18e5, TICK = 500;
  var pageStarted = ctx.t0 || Date.now(), pageUrl = location.href; // t0: when the loader ran on this page
  var bubble = null, shownHere = false, waiting = false, waitToken = null;
  ctx.inviter = Rules;
  Rules.pageStarted = function () { return pageStarted; }; // for tests that move the page's clock

  // this visit as the browser sees it (the server's view, ctx.visit, comes with track.js's answer)
  var visit = store.json("iv");
  var now0 = Date.now();
  if (!visit || !(now0 - visit.l <= GAP)) visit = { k: String(now0), s: now0, l: now0, p: 0 };
  visit.p++;
  visit.l = now0;
  store.set("iv", JSON.stringify(visit));
  var savedAt = now0;

  function history() { return store.json("ih") || {}; }
  function remember(key, change) {
    var h = history(), one = h[key] || {};
    for (var k in change) one[k] = change[k];
    h[key] = one;
    store.set("ih", JSON.stringify(h));
  }

  function facts() {
    var cfg = ctx.cfg(), v = ctx.visit || {}, now = Date.now();
    if (location.href !== pageUrl) { pageUrl = location.href; pageStarted = now; shownHere = false; } // single-page sites
    if (now - savedAt > 1e4) { visit.l = now; savedAt = now; store.set("iv", JSON.stringify(visit)); }
    var started = v.visit_started_at ? Date.parse(v.visit_started_at) : NaN;
    return {
      now: now, url: location.href, page_started: pageStarted,
      visit_started: Math.min(visit.s, isNaN(started) ? visit.s : started),
      pages: Math.max(visit.p, v.pages || 0), visit_number: v.visit_number == null ? null : v.visit_number,
      source: v.source || null, utm: v.utm || {}, country: v.country || null, device: v.device || null,
      online: !!cfg.operators_online, within_hours: cfg.within_hours !== false,
      chatting: store.get("active") != null || !!v.chatting,
      tz: (cfg.invitations && cfg.invitations.timezone) || "UTC", visit_key: visit.k
    };
  }

  function post(path, body) {
    return fetch(ctx.base + "/api/v1/widget/invitations/" + path + "?site=" + encodeURIComponent(ctx.site), {
      method: "POST", keepalive: path !== "wait", credentials: "omit", body: JSON.stringify(body)
    });
  }
  function report(inv, kind) {
    var body = { token: store.get("token") || null, kind: kind };
    if (inv.manual_id) body.manual_id = inv.manual_id; else body.rule_id = inv.rule_id;
    post("record", body).catch(function () { /* a lost report is only a count */ });
  }

  // --- the bubble -----------------------------------------------------------------------------
  var TEXT = { ru: { close: "Закрыть приглашение", from: "Сообщение от " }, en: { close: "Close the invitation", from: "Message from " } };
  var CSS = ".iv{position:fixed;bottom:92px;right:20px;width:300px;max-width:calc(100vw - 40px);padding:14px 38px 14px 14px;border-radius:14px;background:#fff;color:#1b1f24;" +
    "box-shadow:0 6px 24px rgba(0,0,0,.22);pointer-events:auto;cursor:pointer;animation:fdin .3s ease;display:flex;gap:10px;align-items:flex-start;text-align:left}" +
    ".left .iv{right:auto;left:20px}.open .iv{display:none}.fd:has(.iv) .lb{display:none}" +
    ".iv .av{flex:none;width:40px;height:40px;border-radius:50%;background:var(--c);color:var(--on);display:flex;align-items:center;justify-content:center;font-weight:700;overflow:hidden}" +
    ".iv .av img{width:100%;height:100%;object-fit:cover}.iv .nm{font-weight:600;font-size:13px;color:#57606a;margin-bottom:2px}" +
    ".iv .tx{white-space:pre-wrap;overflow-wrap:anywhere;max-height:40vh;overflow:auto}" +
    ".iv .x{position:absolute;top:6px;right:6px;width:28px;height:28px;border:0;border-radius:50%;background:transparent;color:#57606a;font:20px/1 system-ui,sans-serif;cursor:pointer}" +
    ".iv .x:hover{background:#eef1f4}.iv .x:focus-visible{outline:2px solid #1b1f24}" +
    "@media (max-width:479px){.iv{bottom:90px;right:12px;left:12px;width:auto;max-width:none}.left .iv{left:12px}}";
  function el(tag, cls) { var n = D.createElement(tag); if (cls) n.className = cls; return n; }
  function initials(name) { return String(name || "?").trim().split(/\s+/).slice(0, 2).map(function (w) { return w.charAt(0); }).join("").toUpperCase() || "?"; }
  function photo(url) { return !url ? null : /^https?:/i.test(url) ? url : url.charAt(0) === "/" ? ctx.base + url : null; }

  function show(inv) {
    hide();
    var lang = ctx.lang, t = TEXT[lang] || TEXT.en;
    if (!ctx.root.querySelector("style[data-iv]")) {
      var st = el("style"); st.setAttribute("data-iv", ""); st.textContent = CSS; ctx.root.appendChild(st);
    }
    var sender = inv.sender || {};
    bubble = el("div", "iv");
    bubble.setAttribute("data-testid", "widget-invitation");
    bubble.setAttribute("role", "dialog");
    bubble.setAttribute("aria-label", t.from + (sender.name || ""));
    var av = el("span", "av"), src = photo(sender.photo_url);
    av.setAttribute("aria-hidden", "true");
    if (src) {
      var img = el("img"); img.alt = ""; img.onerror = function () { av.textContent = initials(sender.name); }; img.src = src; av.appendChild(img);
    } else av.textContent = initials(sender.name);
    var body = el("div"), nm = el("div", "nm"), tx = el("div", "tx");
    nm.textContent = sender.name || "";
    tx.textContent = inv.text; // visitor-visible text: always as text, never as HTML
    tx.setAttribute("dir", "auto");
    body.appendChild(nm); body.appendChild(tx);
    var x = el("button", "x");
    x.type = "button"; x.textContent = "×";
    x.setAttribute("aria-label", t.close);
    x.setAttribute("data-testid", "widget-invitation-close");
    bubble.appendChild(av); bubble.appendChild(body); bubble.appendChild(x);
    x.addEventListener("click", function (e) { e.stopPropagation(); dismiss(inv); });
    bubble.addEventListener("click", function () { accept(); });
    ctx.box.appendChild(bubble);
  }
  function hide() { if (bubble) { bubble.remove(); bubble = null; } }
  function offer(inv) {
    ctx.invite = inv; // chat.js shows it as the first message and sends its id with the visitor's answer
    if (ctx.chat) ctx.chat.configure();
    report(inv, "shown");
    if (inv.open) accept(); else show(inv);
  }
  function accept() { hide(); ctx.load(true); }
  function dismiss(inv) {
    hide();
    if (ctx.invite === inv) { ctx.invite = null; if (ctx.chat) ctx.chat.configure(); }
    report(inv, "dismissed");
    if (inv.rule_id) remember(String(inv.rule_id), { dismissed: true, dismissed_visit: visit.k });
  }
  function textOf(texts) { texts = texts || {}; return texts[ctx.lang] || texts.ru || texts.en || ""; }

  // --- rules, twice a second --------------------------------------------------------------------
  var autoAt = 0;
  function tick() {
    var cfg = ctx.cfg(), open = / open/.test(ctx.box.className);
    if (open) hide();
    var delay = +(cfg.widget && cfg.widget.auto_open_delay) || 0;
    if (delay && !open && !ctx.chat && !store.get("ao", true) && Date.now() - pageStarted >= delay * 1e3) {
      store.set("ao", "1", true); // once per browser session
      ctx.load(true);
      return;
    }
    var rules = (cfg.invitations && cfg.invitations.rules) || [];
    if (shownHere || open || bubble || !rules.length) return;
    var f = facts(), rule = pick(rules, f, history());
    if (!rule) return;
    shownHere = true;
    remember(String(rule.id), { shown_at: f.now, shown_visit: visit.k });
    offer({ rule_id: rule.id, text: textOf(rule.text), sender: rule.sender, open: !!rule.open });
  }
  setInterval(tick, TICK);
  tick();

  // --- manual invitations: one held request (the server answers within 25 s) --------------------
  function wait() {
    var token = store.get("token");
    if (waiting || !token || token === waitToken) return;
    waiting = true;
    post("wait", { token: token }).then(function (r) {
      if (r.status === 401 || r.status === 403 || r.status === 404) { waitToken = token; throw 0; } // not this visitor: stop
      if (!r.ok) throw 1;
      return r.json();
    }).then(function (res) {
      waiting = false;
      var m = res && res.invitation;
      if (m && m.manual_id) offer({ manual_id: m.manual_id, text: m.text, sender: m.sender }); // in the window when it is open
      wait();
    }, function (e) {
      waiting = false;
      if (e !== 0) setTimeout(wait, 3e4); // server away or busy: later
    });
  }
  var prevOnVisit = ctx.onVisit;
  ctx.onVisit = function (v) { if (prevOnVisit) prevOnVisit(v); wait(); };
  wait();
})(typeof window === "object" ? window : null);
