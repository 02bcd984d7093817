// The widget's protocol state (static/widget/protocol.js), without a browser: outbox and acks,
// order by seq with duplicates and gaps, the resume point, reconnect backoff, typing, counting.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadWidget, memoryStore } from './load.mjs';

const { Proto } = loadWidget();

function msg(cid, seq, extra = {}) {
  return { conversation_id: cid, seq, kind: 'operator', text: `m${seq}`, ...extra };
}

// --- the outbox and sends in flight -----------------------------------------------------------

test('outbox: persisted in order, removed by client_id, bounded', () => {
  const store = memoryStore();
  const box = new Proto.Outbox(store, 3);
  box.add('one', 1, 'c1');
  box.add('two', 2, 'c2');
  // another tab (or the next page) reads the same storage
  assert.deepEqual(new Proto.Outbox(store).items().map((i) => [i.id, i.text]), [['c1', 'one'], ['c2', 'two']]);
  box.remove('c1');
  assert.deepEqual(box.items().map((i) => i.id), ['c2']);
  box.remove('unknown');
  assert.deepEqual(box.items().map((i) => i.id), ['c2']);
  for (const id of ['c3', 'c4', 'c5']) box.add(id, 0, id);
  assert.deepEqual(box.items().map((i) => i.id), ['c3', 'c4', 'c5'], 'only the newest max are kept');
  for (const id of ['c3', 'c4', 'c5']) box.remove(id);
  assert.equal(store.get('outbox'), null, 'an empty outbox leaves nothing in storage');
});

test('outbox: a corrupt storage entry reads as empty', () => {
  const store = memoryStore();
  store.set('outbox', '{not json');
  assert.deepEqual(new Proto.Outbox(store).items(), []);
  store.set('outbox', '{"a": 1}');
  assert.deepEqual(new Proto.Outbox(store).items(), []);
});

test('client ids: prefixed, from the time and random bytes, distinct', () => {
  const a = Proto.newClientId(1700000000000, new Uint8Array(12).fill(7));
  const b = Proto.newClientId(1700000000000, new Uint8Array(12).fill(8));
  assert.match(a, /^v-[0-9a-z]+-[0-9a-z]{12}$/);
  assert.notEqual(a, b);
});

test('flight: at most the limit unacked, oldest first; an ack frees a place', () => {
  const f = new Proto.Flight(2);
  const items = ['a', 'b', 'c'].map((id) => ({ id, text: id }));
  const own = () => true;
  let batch = f.pick(items, false, own);
  assert.deepEqual(batch.map((i) => i.id), ['a', 'b']);
  batch.forEach((i) => f.mark(i.id));
  assert.deepEqual(f.pick(items, false, own), [], 'the limit is reached');
  assert.equal(f.settle('a'), true, 'an ack settles a send in flight');
  assert.equal(f.settle('a'), false, 'a second ack for it changes nothing');
  batch = f.pick(items.filter((i) => i.id !== 'a'), false, own);
  assert.deepEqual(batch.map((i) => i.id), ['c'], 'b is still in flight: not sent twice on one socket');
});

test('flight: after a reconnect every unacked message goes again with the same client_id', () => {
  const f = new Proto.Flight(10);
  const items = [{ id: 'mine' }, { id: 'other-tab' }];
  const own = (id) => id === 'mine';
  assert.deepEqual(f.pick(items, false, own).map((i) => i.id), ['mine'], "another tab's message is its own business");
  f.mark('mine');
  f.reset(); // the socket is gone: nothing is in flight any more
  assert.deepEqual(f.pick(items, true, own).map((i) => i.id), ['mine', 'other-tab'],
    'after (re)connect all of them, the same ids: the server stores each once');
});

test('errors for a send: what can never be stored is dropped, the rest retried', () => {
  assert.equal(Proto.sendErrorAction('text_too_long'), 'drop');
  assert.equal(Proto.sendErrorAction('empty_text'), 'drop');
  assert.equal(Proto.sendErrorAction('invalid_frame'), 'drop');
  assert.equal(Proto.sendErrorAction('internal'), 'retry');
  assert.equal(Proto.sendErrorAction('rate_limited'), 'retry');
  assert.ok(Proto.RETRY_AFTER >= 1000);
});

// --- order by seq, duplicates, gaps, resume point -----------------------------------------------

test('receive: a seq already held is a duplicate; notes and junk are ignored', () => {
  const s = new Proto.State();
  assert.equal(s.receive(msg(1, 1), 'live'), 'new');
  s.hold(msg(1, 1), 'el-1');
  assert.equal(s.receive(msg(1, 1), 'live'), 'duplicate', 'replay and live overlap');
  assert.equal(s.heldAt(msg(1, 1)), 'el-1');
  assert.equal(s.receive(msg(2, 1), 'live'), 'new', 'the same seq in another conversation is another message');
  assert.equal(s.receive(msg(1, 2, { kind: 'note' }), 'live'), null, 'operator notes never reach the visitor');
  assert.equal(s.receive({ conversation_id: 1, seq: '3' }, 'live'), null);
  assert.equal(s.receive({ conversation_id: 1, seq: 0 }, 'live'), null);
  assert.equal(s.receive(null, 'live'), null);
  assert.equal(s.conv(1).cursor, 1, 'a note does not move the resume point');
});

test('resume point: the highest seq received live, never from an ack or the cache', () => {
  const s = new Proto.State();
  s.receive(msg(7, 1), 'live');
  s.receive(msg(7, 2, { kind: 'visitor' }), 'ack');
  assert.equal(s.conv(7).cursor, 1, "an ack's seq is not a resume point");
  s.receive(msg(7, 4), 'cache');
  assert.equal(s.conv(7).cursor, 1, 'the page cache is not a resume point');
  s.receive(msg(7, 3), 'live');
  s.receive(msg(7, 2), 'live');
  assert.equal(s.conv(7).cursor, 3, 'an older message arriving late does not move it back');
  s.receive(msg(9, 5), 'live');
  assert.deepEqual(s.resume(), { 7: 3, 9: 5 });
});

test('resume point: reset forgets a conversation and starts again from 0', () => {
  const s = new Proto.State();
  for (const seq of [1, 2, 3]) { s.receive(msg(4, seq), 'live'); s.hold(msg(4, seq), `e${seq}`); }
  s.receive(msg(5, 1), 'live');
  s.hold(msg(5, 1), 'other');
  assert.deepEqual(s.dropMessages(4).sort(), ['e1', 'e2', 'e3']);
  assert.deepEqual(s.resume(), { 4: 0, 5: 1 });
  assert.equal(s.receive(msg(4, 2), 'live'), 'new', 'the sync after a reset brings them again');
  assert.equal(s.heldAt(msg(5, 1)), 'other');
});

test('top: a notice goes after the highest held seq, gaps included', () => {
  const s = new Proto.State();
  s.receive(msg(3, 1), 'live'); s.hold(msg(3, 1), 1);
  s.receive(msg(3, 5, { kind: 'visitor' }), 'ack'); s.hold(msg(3, 5), 5);
  assert.equal(s.top(3), 5);
  assert.equal(s.top(8), 0);
});

test('insertIndex: messages land in seq order whatever order they arrive in', () => {
  const list = [];   // keys in "DOM" order; null = an entry without a key (stays put)
  const put = (k) => list.splice(Proto.insertIndex(list, k), 0, k);
  list.push([-1, 0]);          // the greeting, always first
  list.push(null);             // something without a key
  list.push([Infinity, 10]);   // a pending send, always last
  for (const seq of [3, 1, 5, 2, 4]) put([1, seq]);
  put([0, 9]);                 // an older conversation before the newer one
  put([1, 2.5]);               // a notice between seq 2 and 3
  assert.deepEqual(list.filter(Boolean).map((k) => k.join(':')),
    ['-1:0', '0:9', '1:1', '1:2', '1:2.5', '1:3', '1:4', '1:5', 'Infinity:10']);
  put([Infinity, 11]);
  assert.deepEqual(list.at(-1), [Infinity, 11], 'pending sends stay in the order they were typed');
});

test('keys: parse, compare, print', () => {
  assert.deepEqual(Proto.parseKey('12:34'), [12, 34]);
  assert.equal(Proto.parseKey('12:'), null);
  assert.equal(Proto.parseKey(null), null);
  assert.equal(Proto.keyStr([3, 4]), '3:4');
  assert.ok(Proto.cmp([1, 9], [2, 1]) < 0 && Proto.cmp([2, 1], [2, 1]) === 0 && Proto.cmp([2, 3], [2, 1]) > 0);
});

test('operator: "took" is set once an operator answered or was assigned, and kept', () => {
  const s = new Proto.State();
  assert.equal(s.conv(1).took, false);
  s.receive(msg(1, 1, { kind: 'visitor' }), 'live');
  s.receive(msg(1, 2, { kind: 'system' }), 'live');
  assert.equal(s.conv(1).took, false, 'visitor and system messages are not an operator');
  s.setOperator(1, { id: 3, name: 'Оля' });
  s.setOperator(1, null);
  assert.equal(s.conv(1).took, true, 'the operator left: the conversation was still taken');
  s.receive(msg(2, 1), 'live');
  assert.equal(s.conv(2).took, true, 'an operator message means someone answered');
  const restored = new Proto.State();
  restored.load(JSON.parse(JSON.stringify(s.convs)));
  assert.equal(restored.conv(1).took, true, 'kept across pages (the cache)');
  restored.load({ 9: { cursor: 4, status: 'open', op: { name: 'X' } } });
  assert.equal(restored.conv(9).took, true, 'an older cache entry with an operator counts');
  restored.load({ 10: { cursor: 'x' } });
  assert.equal(restored.convs[10], undefined, 'a corrupt entry is skipped');
});

// --- reconnecting -------------------------------------------------------------------------

test('backoff: doubles from base, jittered into the upper half, never above the cap', () => {
  const lows = new Proto.Backoff(300, 10000, () => 0);
  const highs = new Proto.Backoff(300, 10000, () => 0.999999);
  const lo = Array.from({ length: 10 }, () => lows.next());
  const hi = Array.from({ length: 10 }, () => highs.next());
  assert.deepEqual(lo.slice(0, 4), [150, 300, 600, 1200]);
  for (let i = 0; i < 10; i++) {
    const top = Math.min(10000, 300 * 2 ** i);
    assert.ok(lo[i] >= top / 2 && hi[i] <= top, `attempt ${i}: ${lo[i]}..${hi[i]} within ${top / 2}..${top}`);
    assert.ok(hi[i] <= Proto.BACKOFF_CAP);
  }
  assert.equal(lo[9], 5000, 'capped: half the cap at least');
  lows.reset();
  assert.equal(lows.next(), 150, 'a welcome resets it');
  const real = new Proto.Backoff();
  for (let i = 0; i < 50; i++) {
    const d = real.next();
    assert.ok(d >= 0 && d <= Proto.BACKOFF_CAP);
  }
});

test('backoff of a page in view: capped at BACKOFF_VISIBLE_CAP, spread over 20–100 % of it once capped', () => {
  const lows = new Proto.Backoff(300, 10000, () => 0);
  const highs = new Proto.Backoff(300, 10000, () => 0.999999);
  const lo = Array.from({ length: 10 }, () => lows.next(true));
  const hi = Array.from({ length: 10 }, () => highs.next(true));
  assert.equal(Proto.BACKOFF_VISIBLE_CAP, 5000);
  assert.deepEqual(lo.slice(0, 4), [150, 300, 600, 1200], 'below the cap: as a hidden tab');
  for (let i = 0; i < 10; i++) {
    const top = Math.min(5000, 300 * 2 ** i);
    const low = top >= 5000 ? 0.2 : 0.5;
    assert.ok(lo[i] >= top * low && hi[i] <= top, `attempt ${i}: ${lo[i]}..${hi[i]} within ${top * low}..${top}`);
  }
  assert.equal(lo[9], 1000, 'capped: a fifth of the visible cap at least');
  assert.ok(hi[9] > 4999 && hi[9] <= 5000, 'capped: never above the visible cap');
  // a tab that goes hidden falls back to the 10 s cap (upper half), and back again when shown
  assert.equal(lows.next(false), 5000);
  assert.equal(lows.next(true), 1000);
  const tight = new Proto.Backoff(300, 2000, () => 0);  // a cap below the visible cap is kept
  for (let i = 0; i < 6; i++) tight.next(true);
  assert.equal(tight.next(true), 400);
});

test('close codes: what each asks the widget to do', () => {
  assert.deepEqual(Proto.closeAction(4403), { stop: true });
  assert.deepEqual(Proto.closeAction(4401), { reidentify: true });
  assert.deepEqual(Proto.closeAction(4408), { delay: 0 });
  assert.deepEqual(Proto.closeAction(4429), { delay: Proto.FLOOD_WAIT });
  assert.ok(Proto.FLOOD_WAIT >= 5000, 'the protocol asks for at least 5 s after a flood close');
  assert.deepEqual(Proto.closeAction(1006), { delay: null });
  assert.deepEqual(Proto.closeAction(1001), { delay: null });
});

// --- typing -------------------------------------------------------------------------------

test('typing: one frame per period, only changes, blank is "stopped"', () => {
  const ty = new Proto.Typing(300, 10);
  assert.equal(ty.wait(1000), 0, 'the first frame goes at once');
  assert.equal(ty.take('При', 1000), 'При');
  assert.equal(ty.wait(1100), 200, 'the next one waits for the period');
  assert.equal(ty.take('При', 1300), null, 'unchanged: nothing to send');
  assert.equal(ty.take('   ', 1600), '', 'only spaces: stopped typing');
  assert.equal(ty.take('', 1900), null);
  assert.equal(ty.take('😀'.repeat(12), 2200), '😀'.repeat(10), 'cut at max code points, never inside a pair');
  ty.forget();
  assert.equal(ty.take('😀'.repeat(12), 2500), '😀'.repeat(10), 'after a reconnect the same draft goes again');
});

// --- counting, the limit -------------------------------------------------------------------

test('chars: code points, as Python len() counts', () => {
  assert.equal(Proto.chars(''), 0);
  assert.equal(Proto.chars('abc'), 3);
  assert.equal(Proto.chars('Привет'), 6, 'Cyrillic: one each');
  assert.equal(Proto.chars('😀'), 1, 'an emoji outside the BMP is one, not two UTF-16 units');
  assert.equal('😀'.length, 2);
  assert.equal(Proto.chars('e\u0301'), 2, 'a combining mark counts (Python: len("e\\u0301") == 2)');
  assert.equal(Proto.chars('👍🏽'), 2, 'emoji + skin tone modifier: two code points');
  assert.equal(Proto.chars('👨‍👩‍👧'), 5, 'a ZWJ family: 3 emoji + 2 joiners');
  assert.equal(Proto.chars('\uD800x'), 2, 'a lone surrogate is one');
  assert.equal(Proto.cutChars('ab😀cd', 3), 'ab😀');
  assert.equal(Proto.cutChars('abc', 5), 'abc');
});

test('measure: the counter shows near the limit; over it is refused', () => {
  assert.deepEqual(Proto.measure('a'.repeat(3799), 4000), { n: 3799, over: false, show: false });
  assert.deepEqual(Proto.measure('a'.repeat(3800), 4000), { n: 3800, over: false, show: true });
  assert.deepEqual(Proto.measure('a'.repeat(4000), 4000), { n: 4000, over: false, show: true });
  assert.deepEqual(Proto.measure('😀'.repeat(4000), 4000), { n: 4000, over: false, show: true },
    '4000 emoji are 8000 UTF-16 units and still within a 4000-character limit');
  assert.equal(Proto.measure('😀'.repeat(4001), 4000).over, true);
  assert.equal(Proto.measure('a'.repeat(91), 100).show, true, 'small limits: from 90 %');
  assert.equal(Proto.measure('a'.repeat(89), 100).show, false);
});

test('keepWords: "e-mail" in site texts gets a non-breaking hyphen', () => {
  assert.equal(Proto.keepWords('Оставьте e-mail или E-mail!'), 'Оставьте e\u2011mail или E\u2011mail!');
  assert.equal(Proto.keepWords('some-email@x.ru'), 'some-email@x.ru', 'not inside other words');
  assert.equal(Proto.fill('%n из %m, %x', { n: 1, m: 2 }), '1 из 2, %x');
});

// --- the rating after a closed conversation ------------------------------------------------

test('rating: the options of each scale and the frame', () => {
  assert.deepEqual(Proto.ratingOptions('stars'), [1, 2, 3, 4, 5]);
  assert.deepEqual(Proto.ratingOptions('thumbs'), [5, 1]);
  assert.deepEqual(Proto.ratingOptions('anything else'), [1, 2, 3, 4, 5]);
  assert.deepEqual(Proto.ratingFrame(7, 5, '  Спасибо!  ', 'r1'),
    { type: 'conversation.rate', conversation_id: 7, value: 5, ref: 'r1', comment: 'Спасибо!' });
  assert.equal('comment' in Proto.ratingFrame(7, 4, '   ', 'r2'), false, 'a blank comment is left out');
  assert.equal(Proto.chars(Proto.ratingFrame(7, 4, '😀'.repeat(2500), 'r3').comment), 2000);
});
