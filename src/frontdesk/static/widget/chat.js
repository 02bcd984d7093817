/* frontdesk chat window, part 3 of 3: the DOM. Loaded on demand by /widget.js (loader.js) into
 * its shadow root; the server serves strings.js + protocol.js + this file joined as one
 * /static/widget/chat.js (web/pages.py CHAT_PARTS), so MSG (the texts) and Proto (the protocol
 * state, no DOM: outbox, seq order, resume point, backoff, typing) are in scope here.
 * Keep it framework-free and the joined file under 30 KB gzipped (bench/widget_size.py).
 *
 * Rules this file keeps:
 *  - text from anyone is never parsed as HTML: textContent / createTextNode only;
 *    links are built with createElement and only for http(s) URLs;
 *  - what protocol.js decides is the truth: this file renders it and owns the socket and timers. */
(function () {
  "use strict";
  var W = window, D = document, ctx = W.FrontdeskWidget;
  if (!ctx || ctx.chat) return;
  var store = ctx.store, root = ctx.root, box = ctx.box;

  function t(k) { return (MSG[ctx.lang] || MSG.en)[k]; }
  function siteText(k) { var v = ctx.texts()[k]; return typeof v === "string" ? Proto.keepWords(v) : ""; }

  // Tunables, each with its reason.
  var DEAD_AFTER = 50000;                      // ms of silence = dead link (server pings every 20 s)
  var CACHE_MAX = 200;                         // messages kept for an instant render on the next page
  var GROUP_GAP = 5 * 60000;                   // ms: messages of one author closer than this form a group
  var BANNER_GRACE = 1200;                     // ms: quick reconnects do not flash the banner

  // --- DOM helpers: elements only, text only --------------------------------------------
  function el(tag, cls, attrs) {
    var e = D.createElement(tag);
    if (cls) e.className = cls;
    if (attrs) for (var k in attrs) e.setAttribute(k, attrs[k]);
    return e;
  }
  var SVG = { // constant markup
    min: '<svg class="ic-min" viewBox="0 0 24 24" aria-hidden="true"><path d="M6 12h12" stroke="currentColor" stroke-width="2.4" stroke-linecap="round"/></svg>',
    x: '<svg class="ic-x" viewBox="0 0 24 24" aria-hidden="true"><path d="M6 6l12 12M18 6L6 18" stroke="currentColor" stroke-width="2.4" stroke-linecap="round"/></svg>',
    send: '<svg viewBox="0 0 24 24" aria-hidden="true"><path fill="currentColor" d="M3.4 20.4l17.4-7.5a1 1 0 0 0 0-1.8L3.4 3.6a1 1 0 0 0-1.4 1.2L4.3 11 14 12l-9.7 1-2.3 6.2a1 1 0 0 0 1.4 1.2z"/></svg>',
    chat: '<svg viewBox="0 0 32 32" aria-hidden="true"><path fill="currentColor" d="M16 5C9.4 5 4 9.5 4 15c0 3 1.6 5.7 4.1 7.5L7 27l5.2-2.6c1.2.4 2.5.6 3.8.6 6.6 0 12-4.5 12-10S22.6 5 16 5z"/></svg>',
    ok: '<svg viewBox="0 0 24 24" aria-hidden="true"><path d="M5 12.5l4.5 4.5L19 7.5" fill="none" stroke="currentColor" stroke-width="2.6" stroke-linecap="round" stroke-linejoin="round"/></svg>',
    end: '<svg viewBox="0 0 24 24" aria-hidden="true"><path d="M10 5H6a1 1 0 0 0-1 1v12a1 1 0 0 0 1 1h4M15 8l4 4-4 4M19 12H10" fill="none" stroke="currentColor" stroke-width="2.2" stroke-linecap="round" stroke-linejoin="round"/></svg>',
    thumb: '<svg viewBox="0 0 24 24" aria-hidden="true"><path fill="currentColor" d="M2 21h3.5V10H2v11zm20-10c0-1.1-.9-2-2-2h-6.3l1-4.6v-.3c0-.4-.2-.8-.5-1.1L13.2 2 7.6 7.6c-.4.4-.6.9-.6 1.4v10c0 1.1.9 2 2 2h8.5c.8 0 1.5-.5 1.8-1.2l3-7c.1-.2.1-.5.1-.7V11z"/></svg>'
  };
  function icon(name) { var s = el("span", "ic"); s.innerHTML = SVG[name]; return s.firstChild; }
  function field(tag, attrs) { // a labelled input with its own error line: {wrap, lbl, inp, err}
    var id = "f" + ++fieldSeq, f = { wrap: el("div", "fld"), lbl: el("label", "lbl", { for: id }), inp: el(tag, "in", attrs),
      err: el("span", "er", { id: id + "e" }) };
    f.inp.id = id;
    f.inp.setAttribute("aria-describedby", id + "e");
    f.err.hidden = true;
    f.wrap.appendChild(f.lbl);
    f.wrap.appendChild(f.inp);
    f.wrap.appendChild(f.err);
    f.inp.addEventListener("input", function () { fieldError(f, ""); });
    return f;
  }
  function fieldError(f, text) {
    f.err.textContent = text;
    f.err.hidden = !text;
    if (text) f.inp.setAttribute("aria-invalid", "true"); else f.inp.removeAttribute("aria-invalid");
  }
  function formError(node, text) { node.textContent = text; node.hidden = !text; }

  var CSS =
    ".win{position:fixed;right:20px;bottom:96px;width:370px;height:560px;max-width:calc(100vw - 40px);max-height:calc(100vh - 116px);" +
    "display:flex;flex-direction:column;background:#fff;color:#1b1f24;border-radius:16px;overflow:hidden;pointer-events:auto;" +
    "box-shadow:0 12px 48px rgba(0,0,0,.22),0 2px 8px rgba(0,0,0,.08);animation:fdpop .2s ease;transform-origin:bottom right}" +
    ".left .win{right:auto;left:20px;transform-origin:bottom left}" +
    "@keyframes fdpop{from{opacity:0;transform:translateY(12px) scale(.98)}}" +
    ".hd{flex:none;display:flex;align-items:center;gap:12px;padding:14px 10px 14px 16px;background:var(--c);color:var(--on)}" +
    ".av,.ava{flex:none;border-radius:50%;overflow:hidden;display:flex;align-items:center;justify-content:center;font-weight:600}" +
    ".av{width:42px;height:42px;font-size:16px;background:rgba(255,255,255,.2);box-shadow:0 0 0 2px rgba(255,255,255,.45)}" +
    ".av img,.ava img{width:100%;height:100%;object-fit:cover;display:block}.av svg{width:24px;height:24px}" +
    ".ttl{flex:1;min-width:0}.nm,.rl{white-space:nowrap;overflow:hidden;text-overflow:ellipsis}" +
    ".nm{font-size:16px;font-weight:600;line-height:1.3}.rl{font-size:13px;line-height:1.3}" +
    ".x{flex:none;width:44px;height:44px;margin:0;padding:0;border:0;border-radius:10px;background:none;color:inherit;" +
    "cursor:pointer;display:flex;align-items:center;justify-content:center}.x:hover{background:rgba(0,0,0,.12)}" +
    ".x svg{width:22px;height:22px}.x .ic-x{display:none}" +
    ".fd button:focus-visible{outline:2px solid #1b1f24;outline-offset:2px}.hd .x:focus-visible{outline-color:var(--on);outline-offset:-3px}" +
    ".net{flex:none;padding:8px 16px;font-size:13px;text-align:center;background:#fff4e5;color:#6b3a00;border-bottom:1px solid #f1dcbc}" +
    ".body{position:relative;flex:1;min-height:0;display:flex;flex-direction:column;background:#f6f7f9}" +
    ".list{flex:1;min-height:0;overflow-y:auto;overscroll-behavior:contain;padding:12px 14px 10px;display:flex;flex-direction:column}" +
    ".msg{display:flex;flex-direction:column;align-items:flex-start;margin-top:12px;flex:none}" +
    ".msg.cont{margin-top:3px}.msg.me{align-items:flex-end}.msg.sys{align-items:center}" +
    ".msg.day::before{content:attr(data-day);align-self:center;margin:6px 0 12px;padding:3px 10px;border-radius:10px;" +
    "background:#e6e9ee;color:#414a57;font-size:12px}" +
    ".who{font-size:12px;color:#4a5361;margin:0 0 3px 44px;max-width:80%;overflow:hidden;text-overflow:ellipsis;white-space:nowrap}" +
    ".cont .who{display:none}" +
    ".row{display:flex;align-items:flex-end;gap:8px;width:100%}.me .row{justify-content:flex-end}" +
    ".ava{width:36px;height:36px;font-size:14px;background:var(--c);color:var(--on)}.ava svg{width:20px;height:20px}" +
    ".msg:not(.tail) .ava{visibility:hidden}" +
    ".bub{min-width:0;max-width:80%;padding:8px 12px;border-radius:16px;background:#fff;color:#1b1f24;border:1px solid #e1e4e9;" +
    "font-size:14.5px;line-height:1.4;white-space:pre-wrap;overflow-wrap:anywhere;word-break:break-word;unicode-bidi:plaintext;text-align:start}" +
    ".op.tail .bub{border-bottom-left-radius:4px}.me .bub{background:var(--c);color:var(--on);border-color:transparent}" +
    ".me.tail .bub{border-bottom-right-radius:4px}.bub a{color:#0b57d0;text-decoration:underline;text-underline-offset:2px}" +
    ".me .bub a{color:inherit}" +
    ".sys .bub{max-width:90%;padding:2px 8px;background:none;border:0;color:#4a5361;font-size:13px;text-align:center}" +
    ".meta{display:flex;gap:6px;margin:3px 4px 0;font-size:11.5px;color:#525b68}.op .meta{margin-left:48px}" +
    ".msg:not(.tail):not(.pend) .meta,.sys .meta{display:none}.me .st{display:none}.me.last .st,.me.pend .st{display:inline}" +
    ".fail .st{color:#b42318}" +
    ".newer{position:absolute;left:50%;bottom:10px;transform:translateX(-50%);margin:0;padding:6px 14px;border:0;border-radius:16px;" +
    "background:var(--c);color:var(--on);font:inherit;font-size:13px;cursor:pointer;box-shadow:0 2px 8px rgba(0,0,0,.2)}" +
    ".typing{flex:none;display:flex;align-items:center;gap:8px;padding:2px 16px 8px;font-size:12.5px;color:#4a5361;background:#f6f7f9}" +
    ".dots{display:inline-flex;gap:3px}.dots i{width:6px;height:6px;border-radius:50%;background:#7d8794;animation:fdb 1.2s infinite}" +
    ".dots i:nth-child(2){animation-delay:.15s}.dots i:nth-child(3){animation-delay:.3s}" +
    "@keyframes fdb{0%,60%,100%{transform:none;opacity:.5}30%{transform:translateY(-3px);opacity:1}}" +
    ".cmp{flex:none;display:flex;align-items:flex-end;gap:8px;margin:0;padding:8px 8px 8px 14px;border-top:1px solid #e1e4e9;background:#fff}" +
    ".cmp:focus-within{border-top-color:var(--c)}" +
    ".ta{flex:1;min-width:0;height:40px;max-height:120px;margin:0;padding:10px 0;border:0;outline:0;resize:none;background:none;" +
    "color:#1b1f24;font:inherit;font-size:15px;line-height:20px;overflow-y:auto}.ta::placeholder{color:#687180;opacity:1}" +
    ".cnt{flex:none;align-self:center;font-size:11.5px;color:#525b68;white-space:nowrap}.cnt.over{color:#b42318;font-weight:700}" +
    ".lim{flex:none;margin:0;padding:8px 14px;border-top:1px solid #f3c5c0;background:#fdecea;color:#8a1c12;font-size:13px;line-height:1.35}" +
    ".off .lim{display:none}.nxt{font-weight:600}" +
    ".send{flex:none;width:40px;height:40px;margin:0;padding:0;border:0;border-radius:50%;background:var(--c);color:var(--on);" +
    "cursor:pointer;display:flex;align-items:center;justify-content:center}.send svg{width:20px;height:20px}" +
    ".send:disabled{background:#e6e9ee;color:#545d6a;cursor:default}" +
    // the offline form (replaces the list and the composer), the notice strip, the contacts form
    ".off .body,.off .typing,.off .cmp{display:none}.slot{flex:none}" +
    ".off .slot{flex:1;min-height:0;overflow-y:auto;overscroll-behavior:contain;background:#f6f7f9}" +
    ".pane{display:none;padding:18px 18px 20px}.off .pane{display:block}" +
    ".hp{position:absolute;left:-9999px;width:1px;height:1px;opacity:0}" +
    ".lead{margin:0 0 16px;font-size:14.5px;line-height:1.45;color:#2b323c}" +
    ".fld{display:block;margin:0 0 12px}.lbl{display:block;margin:0 0 5px;font-size:13px;font-weight:600;color:#2b323c}" +
    ".in{display:block;width:100%;margin:0;padding:9px 11px;border:1px solid #b9c0ca;border-radius:10px;background:#fff;" +
    "color:#1b1f24;font:inherit;font-size:15px;line-height:20px;outline:0}.in::placeholder{color:#687180;opacity:1}" +
    ".in:focus{border-color:var(--c);box-shadow:0 0 0 1px var(--c)}textarea.in{resize:vertical;min-height:100px;max-height:260px}" +
    ".in[aria-invalid=true]{border-color:#b42318;box-shadow:none}.er{display:block;margin:5px 0 0;font-size:12.5px;line-height:1.35;color:#b42318}" +
    ".ferr{margin:0 0 12px;padding:9px 12px;border-radius:10px;background:#fdecea;color:#8a1c12;font-size:13px;line-height:1.4}" +
    ".btn{display:block;width:100%;height:44px;margin:0;padding:0 16px;border:0;border-radius:10px;background:var(--c);" +
    "color:var(--on);font:inherit;font-size:15px;font-weight:600;cursor:pointer}.btn:disabled{opacity:.65;cursor:default}" +
    ".lnk{margin:0;padding:4px 2px;border:0;background:none;color:#0b57d0;font:inherit;text-decoration:underline;" +
    "text-underline-offset:2px;cursor:pointer}.pane .lnk{display:block;margin:12px auto 0}" +
    ".thx{padding:36px 8px 8px;text-align:center}.okc{width:60px;height:60px;margin:0 auto 16px;border-radius:50%;" +
    "background:#e3f4ea;color:#12804a;display:flex;align-items:center;justify-content:center}.okc svg{width:30px;height:30px}" +
    ".thx .h{margin:0 0 8px;font-size:19px;font-weight:700}.thx .lead{margin-bottom:22px;overflow-wrap:anywhere}" +
    ".ntc{display:flex;align-items:center;gap:10px;padding:9px 12px 9px 14px;background:#fff6e0;color:#573800;" +
    "border-top:1px solid #efd9a6;font-size:13px;line-height:1.35}.ntc span{flex:1;min-width:0;overflow-wrap:anywhere}" +
    ".ntc .lnk{flex:none;color:#573800;font-weight:600}" +
    ".ask{align-self:stretch;margin:10px 2px 0;padding:12px 12px 4px;border:1px solid #e1e4e9;border-radius:14px;background:#fff;text-align:left}" +
    ".ask .fld{margin-bottom:8px}.ask .in{padding:8px 10px}.ask .btn{height:40px;margin-bottom:8px}" +
    ".ask .ok{display:flex;align-items:center;gap:8px;padding:0 0 8px;color:#0f6b3e;font-size:13.5px;overflow-wrap:anywhere}" +
    ".ask .ok svg{flex:none;width:18px;height:18px}.tr{padding:6px 12px}.tr>.lnk{display:block;padding:4px 0 8px}" +
    // the rating after a closed conversation
    ".row>.rt{flex:1;min-width:0}.rt .q{margin:0 0 8px;font-size:14px;font-weight:600;color:#2b323c}.opts{display:flex;gap:4px;margin:0 0 10px}" +
    ".opt{width:44px;height:44px;margin:0;padding:0;border:1px solid transparent;border-radius:10px;background:none;" +
    "color:#b6bdc7;font-size:30px;line-height:1;cursor:pointer;display:flex;align-items:center;justify-content:center}" +
    ".opt:hover{background:#f1f3f6}.opt.on{color:#e8a200}.opt svg{width:26px;height:26px}" +
    ".th .opt{border-color:#d5dae1;color:#687180}.th .opt.on{color:var(--on);background:var(--c);border-color:var(--c)}" +
    ".opt.dn svg{transform:rotate(180deg)}.rt textarea.in{min-height:64px}" +
    // a ban covers this visitor: one neutral message replaces everything below the header
    ".bnd{display:none;flex:1;padding:40px 24px;text-align:center;background:#f6f7f9}.bnd .h{margin:0 0 8px;font-size:17px;" +
    "font-weight:700;color:#2b323c}.ban .bnd{display:block}.ban .body,.ban .typing,.ban .slot,.ban .lim,.ban .cmp,.ban .net," +
    ".ban [data-testid=widget-end]{display:none}" +
    "@media (max-width:479px){.in{font-size:16px}}" +
    "@media (max-width:479px){.win,.left .win{top:0;left:0;right:0;bottom:0;width:auto;height:auto;max-width:none;max-height:none;" +
    "border-radius:0;animation:none}.open .fl{display:none}.x .ic-min{display:none}.x .ic-x{display:block}" +
    ".ta{font-size:16px}.hd{padding-top:max(14px,env(safe-area-inset-top))}.cmp{padding-bottom:max(8px,env(safe-area-inset-bottom))}}";

  // the department choice before the first message, the place in the queue (docs/protocol.md § Departments and routing)
  CSS += ".deps{flex:none;padding:8px 14px 4px;background:#f6f7f9}.depq{margin:0 0 6px;font-size:13px;color:#4a5361}" +
    ".depl{display:flex;flex-wrap:wrap;gap:6px}.dep{min-height:36px;margin:0;padding:6px 12px;border:1px solid #c9d0d9;" +
    "border-radius:18px;background:#fff;color:#1b1f24;font:inherit;font-size:14px;cursor:pointer;max-width:100%;" +
    "overflow:hidden;text-overflow:ellipsis;white-space:nowrap}.dep:hover{border-color:var(--c)}" +
    ".dep[aria-pressed=true]{background:var(--c);border-color:var(--c);color:var(--on)}.off .deps{display:none}" +
    ".que{flex:none;padding:8px 16px;font-size:13px;text-align:center;background:#eef3fb;color:#1e3a5f;border-top:1px solid #dbe4f0}";

  // --- the window -----------------------------------------------------------------------
  var style = el("style");
  style.textContent = CSS;
  var win = el("section", "win", { role: "dialog", "data-testid": "widget-window" });
  win.hidden = true;
  var head = el("div", "hd");
  var avatar = el("span", "av");
  var titles = el("div", "ttl");
  var nameEl = el("div", "nm");
  var roleEl = el("div", "rl");
  var hideBtn = el("button", "x", { type: "button", "data-testid": "widget-close" });
  hideBtn.appendChild(icon("min"));
  hideBtn.appendChild(icon("x"));
  titles.appendChild(nameEl);
  titles.appendChild(roleEl);
  head.appendChild(avatar);
  head.appendChild(titles);
  var endBtn = el("button", "x", { type: "button", "data-testid": "widget-end" });
  endBtn.appendChild(icon("end"));
  endBtn.hidden = true;
  head.appendChild(endBtn);
  head.appendChild(hideBtn);
  var banner = el("div", "net", { role: "status", "data-testid": "widget-connection" });
  banner.hidden = true;
  var body = el("div", "body");
  var list = el("div", "list", { role: "log", "aria-live": "polite", tabindex: "0" });
  var newer = el("button", "newer", { type: "button" });
  newer.hidden = true;
  body.appendChild(list);
  body.appendChild(newer);
  var typing = el("div", "typing", { "data-testid": "widget-typing", "aria-live": "polite" });
  typing.hidden = true;
  var dots = el("span", "dots", { "aria-hidden": "true" });
  dots.appendChild(el("i"));
  dots.appendChild(el("i"));
  dots.appendChild(el("i"));
  var typingText = el("span");
  typing.appendChild(dots);
  typing.appendChild(typingText);
  // The slot: the "operator has left" notice above the composer, and the pane that replaces the
  // list and the composer while nobody can answer (the offline form, then its thank-you).
  var fieldSeq = 0;
  var slot = el("div", "slot");
  var notice = el("div", "ntc", { "data-testid": "widget-offline-notice", role: "status" });
  var noticeText = el("span");
  var noticeBtn = el("button", "lnk", { type: "button", "data-testid": "widget-offline-open" });
  notice.appendChild(noticeText);
  notice.appendChild(noticeBtn);
  notice.hidden = true;
  var paneEl = el("div", "pane");
  var offForm = el("form", "", { "data-testid": "widget-offline-form", novalidate: "" });
  var offLead = el("p", "lead");
  var offNext = el("p", "lead nxt", { "data-testid": "widget-offline-next-open" });
  var offName = field("input", { type: "text", autocomplete: "name", "data-testid": "widget-offline-name" });
  var offEmail = field("input", { type: "email", autocomplete: "email", autocapitalize: "off",
    spellcheck: "false", "data-testid": "widget-offline-email" });
  var offMsg = field("textarea", { rows: "4", "data-testid": "widget-offline-message" });
  var offErr = el("div", "ferr", { role: "alert", "data-testid": "widget-offline-error" });
  offErr.hidden = true;
  var offSend = el("button", "btn", { type: "submit", "data-testid": "widget-offline-submit" });
  var offBack = el("button", "lnk", { type: "button" });
  // spam (docs/moderation.md § Spam): a field people never see nor fill; bots filling every field do
  var offHp = el("input", "hp", { type: "text", name: "website", tabindex: "-1", autocomplete: "off", "aria-hidden": "true" });
  [offLead, offNext, offName.wrap, offEmail.wrap, offMsg.wrap, offHp, offErr, offSend, offBack].forEach(function (n) { offForm.appendChild(n); });
  var thanks = el("div", "thx", { "data-testid": "widget-offline-thanks", role: "status" });
  var okCircle = el("div", "okc");
  okCircle.appendChild(icon("ok"));
  var thanksH = el("div", "h"), thanksP = el("p", "lead");
  var thanksBack = el("button", "btn", { type: "button", "data-testid": "widget-offline-done" });
  [okCircle, thanksH, thanksP, thanksBack].forEach(function (n) { thanks.appendChild(n); });
  paneEl.appendChild(offForm);
  paneEl.appendChild(thanks);
  slot.appendChild(notice);
  slot.appendChild(paneEl);
  var form = el("form", "cmp", { novalidate: "" });
  var input = el("textarea", "ta", { rows: "1", "data-testid": "widget-input", enterkeyhint: "send", autocomplete: "off" });
  var counter = el("span", "cnt", { "aria-live": "polite" });
  counter.hidden = true;
  var sendBtn = el("button", "send", { type: "submit", "data-testid": "widget-send" });
  sendBtn.appendChild(icon("send"));
  form.appendChild(input);
  form.appendChild(counter);
  form.appendChild(sendBtn);
  var limitErr = el("div", "lim", { role: "alert", "data-testid": "widget-too-long" });
  limitErr.hidden = true;
  var bannedEl = el("div", "bnd", { "data-testid": "widget-banned", role: "status" });
  var bannedH = el("p", "h"), bannedP = el("p", "lead");
  bannedEl.appendChild(bannedH);
  bannedEl.appendChild(bannedP);
  var depBox = el("div", "deps", { "data-testid": "widget-departments", role: "group" });
  var depAsk = el("div", "depq"), depList = el("div", "depl");
  depBox.appendChild(depAsk);
  depBox.appendChild(depList);
  depBox.hidden = true;
  var queueEl = el("div", "que", { "data-testid": "queue-position", role: "status", "aria-live": "polite" });
  queueEl.hidden = true;
  [head, banner, body, typing, queueEl, slot, depBox, limitErr, form, bannedEl].forEach(function (n) { win.appendChild(n); });
  root.insertBefore(style, root.firstChild.nextSibling);
  box.appendChild(win);

  var greeting = el("div", "msg op tail", { "data-testid": "widget-greeting" });
  greeting._k = [-1, 0];

  // --- state ------------------------------------------------------------------------------
  var token = store.get("token");
  var S = new Proto.State();
  var convs = S.convs;     // conversation id → {status, cursor (the resume point), op, took}
  var current = null;      // id of the open conversation, if any
  var operator = null;     // who answers now: {id, name, photo_url}
  var online = ctx.available(ctx.cfg());
  var pendingEls = {};     // client_id → element of a message not yet stored
  var storedIds = {};      // client_ids of own messages already stored (a late outbox event must not revive them)
  var isOpen = false, atBottom = true;
  var ws = null, ready = false, stopped = false;
  var retryTimer = 0, deadTimer = 0, bannerTimer = 0, typingTimer = 0, typingHide = 0, cacheTimer = 0;
  var flight = new Proto.Flight(), backoff = new Proto.Backoff(), outbox = new Proto.Outbox(store);
  var heartbeat = 20, syncRef = 0, lastHref = location.href;
  var parseKey = Proto.parseKey, cmp = Proto.cmp, keyStr = Proto.keyStr;
  var readKey = parseKey(store.get("read")), notifiedKey = parseKey(store.get("notified")) || readKey;
  var maxChars = ctx.cfg().max_message_chars || 4000;
  var typingState = new Proto.Typing(0, maxChars);
  var nextOpen = ctx.cfg().next_open_at || null; // when the shop opens next (ISO-8601 UTC), null = unknown

  function conv(id) { return S.conv(id); }

  // --- outbox: messages typed but not yet acknowledged; shared by the tabs ---------------
  function readOutbox() { return outbox.items(); }
  function outboxRemove(clientId) { outbox.remove(clientId); }
  function newClientId() {
    var a = new Uint8Array(12);
    (W.crypto || W.msCrypto).getRandomValues(a);
    return Proto.newClientId(Date.now(), a);
  }

  // --- rendering ------------------------------------------------------------------------------
  function safeUrl(s) {
    try { var u = new URL(s); return u.protocol === "http:" || u.protocol === "https:" ? u.href : null; } catch (e) { return null; }
  }
  function renderText(node, text) {
    var re = /https?:\/\/[^\s<>"'«»]+/gi, last = 0, m;
    while ((m = re.exec(text))) {
      var raw = m[0].replace(/[.,;:!?)\]}'"»]+$/, ""), href = safeUrl(raw);
      if (!raw.length || !href) continue;
      if (m.index > last) node.appendChild(D.createTextNode(text.slice(last, m.index)));
      var a = el("a", "", { target: "_blank", rel: "noopener noreferrer nofollow ugc" });
      a.href = href;
      a.textContent = raw;
      node.appendChild(a);
      last = m.index + raw.length;
      re.lastIndex = last;
    }
    if (last < text.length) node.appendChild(D.createTextNode(text.slice(last)));
  }
  function initials(name) {
    return String(name || "?").trim().split(/\s+/).slice(0, 2).map(function (w) { return Array.from(w)[0] || ""; }).join("").toUpperCase() || "?";
  }
  function photoUrl(p) {
    if (typeof p !== "string" || !p) return null;
    return p.charAt(0) === "/" && p.charAt(1) !== "/" ? ctx.base + p : safeUrl(p);
  }
  function fillAvatar(node, who) { // who: operator or null (the site itself)
    node.textContent = "";
    var url = who && photoUrl(who.photo_url);
    if (url) {
      var img = el("img", "", { alt: "" });
      img.onerror = function () { node.textContent = initials(who.name); };
      img.src = url;
      node.appendChild(img);
    } else if (who) {
      node.textContent = initials(who.name);
    } else {
      node.appendChild(icon("chat"));
    }
  }
  function timeOf(iso) { var d = iso ? new Date(iso) : new Date(); return isNaN(d) ? new Date() : d; }
  function clock(d) { return d.toLocaleTimeString(ctx.lang, { hour: "2-digit", minute: "2-digit" }); }
  function dayLabel(d) {
    var now = new Date(), y = new Date(now.getTime() - 864e5);
    if (d.toDateString() === now.toDateString()) return t("today");
    if (d.toDateString() === y.toDateString()) return t("yesterday");
    return d.toLocaleDateString(ctx.lang, { day: "numeric", month: "long", year: d.getFullYear() === now.getFullYear() ? undefined : "numeric" });
  }

  function buildMessage(m) {
    var author = m.kind === "visitor" ? "visitor" : m.kind === "system" ? "system" : "operator";
    var e = el("div", "msg " + (author === "visitor" ? "me" : author === "system" ? "sys" : "op"),
      { "data-testid": "widget-message", "data-author": author });
    var when = timeOf(m.created_at);
    e._t = when;
    e._who = author === "operator" ? "o" + ((m.author && m.author.id) || "") : author;
    var row = el("div", "row");
    if (author === "operator") {
      var name = el("div", "who");
      name.textContent = (m.author && m.author.name) || t("operator");
      e.appendChild(name);
      var ava = el("span", "ava", { "aria-hidden": "true" });
      fillAvatar(ava, m.author && m.author.name ? m.author : { name: t("operator") });
      row.appendChild(ava);
    }
    var bubble = el("div", "bub", { dir: "auto" });
    var text = String(m.text == null ? "" : m.text);
    renderText(bubble, author === "system" ? Proto.keepWords(text) : text); // the server's own words: "e‑mail" kept whole
    row.appendChild(bubble);
    e.appendChild(row);
    // the holding message asking for contacts carries the form under it (until they are saved)
    if (author === "system" && /^ask_contacts:/.test(m.client_id || "")) e.appendChild(askBox(m.conversation_id));
    var meta = el("div", "meta");
    var tm = el("time", "", { datetime: when.toISOString() });
    tm.textContent = clock(when);
    meta.appendChild(tm);
    if (author === "visitor") meta.appendChild(el("span", "st"));
    e.appendChild(meta);
    return e;
  }
  function setSeq(e, m) {
    e._k = [m.conversation_id, m.seq];
    e._m = m;
    e.setAttribute("data-seq", String(m.seq));
    e.setAttribute("data-conversation-id", String(m.conversation_id));
    if (m.client_id) e.setAttribute("data-client-id", m.client_id);
    if (m.kind === "visitor" && m.client_id) storedIds[m.client_id] = 1;
  }
  function setState(e, state, text) { // sending | delivered | failed
    e.setAttribute("data-state", state);
    e.classList.toggle("pend", state !== "delivered");
    e.classList.toggle("fail", state === "failed");
    var st = e.querySelector(".st");
    if (st) st.textContent = text || t(state);
  }
  function msgSiblings(e, dir) {
    var n = dir < 0 ? e.previousElementSibling : e.nextElementSibling;
    while (n && !n._t) n = dir < 0 ? n.previousElementSibling : n.nextElementSibling;
    return n;
  }
  function sameGroup(a, b) {
    return !!a && !!b && a._who === b._who && a._who !== "system" && Math.abs(b._t - a._t) < GROUP_GAP &&
      a._t.toDateString() === b._t.toDateString();
  }
  function regroup(e) {
    if (!e || !e._t) return;
    var prev = msgSiblings(e, -1), next = msgSiblings(e, 1);
    e.classList.toggle("cont", sameGroup(prev, e));
    e.classList.toggle("tail", !sameGroup(e, next));
    var newDay = e !== greeting && (!prev || prev === greeting || prev._t.toDateString() !== e._t.toDateString());
    e.classList.toggle("day", newDay);
    if (newDay) e.setAttribute("data-day", dayLabel(e._t)); else e.removeAttribute("data-day");
  }
  function regroupAround(e) { regroup(msgSiblings(e, -1)); regroup(e); regroup(msgSiblings(e, 1)); }
  function regroupAll() { for (var n = list.firstElementChild; n; n = n.nextElementSibling) regroup(n); }
  function markLastVisitor() {
    var old = list.querySelector(".msg.me.last");
    if (old) old.classList.remove("last");
    var all = list.querySelectorAll(".msg.me[data-state=delivered]");
    if (all.length) all[all.length - 1].classList.add("last");
  }

  // Place e by its key: after every element with a smaller key, before pending sends.
  function place(e) {
    var kids = list.children, keys = Array.prototype.map.call(kids, function (n) { return n._k || null; });
    list.insertBefore(e, kids[Proto.insertIndex(keys, e._k)] || null);
  }

  function scrollDown() { list.scrollTop = list.scrollHeight; newer.hidden = true; }
  function afterInsert(own) {
    if (own || atBottom) scrollDown();
    else newer.hidden = false;
    markLastVisitor();
    updateUnread();
    saveCacheSoon();
  }

  // A stored message: from message.created, replay, sync.result, an ack, or the cache.
  function addMessage(m, how) { // how: "live" | "ack" | "cache"
    var verdict = S.receive(m, how); // moves the resume point; null: not for the visitor
    if (!verdict) return;
    var e = m.client_id && m.kind === "visitor" ? pendingEls[m.client_id] : null;
    if (verdict === "duplicate") {
      if (e && e !== S.heldAt(m)) { e.remove(); delete pendingEls[m.client_id]; }
      return;
    }
    var moved = !!e;
    if (e) { // ours, stored: whichever comes first (ack or message.created) settles it
      delete pendingEls[m.client_id];
      if (!e._foreign) outboxRemove(m.client_id);
      e.remove();
    } else {
      e = buildMessage(m);
    }
    setSeq(e, m);
    if (m.kind === "visitor") setState(e, "delivered");
    S.hold(m, e);
    place(e);
    if (moved) regroupAll(); else regroupAround(e);
    if (m.kind === "operator" && how === "live" && m.conversation_id === current) {
      typing.hidden = true;
      if (m.author && m.author.name && m.author.id && (!operator || operator.id !== m.author.id)) setOperator(m.author);
    }
    if (m.kind !== "visitor" && how !== "cache") maybeBeep([m.conversation_id, m.seq]);
    afterInsert(how !== "cache" && m.kind === "visitor" && how === "ack");
  }

  function addPending(item, foreign) { // foreign: typed in another tab, which sends it
    if (pendingEls[item.id] || storedIds[item.id]) return pendingEls[item.id];
    var e = buildMessage({ kind: "visitor", text: item.text, created_at: new Date(item.t || Date.now()).toISOString() });
    e._k = [Infinity, item.t || 0];
    e.setAttribute("data-client-id", item.id);
    setState(e, "sending");
    e._foreign = !!foreign;
    pendingEls[item.id] = e;
    place(e);
    regroupAround(e);
    afterInsert(true);
    return e;
  }

  function addNotice(cid, text) {
    var top = S.top(cid);
    dropNotices(cid);
    var e = el("div", "msg sys notice");
    e._t = new Date();
    e._who = "system";
    e._k = [cid, top + 0.5];
    e.setAttribute("data-notice", String(cid));
    var b = el("div", "bub");
    b.textContent = text;
    var row = el("div", "row");
    row.appendChild(b);
    e.appendChild(row);
    place(e);
    regroupAround(e);
    afterInsert(false);
  }
  function dropNotices(cid) {
    Array.prototype.forEach.call(list.querySelectorAll('[data-notice="' + cid + '"],[data-rate="' + cid + '"]'), function (n) { n.remove(); });
  }

  function dropConversation(cid) {
    S.dropMessages(cid).forEach(function (e) { e.remove(); });
    dropNotices(cid);
    regroupAll();
    markLastVisitor();
  }

  // --- header, presence, typing ---------------------------------------------------------------
  function setOperator(op) {
    operator = op && op.name ? op : null;
    if (current) S.setOperator(current, operator);
    paintHeader();
    saveCacheSoon();
  }
  function paintHeader() {
    var show = operator && ctx.cfg().widget.show_operator !== false;
    nameEl.textContent = show ? operator.name : siteText("title") || t("role");
    nameEl.setAttribute("data-testid", show ? "widget-operator-name" : "widget-title");
    roleEl.textContent = show ? t("role") : online ? siteText("subtitle") : siteText("offline_title");
    fillAvatar(avatar, show ? operator : null);
    if (show) avatar.setAttribute("data-testid", "widget-operator-photo"); else avatar.removeAttribute("data-testid");
    win.setAttribute("aria-label", nameEl.textContent);
  }
  function setOnline(on, frame) { // frame: welcome / availability, with next_open_at from newer servers
    if (frame && "next_open_at" in frame) nextOpen = frame.next_open_at;
    online = !!on;
    ctx.setOnline(online);
    paintHeader();
    paintPane();
  }
  function showTyping(f) {
    clearTimeout(typingHide);
    var on = f.is_typing && f.conversation_id === current;
    typing.hidden = !on;
    if (on) {
      typingText.textContent = ((f.operator && f.operator.name) || (operator && operator.name) || t("operator")) + t("typing");
      typingHide = setTimeout(function () { typing.hidden = true; }, 30000); // a lost "stopped" frame
      if (atBottom) scrollDown();
    }
  }

  // --- offline mode (docs/protocol.md § Offline mode and e-mail) ------------------------------
  // Nobody can answer and there is no open conversation: the offline form replaces the list and
  // the composer. In an open conversation: a notice with a button to the same form. The holding
  // message "ask_contacts:<id>" carries a contacts form. What the visitor typed is never dropped:
  // errors are shown next to it, the form's text survives the next page (sessionStorage), and a
  // retry reuses the client_id so the server stores the message once.
  var paneMode = null;     // null: availability decides | "form": asked for from the notice | "thanks"
  var shown = null;        // what paintPane showed last
  var offBusy = false, ctRef = 0, ctPending = {};
  var CTRL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;
  var EMAIL = /^[^@\s<>"',;]{1,64}@[A-Za-z0-9.-]{1,253}\.[A-Za-z]{2,63}$/;
  var PHONE = /^\+?[0-9(][0-9 ()\-.]{2,30}[0-9]$/;

  function fmt(k, vars) { return Proto.fill(t(k), vars); }
  var chars = Proto.chars; // as the server counts (code points)
  // what the visitor told us: {name, email, phone, cid: contacts left in this conversation, ecid: e-mail left in it}
  function contact() { var c = store.json("contact"); return c && typeof c === "object" ? c : {}; }
  function saveContact(v, cid) {
    var c = contact();
    ["name", "email", "phone"].forEach(function (k) { if (v[k]) c[k] = v[k]; });
    if (cid) { c.cid = cid; if (v.email) c.ecid = cid; }
    store.set("contact", JSON.stringify(c));
  }
  function badName(v, required) {
    if (!v) return required ? t("needName") : "";
    return chars(v) > 100 || CTRL.test(v) ? t("badName") : "";
  }
  function badEmail(v, required) {
    if (!v) return required ? t("needEmail") : "";
    return v.length > 254 || !/^[\x21-\x7e]+$/.test(v) || !EMAIL.test(v) || v.indexOf("..") >= 0 || v.charAt(0) === "."
      ? t("badEmail") : "";
  }
  function badPhone(v) { return v && (!PHONE.test(v) || v.replace(/\D/g, "").length < 5) ? t("badPhone") : ""; }

  function paintPane() {
    var mode = paneMode || (!online && !current ? "form" : null);
    if (mode === "form" && shown !== "form") { prefill(); fetchFormToken(); }
    if (!mode && shown === "form" && online && !input.value.trim() && offMsg.inp.value.trim()) {
      input.value = offMsg.inp.value; // someone came online: what was typed for e-mail goes to the chat
      offMsg.inp.value = "";
      saveOffDraft();
      saveDraft();
      autosize();
    }
    shown = mode;
    win.classList.toggle("off", !!mode);
    offForm.hidden = mode !== "form";
    thanks.hidden = mode !== "thanks";
    offBack.hidden = !current;
    var c = contact(), known = c.email && c.ecid === current ? c.email : "";
    notice.hidden = !!mode || online || !current;
    // "the operator has left" only after an operator took this conversation; before: nobody is here
    noticeText.textContent = known ? fmt("awayKnown", { e: known }) : t(current && conv(current).took ? "away" : "nobody");
    offNext.textContent = mode === "form" ? Proto.nextOpenText(nextOpen, new Date(), ctx.lang) : "";
    offNext.hidden = !offNext.textContent;
    noticeBtn.hidden = !!known;
    if (atBottom && !mode) scrollDown(); // the notice took some height from the list
  }
  // when the form was shown, signed by the server: a form sent too soon after is taken for a bot
  var formToken = null;
  function fetchFormToken() {
    if (formToken) return;
    fetch(ctx.base + "/api/v1/widget/form-token?site=" + encodeURIComponent(ctx.site), { credentials: "omit", cache: "no-store" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (b) { if (b && b.form_token) formToken = b.form_token; }, function () { /* sent without one */ });
  }
  function prefill() {
    var c = contact();
    if (!offName.inp.value && c.name) offName.inp.value = c.name;
    if (!offEmail.inp.value && c.email) offEmail.inp.value = c.email;
  }
  function focusForm() {
    if (W.matchMedia("(pointer: coarse)").matches) return;
    var f = [offName, offEmail, offMsg].filter(function (x) { return !x.inp.value.trim(); })[0] || offMsg;
    f.inp.focus({ preventScroll: true });
  }
  function showPane(mode) {
    paneMode = mode;
    paintPane();
    if (mode === "form") focusForm();
    else if (!mode) { scrollDown(); if (!W.matchMedia("(pointer: coarse)").matches) input.focus({ preventScroll: true }); }
  }
  function offDraft() { var d = store.json("offdraft", true); return d && typeof d === "object" ? d : {}; }
  function saveOffDraft(d) {
    d = d || offDraft();
    d.n = offName.inp.value;
    d.e = offEmail.inp.value;
    d.m = offMsg.inp.value;
    store.set("offdraft", d.n || d.e || d.m || d.id ? JSON.stringify(d) : null, true);
  }
  [offName, offEmail, offMsg].forEach(function (f) { f.inp.addEventListener("input", function () { saveOffDraft(); }); });
  noticeBtn.addEventListener("click", function () { showPane("form"); });
  offBack.addEventListener("click", function () { showPane(null); });
  thanksBack.addEventListener("click", function () { showPane(null); });
  offForm.addEventListener("submit", function (e) { e.preventDefault(); offSubmit(); });

  function offSubmit() {
    if (offBusy) return;
    var v = { name: offName.inp.value.replace(/\s+/g, " ").trim(), email: offEmail.inp.value.trim(),
      message: offMsg.inp.value.replace(/^\s+|\s+$/g, "") };
    var n = chars(v.message), first = null;
    [[offName, badName(v.name, true)], [offEmail, badEmail(v.email, true)],
      [offMsg, !n ? t("needMsg") : n > maxChars ? fmt("longMsg", { n: n, m: maxChars }) : ""]].forEach(function (p) {
      fieldError(p[0], p[1]);
      if (p[1] && !first) first = p[0];
    });
    formError(offErr, "");
    if (first) { first.inp.focus(); return; }
    // the same text again (a retry) keeps its client_id: stored once; a changed text is a new message
    var d = offDraft(), sig = JSON.stringify(v);
    if (!d.id || d.sig !== sig) { d.id = newClientId().replace(/^v-/, "off-"); d.sig = sig; }
    saveOffDraft(d);
    offBusy = true;
    offSend.disabled = true;
    offSend.textContent = t("fBusy");
    postOffline(v, d.id, true);
  }
  function postOffline(v, id, again) {
    var headers = { "Content-Type": "application/json" };
    if (token) headers.Authorization = "Bearer " + token;
    fetch(ctx.base + "/api/v1/widget/offline?site=" + encodeURIComponent(ctx.site), {
      method: "POST", headers: headers, credentials: "omit", cache: "no-store",
      body: JSON.stringify({ name: v.name, email: v.email, message: v.message, client_id: id, lang: ctx.lang,
        page: { url: location.href, title: D.title }, website: offHp.value || null, form_token: formToken })
    }).then(function (r) {
      return r.json().then(function (b) { return [r.status, b]; }, function () { return [r.status, null]; });
    }).then(function (res) {
      var b = res[1] || {};
      if (res[0] === 201 || res[0] === 200) return offDone(v, b);
      // a token the server no longer knows: become a new visitor and send again, same client_id
      if (res[0] === 401 && again && token) { forgetVisitor(); return postOffline(v, id, false); }
      offFailed((b.error && b.error.code) || "http");
    }).catch(function () { offFailed("network"); });
  }
  function offIdle() { offBusy = false; offSend.disabled = false; offSend.textContent = t("fSend"); }
  function offFailed(code) {
    offIdle();
    if (code === "banned") return showBanned();
    var key = { invalid_name: "badName", invalid_email: "badEmail", empty_text: "needMsg", text_too_long: "longMsg" }[code];
    var f = code === "invalid_name" ? offName : code === "invalid_email" ? offEmail : offMsg;
    if (key) { fieldError(f, fmt(key, { n: chars(offMsg.inp.value.trim()), m: maxChars })); f.inp.focus(); return; }
    formError(offErr, t(code === "rate_limited" ? "rate" : code === "forbidden" ? "forbidden" : code === "network" ? "net" : "srvErr"));
    slot.scrollTop = slot.scrollHeight; // the message and the button under it, in view
  }
  function offDone(v, b) {
    offIdle();
    if (b.visitor_token && b.visitor_token !== token) { // we had no identity yet (or a stale one): this is it
      if (token) forgetVisitor();
      token = b.visitor_token;
      store.set("token", token);
      drop();
      connect();
    }
    var cid = b.conversation_id;
    saveContact({ name: v.name, email: v.email }, cid);
    if (cid) {
      conv(cid).status = "open";
      current = cid;
      dropNotices(cid);
      setActive(true);
    }
    if (b.message) addMessage(b.message, "ack");
    offMsg.inp.value = "";
    saveOffDraft({});
    thanksP.textContent = fmt("thanksMail", { e: v.email });
    showPane("thanks");
    thanksBack.focus({ preventScroll: true });
  }

  // the contacts form under the holding message
  function askBox(cid) {
    var box = el("div", "ask"), c = contact();
    if (c.cid === cid && (c.email || c.phone)) { contactsSaved(box, c); return box; }
    var p = { box: box, cid: cid, f: el("form", "", { "data-testid": "widget-contacts-form", novalidate: "" }),
      em: field("input", { type: "email", autocomplete: "email", autocapitalize: "off", spellcheck: "false",
        placeholder: "name@example.com", "data-testid": "widget-contacts-email" }),
      ph: field("input", { type: "tel", autocomplete: "tel", "data-testid": "widget-contacts-phone" }),
      nm: field("input", { type: "text", autocomplete: "name", "data-testid": "widget-contacts-name" }),
      er: el("div", "ferr", { role: "alert", "data-testid": "widget-contacts-error" }),
      btn: el("button", "btn", { type: "submit", "data-testid": "widget-contacts-submit" }) };
    p.em.lbl.textContent = t("fEmail");
    p.ph.lbl.textContent = t("fPhone");
    p.nm.lbl.textContent = t("fNameOpt");
    p.btn.textContent = t("ctSend");
    p.er.hidden = true;
    p.nm.inp.value = c.name || "";
    p.em.inp.value = c.email || "";
    [p.em.wrap, p.ph.wrap, p.nm.wrap, p.er, p.btn].forEach(function (n) { p.f.appendChild(n); });
    p.f.addEventListener("submit", function (e) { e.preventDefault(); contactsSubmit(p); });
    box.appendChild(p.f);
    return box;
  }
  function contactsSubmit(p) {
    if (p.ref) return;
    var v = { email: p.em.inp.value.trim(), phone: p.ph.inp.value.trim(), name: p.nm.inp.value.replace(/\s+/g, " ").trim() };
    var none = !v.email && !v.phone, e1 = badEmail(v.email), e2 = badPhone(v.phone), e3 = badName(v.name);
    fieldError(p.em, e1);
    fieldError(p.ph, e2);
    fieldError(p.nm, e3);
    formError(p.er, none ? t("needContact") : "");
    var first = none || e1 ? p.em : e2 ? p.ph : e3 ? p.nm : null;
    if (first) { first.inp.focus(); return; }
    var frame = { type: "contacts", ref: "k" + ++ctRef };
    for (var k in v) if (v[k]) frame[k] = v[k];
    if (!ready || !send(frame)) { formError(p.er, t("net")); return; }
    p.ref = frame.ref;
    ctPending[p.ref] = p;
    p.btn.disabled = true;
    p.btn.textContent = t("fBusy");
    p.timer = setTimeout(function () { contactsIdle(p); formError(p.er, t("ctNoAnswer")); }, 15000);
  }
  function contactsIdle(p) {
    clearTimeout(p.timer);
    delete ctPending[p.ref];
    p.ref = null;
    p.btn.disabled = false;
    p.btn.textContent = t("ctSend");
  }
  function onContactsSaved(f) {
    var p = ctPending[f.ref];
    if (p) contactsIdle(p);
    saveContact(f.visitor || {}, f.conversation_id || (p && p.cid) || current);
    if (p) { p.box.textContent = ""; contactsSaved(p.box, contact()); }
    paintPane();
  }
  function contactsSaved(box, c) {
    var ok = el("div", "ok", { "data-testid": "widget-contacts-saved", role: "status" }), s = el("span");
    s.textContent = fmt("ctSaved", { e: [c.email, c.phone].filter(Boolean).join(", ") });
    ok.appendChild(icon("ok"));
    ok.appendChild(s);
    box.appendChild(ok);
  }
  function contactsError(f) {
    var p = ctPending[f.ref];
    contactsIdle(p);
    var m = { invalid_email: [p.em, "badEmail"], invalid_phone: [p.ph, "badPhone"], invalid_name: [p.nm, "badName"] }[f.code];
    if (m) { fieldError(m[0], t(m[1])); m[0].inp.focus(); return; }
    formError(p.er, t(f.code === "invalid_input" ? "needContact" : f.code === "rate_limited" ? "rate" : "srvErr"));
  }

  // --- the rating after a closed conversation (docs/protocol.md § Ratings) ---------------------
  // Asked once an operator has answered; the form sits after the "conversation ended" notice and
  // survives the next page (store "rate"); a rated conversation is not asked again (store "rated").
  var rtRef = 0, rtPending = {};
  function ratedMap() { var r = store.json("rated"); return r && typeof r === "object" ? r : {}; }
  function askRating(cid) {
    if (!conv(cid).took || ratedMap()[cid]) return;
    store.set("rate", String(cid));
    var e = el("div", "msg sys");
    e._t = new Date();
    e._who = "system";
    e._k = [cid, S.top(cid) + 0.6];
    e.setAttribute("data-rate", String(cid));
    var scale = ctx.cfg().widget.rating === "thumbs" ? "thumbs" : "stars";
    var p = { cid: cid, value: 0, box: el("div", "ask rt", { "data-testid": "widget-rating", "data-scale": scale }),
      f: el("form", "", { novalidate: "" }), opts: el("div", "opts" + (scale === "thumbs" ? " th" : ""), { role: "group" }),
      cm: field("textarea", { rows: "2", maxlength: "2000", "data-testid": "widget-rating-comment" }),
      er: el("div", "ferr", { role: "alert" }),
      btn: el("button", "btn", { type: "submit", "data-testid": "widget-rating-submit" }) };
    var q = el("p", "q");
    q.textContent = t("rateAsk");
    p.opts.setAttribute("aria-label", t("rateAsk"));
    Proto.ratingOptions(scale).forEach(function (v) {
      var b = el("button", "opt" + (scale === "thumbs" && v === 1 ? " dn" : ""), { type: "button",
        "data-testid": "widget-rating-option", "data-value": String(v), "aria-pressed": "false",
        "aria-label": scale === "thumbs" ? t(v === 5 ? "rateUp" : "rateDown") : fmt("rateStar", { n: v }) });
      if (scale === "thumbs") b.appendChild(icon("thumb")); else b.textContent = "\u2605";
      b.addEventListener("click", function () { p.value = v; formError(p.er, ""); paintOptions(p); });
      p.opts.appendChild(b);
    });
    p.cm.lbl.textContent = t("rateComment");
    p.btn.textContent = t("rateSend");
    p.er.hidden = true;
    [q, p.opts, p.cm.wrap, p.er, p.btn].forEach(function (n) { p.f.appendChild(n); });
    p.f.addEventListener("submit", function (ev) { ev.preventDefault(); ratingSubmit(p); });
    p.box.appendChild(p.f);
    var row = el("div", "row");
    row.appendChild(p.box);
    e.appendChild(row);
    if (ctx.cfg().widget.transcript !== false) e.appendChild(transcriptBox(cid));
    place(e);
    afterInsert(false);
  }
  function paintOptions(p) {
    Array.prototype.forEach.call(p.opts.children, function (b) {
      var v = +b.getAttribute("data-value"), on = p.box.getAttribute("data-scale") === "thumbs" ? v === p.value : v <= p.value;
      b.classList.toggle("on", on);
      b.setAttribute("aria-pressed", String(v === p.value));
    });
  }
  function ratingSubmit(p) {
    if (p.ref) return;
    if (!p.value) { formError(p.er, t("rateNeed")); return; }
    var frame = Proto.ratingFrame(p.cid, p.value, p.cm.inp.value, "r" + ++rtRef);
    if (!ready || !send(frame)) { formError(p.er, t("net")); return; }
    p.ref = frame.ref;
    rtPending[p.ref] = p;
    p.btn.disabled = true;
    p.btn.textContent = t("fBusy");
    p.timer = setTimeout(function () { ratingIdle(p); formError(p.er, t("ctNoAnswer")); }, 15000);
  }
  function ratingIdle(p) {
    clearTimeout(p.timer);
    delete rtPending[p.ref];
    p.ref = null;
    p.btn.disabled = false;
    p.btn.textContent = t("rateSend");
  }
  function onRatingSaved(f) {
    var p = rtPending[f.ref];
    var r = ratedMap(), keys = Object.keys(r);
    r[f.conversation_id] = (f.rating && f.rating.value) || 1;
    keys.slice(0, Math.max(0, keys.length - 20)).forEach(function (k) { delete r[k]; });
    store.set("rated", JSON.stringify(r));
    if (+store.get("rate") === f.conversation_id) store.set("rate", null);
    if (!p) return;
    ratingIdle(p);
    p.box.textContent = "";
    var ok = el("div", "ok", { "data-testid": "widget-rating-thanks", role: "status" }), s = el("span");
    s.textContent = t("rateThanks");
    ok.appendChild(icon("ok"));
    ok.appendChild(s);
    p.box.appendChild(ok);
  }
  function ratingError(f) {
    var p = rtPending[f.ref];
    ratingIdle(p);
    formError(p.er, t(f.code === "rate_limited" ? "rate" : f.code === "text_too_long" ? "rateLong" : "srvErr"));
  }

  // --- the transcript by e-mail, next to the rating (POST /widget/conversations/{id}/transcript) ---
  function transcriptBox(cid) {
    var box = el("div", "ask tr"), f = el("form", "", { novalidate: "" }), er = el("div", "ferr", { role: "alert" }),
      open = el("button", "lnk", { type: "button", "data-testid": "widget-transcript" }),
      em = field("input", { type: "email", autocomplete: "email", maxlength: "320", "data-testid": "widget-transcript-email" }),
      btn = el("button", "btn", { type: "submit", "data-testid": "widget-transcript-submit" });
    open.textContent = t("trOpen");
    em.lbl.textContent = t("trEmail");
    em.inp.value = contact().email || "";
    btn.textContent = t("trSend");
    er.hidden = f.hidden = true;
    [em.wrap, er, btn].forEach(function (n) { f.appendChild(n); });
    open.addEventListener("click", function () { open.hidden = true; f.hidden = false; em.inp.focus(); });
    f.addEventListener("submit", function (ev) {
      ev.preventDefault();
      if (btn.disabled) return;
      var v = em.inp.value.trim();
      if (!/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(v)) { fieldError(em, t("badEmail")); em.inp.focus(); return; }
      btn.disabled = true;
      formError(er, "");
      fetch(ctx.base + "/api/v1/widget/conversations/" + cid + "/transcript?site=" + encodeURIComponent(ctx.site), {
        method: "POST", credentials: "omit", cache: "no-store", body: JSON.stringify({ email: v }),
        headers: { "Content-Type": "application/json", Authorization: "Bearer " + token }
      }).then(function (r) {
        return r.json().then(function (b) { return [r.status, b]; }, function () { return [r.status, {}]; });
      }).then(function (res) {
        btn.disabled = false;
        if (res[0] === 200) {
          var ok = el("div", "ok", { "data-testid": "widget-transcript-sent", role: "status" }), sp = el("span");
          sp.textContent = fmt("trSent", { e: res[1].email.to });
          ok.appendChild(icon("ok"));
          ok.appendChild(sp);
          box.textContent = "";
          box.appendChild(ok);
          return;
        }
        var code = (res[1].error || {}).code;
        if (code === "invalid_email") return fieldError(em, t("badEmail"));
        formError(er, t({ rate_limited: "trRate", forbidden: "trOff", no_email: "needEmail" }[code] || "srvErr"));
      }).catch(function () { btn.disabled = false; formError(er, t("net")); });
    });
    box.appendChild(open);
    box.appendChild(f);
    return box;
  }

  // --- unread badge and sound -----------------------------------------------------------------
  function visible() { return isOpen && D.visibilityState !== "hidden"; }
  function newestIncoming() {
    var n = list.lastElementChild;
    while (n && !(n._m && n._m.kind !== "visitor")) n = n.previousElementSibling;
    return n ? n._k : null;
  }
  function updateUnread() {
    if (visible()) markRead();
    var count = 0;
    for (var k in S.held) {
      var e = S.held[k];
      if (e._m.kind !== "visitor" && (!readKey || cmp(e._k, readKey) > 0)) count++;
    }
    ctx.setUnread(count);
  }
  function markRead() {
    var k = newestIncoming(), all = list.lastElementChild;
    if (k && (!readKey || cmp(k, readKey) > 0)) {
      readKey = k;
      store.set("read", keyStr(k));
      ctx.setUnread(0);
    }
    // tell the server what the visitor has seen (the last stored message on screen)
    var last = all;
    while (last && !(last._m)) last = last.previousElementSibling;
    if (last && ready && last._m.conversation_id === current) {
      var seen = last._m.seq;
      if (seen !== markRead.sent) { markRead.sent = seen; send({ type: "read", conversation_id: current, seq: seen }); }
    }
  }

  var audio = null, beepAt = 0;
  function unlockAudio() { // autoplay rules: the context is created/resumed inside a user gesture
    try {
      var A = W.AudioContext || W.webkitAudioContext;
      if (!audio && A) audio = new A();
      if (audio && audio.state === "suspended") audio.resume();
    } catch (e) { audio = null; }
  }
  ["pointerdown", "keydown", "touchend"].forEach(function (ev) { W.addEventListener(ev, unlockAudio, { capture: true, passive: true }); });
  function maybeBeep(k) {
    var shared = parseKey(store.get("notified"));
    if (shared && (!notifiedKey || cmp(shared, notifiedKey) > 0)) notifiedKey = shared;
    if (notifiedKey && cmp(k, notifiedKey) <= 0) return;
    if (readKey && cmp(k, readKey) <= 0) return;
    notifiedKey = k;
    store.set("notified", keyStr(k)); // one tab beeps, the others see it is done
    var now = Date.now();
    if (!audio || audio.state !== "running" || now - beepAt < 1000) return;
    beepAt = now;
    try {
      var o = audio.createOscillator(), g = audio.createGain(), at = audio.currentTime;
      o.type = "sine";
      o.frequency.setValueAtTime(880, at);
      o.frequency.setValueAtTime(660, at + 0.09);
      g.gain.setValueAtTime(0.0001, at);
      g.gain.exponentialRampToValueAtTime(0.12, at + 0.02);
      g.gain.exponentialRampToValueAtTime(0.0001, at + 0.25);
      o.connect(g);
      g.connect(audio.destination);
      o.start(at);
      o.stop(at + 0.26);
    } catch (e) { /* no sound is fine */ }
  }

  // --- cache: the conversation as this tab last saw it, for an instant next page --------------
  function saveCacheSoon() { clearTimeout(cacheTimer); cacheTimer = setTimeout(saveCache, 250); }
  function saveCache() {
    clearTimeout(cacheTimer);
    var msgs = [];
    for (var n = list.firstElementChild; n; n = n.nextElementSibling) if (n._m) msgs.push(n._m);
    msgs = msgs.slice(-CACHE_MAX);
    var keep = {};
    msgs.forEach(function (m) { keep[m.conversation_id] = convs[m.conversation_id]; });
    if (current) keep[current] = convs[current];
    var data = { v: 1, current: current, convs: keep, msgs: msgs };
    if (!store.set("cache", JSON.stringify(data))) {
      store.set("cache", JSON.stringify({ v: 1, current: current, convs: keep, msgs: msgs.slice(-20) }));
    }
  }
  function loadCache() {
    var data = store.json("cache");
    if (!data || data.v !== 1 || !data.convs) return;
    S.load(data.convs);
    (data.msgs || []).forEach(function (m) { if (convs[m && m.conversation_id]) addMessage(m, "cache"); });
    current = data.current && convs[data.current] && convs[data.current].status === "open" ? data.current : null;
    if (current) operator = convs[current].op;
    for (var cid in convs) if (convs[cid].status === "closed") addNotice(+cid, t("closed"));
    var asked = +store.get("rate");
    if (asked && convs[asked] && convs[asked].status === "closed") askRating(asked);
  }
  function forgetVisitor() { // a new identity: nothing of the old one may stay
    token = null;
    store.set("token", null);
    store.set("cache", null);
    store.set("active", null);
    store.set("read", null);
    store.set("notified", null);
    store.set("contact", null);
    store.set("rate", null);
    store.set("rated", null);
    readKey = notifiedKey = null;
    for (var cid in convs) dropConversation(+cid);
    for (var id in convs) delete convs[id];
    current = null;
    paneMode = null;
    setOperator(null);
    paintPane();
  }
  function setActive(on) {
    store.set("active", on && current ? String(current) : null);
    endBtn.hidden = !current;
    paintPane();
  }

  // --- the socket -----------------------------------------------------------------------------
  function send(frame) {
    if (!ws || ws.readyState !== 1) return false;
    try { ws.send(JSON.stringify(frame)); return true; } catch (e) { return false; }
  }
  function socketUrl() {
    return ctx.base.replace(/^http/, "ws") + "/ws/visitor?site=" + encodeURIComponent(ctx.site);
  }
  // idRelease: while our tokenless hello is out, ctx.idWait holds track.js's report back;
  // idWait: 1 while we wait for track.js's first report, 2 after (we wait once)
  var idRelease = null, idWait = 0;
  var ID_WAIT = 8e3;
  function connect() {
    clearTimeout(retryTimer);
    retryTimer = 0;
    if (ws || stopped || idWait === 1) return;
    if (!token) token = store.get("token"); // track.js's first page-view report may have brought one
    // one visitor per browser: the first page-view report is getting this browser's token; wait for it
    // (at most ID_WAIT ms: a report that hangs must not keep the chat from connecting)
    if (!token && ctx.idWait && !idRelease && !idWait) {
      idWait = 1;
      var go = function () { if (idWait === 1) { idWait = 2; connect(); } };
      ctx.idWait.then(go);
      setTimeout(go, ID_WAIT);
      return;
    }
    if (!token && !idRelease) {
      var w = ctx.idWait = new Promise(function (r) { idRelease = function () { idRelease = null; if (ctx.idWait === w) ctx.idWait = null; r(); }; });
    }
    var sock, used = token;
    try { sock = new WebSocket(socketUrl()); } catch (e) { scheduleRetry(); return; }
    ws = sock;
    ready = false;
    sock.onopen = function () {
      if (sock !== ws) return;
      alive();
      var resume;
      resume = S.resume();
      send({
        type: "hello", visitor_token: used || null, resume: resume, lang: ctx.lang,
        page: { url: location.href, title: D.title, referrer: D.referrer }
      });
    };
    sock.onmessage = function (ev) {
      if (sock !== ws) return;
      alive();
      var f;
      try { f = JSON.parse(ev.data); } catch (e) { return; }
      if (f && typeof f.type === "string") onFrame(f);
    };
    sock.onclose = function (ev) { if (sock === ws) lost(ev.code, used); };
  }
  function drop() { // forget the socket now; its close event (maybe much later) is ignored
    if (idRelease) idRelease();
    var s = ws;
    ws = null;
    ready = ctx.live = false;
    clearTimeout(deadTimer);
    if (s) { s.onclose = s.onmessage = s.onopen = null; try { s.close(); } catch (e) { /* already gone */ } }
  }
  function alive() {
    clearTimeout(deadTimer);
    deadTimer = setTimeout(function () { drop(); lost(1006, token); }, Math.max(DEAD_AFTER, heartbeat * 2500));
  }
  function lost(code, usedToken) {
    if (idRelease) idRelease();
    ws = null;
    ready = false;
    flight.reset();
    ctx.live = false;
    clearTimeout(deadTimer);
    if (!bannerTimer && banner.hidden) bannerTimer = setTimeout(function () { showBanner(t("offline")); }, BANNER_GRACE);
    if (code === 4430) return showBanned(); // banned (docs/protocol.md § Close codes): no reconnect
    var act = Proto.closeAction(code);
    if (act.stop) { stopped = true; showBanner(t("forbidden")); return; }
    if (act.reidentify) {
      var stored = store.get("token");
      if (stored && stored !== usedToken) { token = stored; return scheduleRetry(0); } // another tab already re-identified
      if (usedToken) { forgetVisitor(); return scheduleRetry(0); }
    }
    scheduleRetry(act.delay == null ? null : act.delay);
  }
  function scheduleRetry(delay) {
    if (stopped || retryTimer) return;
    if (delay == null) delay = backoff.next(document.visibilityState !== "hidden"); // a page in view: shorter cap
    retryTimer = setTimeout(connect, delay);
  }
  // A ban covers this visitor or its address: one neutral message, nothing reconnects or sends.
  // A fresh page asks the server again (a lifted ban serves the visitor at once).
  function showBanned() {
    stopped = true;
    clearTimeout(retryTimer);
    clearTimeout(bannerTimer);
    bannerTimer = 0;
    drop();
    bannedH.textContent = t("banned");
    bannedP.textContent = t("bannedMore");
    win.classList.add("ban");
  }
  function showBanner(text) { banner.textContent = text; banner.hidden = false; }
  function hideBanner() { clearTimeout(bannerTimer); bannerTimer = 0; if (!stopped) banner.hidden = true; }

  function onFrame(f) {
    switch (f.type) {
      case "welcome": return onWelcome(f);
      case "message.created": return addMessage(f.message, "live");
      case "message.ack": return onAck(f);
      case "conversation.created":
        if (f.conversation && f.conversation.id) {
          if (ctx.invite) ctx.invite.used = true; // answered: the next conversation is the visitor's own
          conv(f.conversation.id).status = "open";
          current = f.conversation.id;
          setOperator(f.conversation.operator);
          setActive(true);
          renderDeps();
        }
        return;
      case "conversation.assigned":
        if (f.conversation_id === current) { setOperator(f.operator); showQueue(0); }
        return;
      case "queue.position":
        if (!current || f.conversation_id === current) showQueue(+f.position || 0);
        return;
      case "department.chosen": return;
      case "conversation.closed":
        conv(f.conversation_id).status = "closed";
        if (f.conversation_id === current) {
          current = null; setOperator(null); setActive(false); typing.hidden = true;
          showQueue(0); chosenDep = null; depSent = false; renderDeps();
        }
        addNotice(f.conversation_id, t("closed"));
        askRating(f.conversation_id);
        return;
      case "conversation.reopened":
        conv(f.conversation_id).status = "open";
        current = f.conversation_id;
        dropNotices(f.conversation_id);
        setOperator(conv(current).op);
        setActive(true);
        return;
      case "operator.typing": return showTyping(f);
      case "availability": return setOnline(ctx.available(f), f);
      case "contacts.saved": return onContactsSaved(f);
      case "rating.saved": return onRatingSaved(f);
      case "sync.result": return onSync(f);
      case "reset":
        dropConversation(f.conversation_id);
        return send({ type: "sync", conversation_id: f.conversation_id, after_seq: 0, ref: "s" + ++syncRef });
      case "ping": return send({ type: "pong" });
      case "error": return onError(f);
    }
  }

  function onWelcome(f) {
    ready = true;
    ctx.live = true;
    backoff.reset();
    hideBanner();
    heartbeat = +f.heartbeat || 20;
    alive();
    if (f.visitor_token && f.visitor_token !== token) {
      token = f.visitor_token;
      store.set("token", token);
    }
    if (idRelease) idRelease(); // track.js reports with our token now
    setOnline(ctx.available(f), f);
    var c = f.conversation;
    // what the server already knows of this visitor (another device, a cleared cache):
    // do not ask again for contacts it has
    var v = f.visitor;
    if (v && (v.name || v.email || v.phone)) saveContact(v, c && c.is_offline && (v.email || v.phone) ? c.id : 0);
    for (var id in convs) { // closed while this visitor was away
      if (convs[id].status === "open" && (!c || c.id !== +id)) {
        convs[id].status = "closed";
        addNotice(+id, t("closed"));
        askRating(+id);
      }
    }
    if (c && c.id) {
      conv(c.id).status = "open";
      current = c.id;
      dropNotices(c.id);
      setOperator(c.operator);
    } else {
      current = null;
      setOperator(null);
    }
    setActive(!!current);
    depSent = false;
    showQueue(0); // a waiting conversation gets its place again right after welcome
    renderDeps();
    pump(true);
    if (input.value.trim()) { typingState.forget(); typingChanged(); } // the operator sees the draft again
    markRead.sent = 0;
    if (visible()) markRead();
  }

  function onAck(f) {
    var id = f.client_id;
    flight.settle(id);
    outboxRemove(id);
    addMessage(f.message, "ack");
    pump(false);
  }

  function onSync(f) {
    var msgs = Array.isArray(f.messages) ? f.messages : [];
    msgs.forEach(function (m) { addMessage(m, "live"); });
    if (f.has_more && msgs.length) {
      send({ type: "sync", conversation_id: f.conversation_id, after_seq: msgs[msgs.length - 1].seq, ref: "s" + ++syncRef });
    }
  }

  function onError(f) {
    if (f.code === "banned") return showBanned();
    if (f.ref && ctPending[f.ref]) return contactsError(f);
    if (f.ref && rtPending[f.ref]) return ratingError(f);
    var e = f.ref && pendingEls[f.ref];
    if (e) {
      flight.settle(f.ref);
      if (Proto.sendErrorAction(f.code) === "drop") {
        outboxRemove(f.ref); // it can never be stored: say so, keep the text on screen
        delete pendingEls[f.ref];
        setState(e, "failed", t(f.code === "text_too_long" ? "tooLong" : f.code === "empty_text" ? "empty" : "failed"));
        e._k = [Infinity, Infinity];
        return;
      }
      // internal / rate_limited: the server asks for a retry with the same client_id
      setTimeout(function () { pump(false); }, Proto.RETRY_AFTER);
    } else if (f.code === "not_found" && !f.ref) {
      // a conversation the cache claimed is not this visitor's (another identity): forget
      // every one the server did not confirm as the open conversation
      for (var id in convs) if (+id !== current) { dropConversation(+id); delete convs[id]; }
      saveCacheSoon();
    }
  }

  // Send what the outbox holds, oldest first, a bounded number in flight. After a
  // reconnect (all = true) every unacked message goes again, with the same client_id.
  function pump(all) {
    if (!ready) return;
    sendDep(); // the department goes before the first message
    // another tab's messages (foreign): it sends them itself, except after a reconnect
    var own = function (id) { return !!pendingEls[id] && !pendingEls[id]._foreign; };
    flight.pick(readOutbox(), all, own).some(function (it) {
      var f = { type: "message.send", client_id: it.id, text: it.text }, inv = ctx.invite;
      if (inv && !current && !inv.used) f.invite = inv.manual_id ? { manual_id: inv.manual_id } : { rule_id: inv.rule_id };
      if (!send(f)) return true;
      flight.mark(it.id);
    });
  }

  // --- composing ------------------------------------------------------------------------------
  function submit() {
    var text = input.value.replace(/^\s+|\s+$/g, "");
    if (!text) return;
    if (Proto.measure(text, maxChars).over) { updateCounter(true); return; } // refused, said so; the text stays
    var item = outbox.add(text, Date.now(), newClientId());
    input.value = "";
    saveDraft();
    autosize();
    addPending(item);
    pump(false);
    typingChanged();
    sendBtn.disabled = true;
    scrollDown();
  }
  function typingChanged() { // at most one frame per Proto.TYPING_EVERY; the last value always goes
    if (typingTimer) return;
    typingTimer = setTimeout(function () {
      typingTimer = 0;
      if (!ready) return;
      typingState.max = maxChars;
      var v = typingState.take(input.value, Date.now());
      if (v !== null) send({ type: "typing", text: v });
    }, typingState.wait(Date.now()));
  }
  function autosize() {
    updateCounter();
    if (win.hidden) return; // nothing to measure while hidden; open() measures again
    input.style.height = "auto";
    var h = input.scrollHeight; // padding included: one line = 40 px, five lines = 120 px
    input.style.height = h ? Math.min(Math.max(h, 40), 120) + "px" : "";
  }
  // Counted as the server counts (code points). Near the limit: "3 950 / 4 000"; over it: red,
  // the send button off and a message saying why (also when Enter is pressed), nothing cut.
  function updateCounter(tried) {
    var text = input.value.replace(/^\s+|\s+$/g, ""), m = Proto.measure(text, maxChars);
    counter.hidden = !m.show;
    counter.classList.toggle("over", m.over);
    counter.textContent = m.n.toLocaleString(ctx.lang) + " / " + maxChars.toLocaleString(ctx.lang);
    counter.setAttribute("aria-label", fmt("count", { n: m.n, m: maxChars }));
    sendBtn.disabled = !text || m.over;
    var say = m.over ? fmt("overLimit", { n: m.n.toLocaleString(ctx.lang), m: maxChars.toLocaleString(ctx.lang) }) : "";
    if (limitErr.textContent !== say) limitErr.textContent = say;
    limitErr.hidden = !say;
    if (tried && m.over) input.focus();
  }
  input.addEventListener("input", function () { autosize(); typingChanged(); saveDraft(); });
  function saveDraft() { store.set("draft", input.value || null, true); } // survives the next page of this tab
  input.addEventListener("keydown", function (e) {
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing && e.keyCode !== 229) {
      e.preventDefault();
      submit();
    }
  });
  form.addEventListener("submit", function (e) { e.preventDefault(); submit(); input.focus(); });
  hideBtn.addEventListener("click", function () { close(true); });
  endBtn.addEventListener("click", function () { // the visitor ends the chat: closed for everyone, then the rating
    if (current && ready) send({ type: "conversation.end", conversation_id: current });
  });
  win.addEventListener("keydown", function (e) { if (e.key === "Escape") { e.stopPropagation(); close(true); } });
  newer.addEventListener("click", scrollDown);
  list.addEventListener("scroll", function () {
    atBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 40;
    if (atBottom) newer.hidden = true;
  }, { passive: true });

  // --- open / close -------------------------------------------------------------------------
  var vv = W.visualViewport, phone = W.matchMedia("(max-width: 479px)");
  function fitViewport() { // phones: keep the input above the on-screen keyboard
    if (isOpen && vv && phone.matches) {
      win.style.top = vv.offsetTop + "px";
      win.style.height = vv.height + "px";
      win.style.bottom = "auto";
      if (atBottom) scrollDown();
    } else {
      win.style.top = win.style.height = win.style.bottom = "";
    }
  }
  if (vv) { vv.addEventListener("resize", fitViewport); vv.addEventListener("scroll", fitViewport); }
  if (phone.addEventListener) phone.addEventListener("change", function () { fitViewport(); labels(); });
  function labels() {
    hideBtn.setAttribute("aria-label", phone.matches ? t("close") : t("minimise"));
    endBtn.setAttribute("aria-label", t("endChat"));
    endBtn.title = t("endChat");
  }

  function open() {
    if (isOpen) return;
    isOpen = true;
    win.hidden = false;
    ctx.setOpen(true);
    autosize();
    fitViewport();
    scrollDown();
    markRead();
    connect();
    if (shown === "form") focusForm();
    else if (!W.matchMedia("(pointer: coarse)").matches) input.focus({ preventScroll: true });
  }
  function close(byUser) {
    if (!isOpen) return;
    var hadFocus = root.activeElement && win.contains(root.activeElement);
    isOpen = false;
    win.hidden = true;
    ctx.setOpen(false);
    fitViewport();
    updateUnread();
    if (byUser && hadFocus) root.querySelector(".fl").focus();
  }
  function configure() {
    var tx = ctx.texts();
    input.setAttribute("placeholder", tx.placeholder || "");
    input.setAttribute("aria-label", t("input"));
    maxChars = ctx.cfg().max_message_chars || maxChars; // no maxlength: the browser would cut silently, in UTF-16 units
    if ("next_open_at" in ctx.cfg()) nextOpen = ctx.cfg().next_open_at;
    sendBtn.setAttribute("aria-label", t("send"));
    list.setAttribute("aria-label", t("log"));
    newer.textContent = t("newer") + " ↓";
    greeting.textContent = "";
    greeting._t = null;
    var inv = !current && ctx.invite; // an invitation (invite.js) replaces the greeting until a conversation starts
    if (inv || siteText("greeting")) {
      var row = el("div", "row"), ava = el("span", "ava", { "aria-hidden": "true" }), b = el("div", "bub", { dir: "auto" });
      fillAvatar(ava, inv ? inv.sender || null : null);
      b.textContent = inv ? inv.text : siteText("greeting");
      row.appendChild(ava);
      row.appendChild(b);
      greeting.appendChild(row);
      if (!greeting.parentNode) list.insertBefore(greeting, list.firstChild);
    } else if (greeting.parentNode) {
      greeting.remove();
    }
    offLead.textContent = siteText("offline_text");
    offLead.hidden = !offLead.textContent;
    offName.lbl.textContent = t("fName");
    offEmail.lbl.textContent = t("fEmail");
    offEmail.inp.setAttribute("placeholder", "name@example.com");
    offMsg.lbl.textContent = t("fMsg");
    offSend.textContent = t(offBusy ? "fBusy" : "fSend");
    offBack.textContent = thanksBack.textContent = t("back");
    thanksH.textContent = t("thanks");
    noticeBtn.textContent = t("awayBtn");
    offForm.setAttribute("aria-label", tx.offline_title || t("fMsg"));
    labels();
    setOnline(ctx.available(ctx.cfg()));
    renderDeps();
  }

  // --- departments and the queue (docs/protocol.md § Departments and routing) -------------------
  var chosenDep = null, depSent = false;
  function renderDeps() {
    var deps = Array.isArray(ctx.cfg().departments) ? ctx.cfg().departments : [];
    depAsk.textContent = t("depAsk");
    depBox.setAttribute("aria-label", t("depAsk"));
    depList.textContent = "";
    deps.forEach(function (d) {
      var b = el("button", "dep", { type: "button", "data-testid": "widget-department",
        "data-department-id": String(d.id), "aria-pressed": String(chosenDep === d.id) });
      b.textContent = String(d.name);
      b.addEventListener("click", function () { chosenDep = d.id; depSent = false; renderDeps(); sendDep(); input.focus(); });
      depList.appendChild(b);
    });
    depBox.hidden = !deps.length || !!current;
  }
  function sendDep() {
    if (chosenDep && !depSent && !current && ready) {
      depSent = send({ type: "department.choose", department_id: chosenDep, ref: "d" + chosenDep });
    }
  }
  function showQueue(pos) {
    queueEl.textContent = pos > 0 ? fmt("queue", { n: pos }) : "";
    queueEl.hidden = !(pos > 0);
  }

  // Tabs of one visitor: the outbox and the read mark are shared through storage events.
  W.addEventListener("storage", function (e) {
    if (e.storageArea !== W.localStorage || !e.key || e.key.indexOf(store.prefix) !== 0) return;
    var k = e.key.slice(store.prefix.length);
    if (k === "outbox") {
      var ids = {};
      readOutbox().forEach(function (it) { ids[it.id] = 1; addPending(it, true); });
      for (var id in pendingEls) {
        // stored by another tab: its message.created reaches this tab too and replaces it
        if (!ids[id] && pendingEls[id].getAttribute("data-state") === "sending") setState(pendingEls[id], "sending", "");
      }
    } else if (k === "read") {
      readKey = parseKey(e.newValue);
      updateUnread();
    } else if (k === "token" && e.newValue && e.newValue !== token && !current) {
      token = e.newValue; // another tab identified first and we hold nothing: be the same visitor
      drop();
      connect();
    }
  });
  D.addEventListener("visibilitychange", function () {
    if (D.visibilityState === "visible") {
      if (isOpen) markRead();
      if (!ws && !stopped) { clearTimeout(retryTimer); retryTimer = 0; connect(); }
    }
  });
  W.addEventListener("online", function () { if (!ws) { clearTimeout(retryTimer); retryTimer = 0; connect(); } });
  // Leaving the page: keep the state for the next page, close the socket (the server
  // sees the visitor go at once, and the page stays eligible for the back-forward cache).
  W.addEventListener("pagehide", function () { saveCache(); drop(); clearTimeout(retryTimer); retryTimer = 0; });
  W.addEventListener("pageshow", function (e) { if (e.persisted && !ws) connect(); });
  function pageWatch() { // single-page sites: tell the operator where the visitor is
    if (location.href !== lastHref) {
      lastHref = location.href;
      if (ready) send({ type: "page", url: lastHref, title: D.title });
    }
  }
  W.addEventListener("popstate", pageWatch);
  W.addEventListener("hashchange", pageWatch);
  setInterval(pageWatch, 2000);

  // --- start ----------------------------------------------------------------------------------
  var draft = offDraft();
  offName.inp.value = draft.n || "";
  offEmail.inp.value = draft.e || "";
  offMsg.inp.value = draft.m || "";
  configure();
  input.value = store.get("draft", true) || "";
  loadCache();
  readOutbox().forEach(function (it) { addPending(it); }); // left unsent by an earlier page
  paintHeader();
  paintPane();
  autosize();
  updateUnread();
  if (!store.get("cache")) bannerTimer = setTimeout(function () { if (!ready) showBanner(t("connecting")); }, BANNER_GRACE);
  ctx.chat = {
    open: open,
    close: function () { close(false); },
    toggle: function () { if (isOpen) close(true); else open(); },
    configure: function () { configure(); paintHeader(); }
  };
  connect();
  if (ctx.wantOpen) open();
})();
