/* frontdesk chat window, part 2 of 3: the visitor socket's protocol state (docs/protocol.md),
 * with no DOM and no timers of its own, so that tests/js/widget_protocol.test.mjs can drive it
 * with node. chat.js (part 3) renders what this state decides.
 *
 *  - the outbox: every send has a stable client_id and sits in persisted storage until its
 *    ack; after any reconnect every unacked message goes again (the server dedupes);
 *  - in flight: at most IN_FLIGHT unacked sends per socket;
 *  - messages are held by (conversation, seq): a seq already held is a duplicate, a message
 *    is placed after every message with a smaller key, whatever order they came in;
 *  - the resume point of a conversation is the highest seq received in message.created /
 *    sync.result / replay (how = "live"), never from an ack or the page cache;
 *  - reconnect: exponential backoff with jitter, bounded; what each close code means;
 *  - typing: at most one frame per TYPING_EVERY ms, only when the text changed;
 *  - length is counted in Unicode code points, as the server counts (Python len()). */
var Proto = (function () {
  var BACKOFF_BASE = 300, BACKOFF_CAP = 10000; // ms: first retry fast, never wait more than 10 s
  var BACKOFF_VISIBLE_CAP = 5000;              // ms: a page in view waits at most 5 s (see Backoff.next)
  var FLOOD_WAIT = 5000;                       // after close 4429 the protocol asks for ≥ 5 s
  var TYPING_EVERY = 300;                      // ms: at most one typing frame per 300 ms
  var IN_FLIGHT = 10;                          // unacked sends per socket; the server allows a burst of 40 frames
  var OUTBOX_MAX = 50;                         // unsent messages kept across reloads
  var RETRY_AFTER = 2000;                      // ms before a send the server refused as internal/rate_limited goes again

  // --- length: code points (a surrogate pair is one character; a combining mark is one more) --
  function chars(s) { return String(s).replace(/[\uD800-\uDBFF][\uDC00-\uDFFF]/g, " ").length; }
  function cutChars(s, max) { // the first max code points
    s = String(s);
    return chars(s) <= max ? s : Array.from(s).slice(0, max).join("");
  }

  // --- message keys: [conversation id, seq] -------------------------------------------------
  function parseKey(s) { var m = /^(\d+):(\d+)$/.exec(s || ""); return m ? [+m[1], +m[2]] : null; }
  function cmp(a, b) { return a[0] - b[0] || a[1] - b[1]; }
  function keyStr(k) { return k[0] + ":" + k[1]; }
  /** Where a key goes in a list of keys (null = an entry without one, it stays where it is):
   * after every entry with a key ≤ k, counted from the end. */
  function insertIndex(keys, k) {
    var i = keys.length - 1;
    while (i >= 0 && (!keys[i] || cmp(keys[i], k) > 0)) i--;
    return i + 1;
  }

  // --- conversations, held messages, the resume point ---------------------------------------
  function State() {
    this.convs = {};   // id → {status: "open"|"closed", cursor: resume point, op: operator|null, took: an operator ever answered}
    this.held = {};    // "cid:seq" → what the view holds for it (an element; opaque here)
    this.current = null;
  }
  State.prototype.conv = function (id) {
    return this.convs[id] || (this.convs[id] = { status: "open", cursor: 0, op: null, took: false });
  };
  /** A stored message arrives. how: "live" (message.created, replay, sync.result) | "ack" | "cache".
   * Returns null (not a message for the visitor), "duplicate" (seq already held) or "new". */
  State.prototype.receive = function (m, how) {
    if (!m || typeof m.seq !== "number" || m.seq < 1 || typeof m.conversation_id !== "number" || m.kind === "note") return null;
    var c = this.conv(m.conversation_id);
    if (how === "live" && m.seq > c.cursor) c.cursor = m.seq;
    if (m.kind === "operator") c.took = true;
    return this.held[keyStr([m.conversation_id, m.seq])] ? "duplicate" : "new";
  };
  State.prototype.hold = function (m, value) { this.held[keyStr([m.conversation_id, m.seq])] = value; };
  State.prototype.heldAt = function (m) { return this.held[keyStr([m.conversation_id, m.seq])]; };
  /** Forget a conversation's messages (reset, foreign id); returns what the view held for them. */
  State.prototype.dropMessages = function (cid) {
    var out = [];
    for (var k in this.held) if (+k.split(":")[0] === cid) { out.push(this.held[k]); delete this.held[k]; }
    this.conv(cid).cursor = 0;
    return out;
  };
  /** The highest seq held in a conversation (to place a notice after it). */
  State.prototype.top = function (cid) {
    var top = this.conv(cid).cursor;
    for (var k in this.held) { var p = k.split(":"); if (+p[0] === cid && +p[1] > top) top = +p[1]; }
    return top;
  };
  /** hello.resume: conversation id → last seq received live. */
  State.prototype.resume = function () {
    var out = {};
    for (var id in this.convs) out[id] = this.convs[id].cursor;
    return out;
  };
  State.prototype.setOperator = function (cid, op) {
    var c = this.conv(cid);
    c.op = op && op.name ? op : null;
    if (c.op) c.took = true;
    return c.op;
  };
  /** For the cache: what to keep of the conversations, and how to read it back. */
  State.prototype.load = function (saved) {
    for (var id in saved) {
      var c = saved[id];
      if (c && typeof c.cursor === "number") {
        this.convs[+id] = { status: c.status === "closed" ? "closed" : "open", cursor: c.cursor, op: c.op || null,
          took: !!(c.took || c.op) };
      }
    }
  };

  // --- the outbox: shared by the visitor's tabs through storage ------------------------------
  function Outbox(store, max) { this.store = store; this.max = max || OUTBOX_MAX; }
  Outbox.prototype.items = function () { var o = this.store.json("outbox"); return Array.isArray(o) ? o : []; };
  Outbox.prototype.write = function (items) {
    this.store.set("outbox", items.length ? JSON.stringify(items.slice(-this.max)) : null);
  };
  Outbox.prototype.add = function (text, now, id) {
    var item = { id: id, text: text, t: now };
    var items = this.items();
    items.push(item);
    this.write(items);
    return item;
  };
  Outbox.prototype.remove = function (id) {
    var items = this.items(), left = items.filter(function (i) { return i.id !== id; });
    if (left.length !== items.length) this.write(left);
  };
  function newClientId(now, bytes) { // bytes: 12 random bytes
    return "v-" + now.toString(36) + "-" + Array.prototype.map.call(bytes, function (b) { return (b % 36).toString(36); }).join("");
  }

  // --- sends on the current socket ------------------------------------------------------------
  function Flight(limit) { this.limit = limit || IN_FLIGHT; this.reset(); }
  Flight.prototype.reset = function () { this.sent = {}; this.count = 0; }; // a new socket: nothing is in flight
  Flight.prototype.mark = function (id) { if (!this.sent[id]) { this.sent[id] = true; this.count++; } };
  Flight.prototype.settle = function (id) { // ack or error for it: it is no longer in flight
    if (!this.sent[id]) return false;
    delete this.sent[id];
    this.count--;
    return true;
  };
  /** What to send now, oldest first, within the limit. all = after a (re)connect every unacked
   * message goes, the ones other tabs typed too; else only this tab's own (own(id) true). */
  Flight.prototype.pick = function (items, all, own) {
    var out = [], room = this.limit - this.count;
    for (var i = 0; i < items.length && out.length < room; i++) {
      var it = items[i];
      if (this.sent[it.id]) continue;
      if (!all && !own(it.id)) continue;
      out.push(it);
    }
    return out;
  };
  /** An error frame for one of our sends: "drop" (can never be stored: keep it on screen as not
   * sent) or "retry" (internal / rate_limited: the same client_id again after RETRY_AFTER). */
  function sendErrorAction(code) {
    return code === "text_too_long" || code === "empty_text" || code === "invalid_frame" ? "drop" : "retry";
  }

  // --- reconnecting ---------------------------------------------------------------------------
  function Backoff(base, cap, random) {
    this.base = base || BACKOFF_BASE;
    this.cap = cap || BACKOFF_CAP;
    this.random = random || Math.random;
    this.attempts = 0;
  }
  /** The next wait: a random point in the upper half of min(cap, base·2^attempts) — tabs and
   * visitors do not reconnect in step, and the wait never exceeds cap. A page in view
   * (``visible`` true) is capped lower, at min(cap, BACKOFF_VISIBLE_CAP), and once it reaches
   * that cap its wait is spread over 20–100 % of it instead of the upper half: after a server
   * restart of ≈ 10 s the visitors looking at the chat are back within ≈ 1–5 s of it (not 5–10 s),
   * their tries still spread over 4 s (no thundering herd); hidden tabs keep the 10 s cap. */
  Backoff.prototype.next = function (visible) {
    var cap = visible ? Math.min(this.cap, BACKOFF_VISIBLE_CAP) : this.cap;
    var top = Math.min(cap, this.base * Math.pow(2, this.attempts++));
    var low = visible && top >= cap ? 0.2 : 0.5;
    return top * low + this.random() * top * (1 - low);
  };
  Backoff.prototype.reset = function () { this.attempts = 0; };
  /** What a close code asks for: {stop} 4403 (site refused), {reidentify} 4401 (token unknown),
   * {delay: 0} 4408 (idle close), {delay: FLOOD_WAIT} 4429, else {delay: null} = backoff. */
  function closeAction(code) {
    if (code === 4403) return { stop: true };
    if (code === 4401) return { reidentify: true };
    if (code === 4408) return { delay: 0 };
    if (code === 4429) return { delay: FLOOD_WAIT };
    return { delay: null };
  }

  // --- typing ---------------------------------------------------------------------------------
  function Typing(every, max) { this.every = every || TYPING_EVERY; this.max = max || 4000; this.last = ""; this.at = -Infinity; }
  Typing.prototype.wait = function (now) { return Math.max(0, this.at + this.every - now); };
  /** The frame's text for the current input, or null when nothing needs to go (unchanged). */
  Typing.prototype.take = function (value, now) {
    var v = cutChars(value, this.max);
    if (v.trim() === "") v = "";
    if (v === this.last) return null;
    this.last = v;
    this.at = now;
    return v;
  };
  Typing.prototype.forget = function () { this.last = null; }; // a new socket: the operator sees the draft again

  // --- the composer's limit -------------------------------------------------------------------
  /** {n, over, show}: the counter shows from 90 % of the limit (or 200 characters before it). */
  function measure(text, max) {
    var n = chars(text);
    return { n: n, over: n > max, show: n >= max - Math.min(200, Math.ceil(max / 10)) };
  }

  // --- when the shop opens next ---------------------------------------------------------------
  function pad(n) { return (n < 10 ? "0" : "") + n; }
  /** "Мы откроемся завтра в 09:00" in the visitor's local time, from next_open_at (ISO-8601);
   * "" when unknown, unparsable or not in the future. Weekday within 6 days, then the date. */
  function nextOpenText(iso, now, lang) {
    var L = MSG[lang] || MSG.en;
    if (typeof iso !== "string" || !iso) return "";
    var d = new Date(iso);
    if (isNaN(d.getTime()) || d.getTime() <= now.getTime()) return "";
    var day0 = new Date(now.getFullYear(), now.getMonth(), now.getDate());
    var day1 = new Date(d.getFullYear(), d.getMonth(), d.getDate());
    var days = Math.round((day1 - day0) / 864e5); // round: a DST day is 23 or 25 hours
    var time = pad(d.getHours()) + ":" + pad(d.getMinutes()), key, dayText = "";
    if (days === 0) key = "openToday";
    else if (days === 1) key = "openTomorrow";
    else if (days < 7) { key = "openWeekday"; dayText = L.weekdays[d.getDay()]; }
    else { key = "openDate"; dayText = d.getDate() + " " + L.months[d.getMonth()]; }
    return L[key].replace("%d", dayText).replace("%t", time);
  }

  // --- the rating after a closed conversation -------------------------------------------------
  /** The values the form offers, in order: stars 1..5; thumbs up (5) then down (1). */
  function ratingOptions(scale) { return scale === "thumbs" ? [5, 1] : [1, 2, 3, 4, 5]; }
  /** The conversation.rate frame; a blank comment is left out, a long one cut to 2,000 code points. */
  function ratingFrame(cid, value, comment, ref) {
    var f = { type: "conversation.rate", conversation_id: cid, value: value, ref: ref };
    var c = String(comment == null ? "" : comment).trim();
    if (c) f.comment = cutChars(c, 2000);
    return f;
  }

  // --- text shown to people ---------------------------------------------------------------------
  /** "e-mail" with a non-breaking hyphen, so it never breaks across lines (the site's own texts). */
  function keepWords(s) { return String(s).replace(/\b([eE])-(mail)/g, "$1\u2011$2"); }
  function fill(template, vars) {
    return template.replace(/%(\w)/g, function (m, n) { return n in vars ? vars[n] : m; });
  }

  return {
    BACKOFF_BASE: BACKOFF_BASE, BACKOFF_CAP: BACKOFF_CAP, BACKOFF_VISIBLE_CAP: BACKOFF_VISIBLE_CAP, FLOOD_WAIT: FLOOD_WAIT, TYPING_EVERY: TYPING_EVERY,
    IN_FLIGHT: IN_FLIGHT, OUTBOX_MAX: OUTBOX_MAX, RETRY_AFTER: RETRY_AFTER,
    chars: chars, cutChars: cutChars, measure: measure,
    parseKey: parseKey, cmp: cmp, keyStr: keyStr, insertIndex: insertIndex,
    State: State, Outbox: Outbox, newClientId: newClientId, Flight: Flight, sendErrorAction: sendErrorAction,
    Backoff: Backoff, closeAction: closeAction, Typing: Typing,
    nextOpenText: nextOpenText, keepWords: keepWords, fill: fill,
    ratingOptions: ratingOptions, ratingFrame: ratingFrame
  };
})();
