/* frontdesk page views (/static/widget/track.js, loaded by widget.js after the page's load event):
 * one small POST per page view (URL, title, referrer) whether or not the chat was opened; views
 * wait in localStorage while the server is unreachable and go with the next report. A first-time
 * visitor gets its token from the first answer, so a visitor who never chats is still one
 * visitor across pages and visits (the chat uses the same token). docs/visitor-context.md */
(function () {
  "use strict";
  var W = window, D = document, ctx = W.FrontdeskWidget;
  if (!ctx || ctx.track) return;
  var store = ctx.store, MAX = 20, busy = false, last = "", retry = 0;
  ctx.track = view;

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
    var q = queue();
    if (busy || !q.length) return;
    busy = true;
    var now = Date.now(), token = store.get("token");
    // text/plain body, token inside it: a CORS "simple" request (no preflight); keepalive lets
    // it finish while the browser goes to the next page
    fetch(ctx.base + "/api/v1/widget/pageviews?site=" + encodeURIComponent(ctx.site), {
      method: "POST", keepalive: true, credentials: "omit",
      body: JSON.stringify({ token: token || null, views: q.map(function (v) {
        return { url: v.url, title: v.title, referrer: v.referrer, ago: Math.max(0, now - v.at) };
      }) })
    }).then(function (r) {
      if (r.status === 401 && token) { // a token the server does not know: become a new visitor
        if (store.get("token") === token) store.set("token", null);
        throw "again";
      }
      if (r.status === 429 || r.status >= 500) throw "later";
      return r.ok ? r.json() : {}; // refused for good (unknown site, bad input): drop these views
    }).then(function (res) {
      if (res.visitor_token && !store.get("token")) store.set("token", res.visitor_token);
      if (res.context) { ctx.visit = res.context; if (ctx.onVisit) ctx.onVisit(res.context); } // for invite.js
      done(q.length);
    }, function (e) {
      done(0);
      if (e === "again") flush();
      else if (!retry) retry = setTimeout(function () { retry = 0; flush(); }, 3e4); // offline or busy: later
    });
  }

  function done(sent) {
    busy = false;
    if (sent) save(queue().slice(sent));
    if (sent && queue().length) flush(); // views that came while this one was on its way
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
