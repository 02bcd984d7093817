/* frontdesk page views (/static/widget/track.js, loaded by widget.js after the page's load event):
 * one small POST per page view (URL, title, referrer) whether or not the chat was opened; views
 * wait in localStorage while the server is unreachable and go with the next report. A first-time
 * visitor gets its token from the first answer, so a visitor who never chats is still one
 * visitor across pages and visits (the chat uses the same token).
 *
 * The site's own data: window.frontdesk.setUser({name, email, phone, <any key>: value}). Calls
 * made before this file loads wait in the array `window.frontdesk = window.frontdesk || []` as
 * ["setUser", {...}] (docs/visitor-context.md gives the two-line stub that makes
 * `frontdesk.setUser(...)` itself callable at once); this file replaces the array with the API and
 * runs what waited. Fields wait in localStorage until the server has them, and go with the next
 * page-view report (or alone). docs/visitor-context.md */
(function () {
  "use strict";
  var W = window, D = document, ctx = W.FrontdeskWidget;
  if (!ctx || ctx.track) return;
  var store = ctx.store, MAX = 20, busy = false, last = "", retry = 0;
  ctx.track = view;

  // window.frontdesk: setUser, and push(["setUser", {...}]) for the calls queued before we loaded
  function setUser(u) {
    if (!u || typeof u !== "object") return;
    var p = store.json("user") || {};
    for (var k in u) if (Object.prototype.hasOwnProperty.call(u, k)) p[k] = u[k] === undefined ? null : u[k];
    store.set("user", JSON.stringify(p));
    if (last) flush(); // before the first view: it goes with that view
  }
  var api = { setUser: setUser, push: function (c) { if (c && c[0] === "setUser") setUser(c[1]); return 0; } };
  var waiting = W.frontdesk;
  W.frontdesk = api;
  if (waiting && typeof waiting.length == "number") for (var i = 0; i < waiting.length; i++) api.push(waiting[i]);

  function queue() { var q = store.json("pv"); return Array.isArray(q) ? q : []; }
  function save(q) { store.set("pv", q.length ? JSON.stringify(q.slice(-MAX)) : null); }
  function cut(s, n) { return String(s || "").slice(0, n); }

  function view() {
    var url = location.href;
    if (url === last) return;
    var ref = last || D.referrer; // on a single-page site the previous address is the referrer
    last = url;
    var q = queue();
    q.push({ url: cut(url, 2048), title: cut(D.title, 500), referrer: cut(ref, 2048), at: Date.now() });
    save(q);
    flush();
  }

  function flush() {
    var q = queue(), user = store.get("user");
    if (busy || (!q.length && !user)) return;
    var now = Date.now(), token = store.get("token"), release = null;
    if (!token) {
      // one visitor per browser: while the chat (or another report) is getting this browser's
      // first token, wait for it instead of creating a second visitor
      if (ctx.idWait) { ctx.idWait.then(flush); return; }
      var mine = ctx.idWait = new Promise(function (r) { release = function () { if (ctx.idWait === mine) ctx.idWait = null; r(); }; });
    }
    busy = true;
    var body = { token: token || null, views: q.map(function (v) {
      return { url: v.url, title: v.title, referrer: v.referrer, ago: Math.max(0, now - v.at) };
    }) };
    if (user) { try { body.user = JSON.parse(user); } catch (e) { store.set("user", null); } }
    // text/plain body, token inside it: a CORS "simple" request (no preflight); keepalive lets
    // it finish while the browser goes to the next page
    fetch(ctx.base + "/api/v1/widget/pageviews?site=" + encodeURIComponent(ctx.site), {
      method: "POST", keepalive: true, credentials: "omit", body: JSON.stringify(body)
    }).then(function (r) {
      if (r.status === 401 && token) { // a token the server does not know: become a new visitor
        if (store.get("token") === token) store.set("token", null);
        throw "again";
      }
      if (r.status === 429 || r.status >= 500) throw "later"; // kept: sent again later
      if (!r.ok && body.user) { // the site's setUser fields were refused: say why, send the views without them
        return r.json().then(function (b) {
          if (W.console) console.warn("frontdesk.setUser: " + ((b && b.error && b.error.message) || r.status));
          if (store.get("user") === user) store.set("user", null);
          throw "again";
        }, function () { store.set("user", null); throw "again"; });
      }
      return r.ok ? r.json() : {}; // refused for good (unknown site, bad input): drop these views
    }).then(function (res) {
      if (res.visitor_token && !store.get("token")) store.set("token", res.visitor_token);
      if (res.context) { ctx.visit = res.context; if (ctx.onVisit) ctx.onVisit(res.context); } // for invite.js
      if (user && store.get("user") === user) store.set("user", null); // unless setUser came meanwhile
      done(q.length, release, true);
    }, function (e) {
      done(0, release, false);
      if (e === "again") flush();
      else if (!retry) retry = setTimeout(function () { retry = 0; flush(); }, 3e4); // offline or busy: later
    });
  }

  function done(sent, release, ok) {
    busy = false;
    if (release) release();
    if (sent) save(queue().slice(sent));
    if (ok) flush(); // views or fields that came while this one was on its way
  }

  W.addEventListener("online", flush);
  // single-page sites: a new address without a page load is a page view too
  W.addEventListener("popstate", view);
  W.addEventListener("hashchange", view);
  setInterval(function () { if (location.href !== last) view(); }, 2e3);
  view();

  // proactive invitations: their own file, after load like this one (docs/invitations.md)
  var iv = D.createElement("script");
  iv.src = ctx.base + "/static/widget/invite.js?v=" + ctx.version;
  iv.async = true;
  (D.head || D.documentElement).appendChild(iv);
})();
