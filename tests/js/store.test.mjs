// The panel's Store (static/panel/js/store.js): what each server frame does to the state.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { PANEL_JS } from './load.mjs';
import { fakeConn, listView, replay, routes, requests } from './panel_env.mjs';

const { Store } = await import(PANEL_JS + 'store.js');
const { codePoints } = await import(PANEL_JS + 'dom.js');

const ME = { id: 1, name: 'Анна', status: 'online' };
const T0 = '2026-01-01T10:00:00Z';

function conv(id, extra = {}) {
  return { id, site_id: 1, status: 'open', assignee: null, last_seq: 0, is_offline: false, created_at: T0,
    last_message_at: null, closed_at: null, last_message: null, visitor: { id: id * 10 }, ...extra };
}
function message(cid, seq, extra = {}) {
  return { conversation_id: cid, seq, kind: 'visitor', text: `m${seq}`, created_at: `2026-01-01T10:0${seq % 10}:00Z`,
    client_id: null, author: null, ...extra };
}
function welcome(conversations) { return { type: 'welcome', operator: { ...ME }, conversations }; }
function started(conversations = []) {
  const s = new Store({ ...ME });
  s.conn = fakeConn();
  s.onFrame(welcome(conversations));
  return s;
}
const created = (m) => ({ type: 'message.created', message: m });

test('a recorded session of a real server: initial state + applied events == a fresh fetch', async () => {
  const rec = JSON.parse(readFileSync(new URL('./fixtures/operator_session.json', import.meta.url), 'utf8'));
  const { got, want } = await replay(Store, rec);
  assert.deepEqual(got.rows.map((r) => r.id), rec.expect.open);
  assert.deepEqual(got, want);
  assert.ok(want.rows.some((r) => r.assignee !== null) && want.rows.some((r) => r.last_seq > 1));
});

test('the same check fails when an event is lost (the check can fail)', async () => {
  const rec = JSON.parse(readFileSync(new URL('./fixtures/operator_session.json', import.meta.url), 'utf8'));
  const lastAssigned = rec.frames.map((f) => f.type).lastIndexOf('conversation.assigned');
  const damaged = { ...rec, frames: rec.frames.filter((_, i) => i !== lastAssigned) };
  const { got, want } = await replay(Store, damaged);
  assert.notDeepEqual(got, want);
});

test('synthetic: created, offered, messages, assigned, closed, reopened == the fresh welcome', () => {
  const s = started([conv(1)]);
  s.onFrame({ type: 'conversation.created', conversation: conv(2, { created_at: '2026-01-01T10:05:00Z' }) });
  s.onFrame(created(message(2, 1)));
  const two = { last_seq: 1, created_at: '2026-01-01T10:05:00Z', last_message: { seq: 1, kind: 'visitor', text: 'm1' },
    last_message_at: '2026-01-01T10:01:00Z' };   // the server's conversation frames carry the latest message
  s.onFrame({ type: 'conversation.offered', conversation: conv(2, two) });
  s.onFrame({ type: 'conversation.assigned', conversation_id: 1, operator: { id: 1, name: 'Анна' } });
  s.onFrame(created(message(1, 1)));
  s.onFrame(created(message(1, 2, { kind: 'operator', author: { id: 1, name: 'Анна' } })));
  s.onFrame({ type: 'conversation.created', conversation: conv(3) });
  s.onFrame({ type: 'conversation.closed', conversation_id: 3 });
  s.onFrame({ type: 'conversation.closed', conversation_id: 2 });
  s.onFrame({ type: 'conversation.reopened', conversation_id: 2, conversation: conv(2, two) });

  const lastOf = (cid, seq, kind = 'visitor') => ({ seq, kind, text: `m${seq}` });
  const fresh = started([
    conv(1, { assignee: { id: 1, name: 'Анна' }, last_seq: 2, last_message: lastOf(1, 2, 'operator'),
      last_message_at: '2026-01-01T10:02:00Z' }),
    conv(2, { last_seq: 1, created_at: '2026-01-01T10:05:00Z', last_message: lastOf(2, 1),
      last_message_at: '2026-01-01T10:01:00Z' }),
  ]);
  assert.deepEqual(listView(s), listView(fresh));
  assert.deepEqual(listView(s).counts, { waiting: 1, mine: 1, all: 2 });
});

test('welcome: open conversations missing from it were closed while away', () => {
  const s = started([conv(1), conv(2)]);
  s.onFrame(welcome([conv(2)]));
  assert.equal(s.convs.get(1).data.status, 'closed');
  assert.deepEqual(listView(s).rows.map((r) => r.id), [2]);
});

test('messages: a seq already held is dropped; the resume point counts only gap-free seqs', () => {
  const s = started([conv(5)]);
  const c = s.convs.get(5);
  c.loaded = true;                       // history fetched: heldSeq counts what is held
  s.onFrame(created(message(5, 1)));
  s.onFrame(created(message(5, 1, { text: 'again' })));
  assert.equal(c.messages.get(1).text, 'm1', 'the first copy stays');
  s.onFrame(created(message(5, 3)));     // 2 is missing: a gap
  assert.equal(s.heldSeq(c), 1, 'the resume point does not jump a gap');
  assert.deepEqual(s.resume(), { 5: 1 });
  s.onFrame({ type: 'sync.result', conversation_id: 5, messages: [message(5, 2), message(5, 3)], has_more: false });
  assert.equal(s.heldSeq(c), 3);
  assert.deepEqual(s.sortedMessages(c).map((m) => m.seq), [1, 2, 3]);
  clearTimeout(s._gapTimers.get(5));
});

test('ack: shown at once, but never moves the resume point past a missing message', () => {
  const s = started([conv(6)]);
  const c = s.convs.get(6);
  c.loaded = true;
  s.onFrame(created(message(6, 1)));
  s.sendMessage(c, 'Ответ', 'operator');
  const [frame] = s.conn.sent.filter((f) => f.type === 'message.send');
  assert.equal(s.outbox.size, 1);
  s.onFrame({ type: 'message.ack', client_id: frame.client_id,
    message: message(6, 3, { kind: 'operator', client_id: frame.client_id }) });
  assert.equal(s.outbox.size, 0, 'acked: out of the outbox');
  assert.ok(c.messages.has(3));
  assert.equal(s.heldSeq(c), 1, 'seq 2 was never seen: resume from 1');
});

test('outbox: unacked replies go again after a reconnect with the same client_id; failed ones wait', () => {
  const s = started([conv(7)]);
  const c = s.convs.get(7);
  s.sendMessage(c, 'первый', 'operator');
  s.sendMessage(c, 'второй', 'operator');
  const ids = s.conn.sent.filter((f) => f.type === 'message.send').map((f) => f.client_id);
  s.onFrame({ type: 'error', ref: ids[1], code: 'text_too_long', message: 'too long' });
  assert.equal(s.outbox.get(ids[1]).failed, true);
  s.conn = fakeConn();                   // a new socket
  s.onFrame(welcome([conv(7)]));
  assert.deepEqual(s.conn.sent.filter((f) => f.type === 'message.send').map((f) => f.client_id), [ids[0]]);
  s.retry(ids[1]);
  assert.deepEqual(s.conn.sent.filter((f) => f.type === 'message.send').map((f) => f.client_id), [ids[0], ids[1]]);
});

test('reset: the messages are dropped and loaded again through REST', async () => {
  const s = started([conv(8, { last_seq: 2 })]);
  const c = s.convs.get(8);
  routes.set('GET /api/v1/conversations/8/messages?after_seq=0&limit=200',
    { messages: [message(8, 1), message(8, 2)], has_more: false });
  routes.set('GET /api/v1/conversations/8', { conversation: conv(8, { last_seq: 2 }) });
  s.setActive(8);
  await c.loading;
  assert.equal(s.heldSeq(c), 2);
  s.onFrame({ type: 'reset', conversation_id: 8, reason: 'unknown_seq' });
  assert.equal(c.messages.size, 0);
  await c.loading;
  assert.equal(s.heldSeq(c), 2, 'loaded again');
  assert.ok(requests.filter((r) => r.includes('/conversations/8/messages')).length === 2);
});

test('typing: a visitor message clears the typing preview', () => {
  const s = started([conv(9)]);
  s.onFrame({ type: 'visitor.typing', conversation_id: 9, text: 'Здрав' });
  assert.equal(s.typingText(s.convs.get(9)), 'Здрав');
  s.onFrame(created(message(9, 1)));
  assert.equal(s.typingText(s.convs.get(9)), '');
});

test('codePoints (the panel composer): as the server counts', () => {
  assert.equal(codePoints(''), 0);
  assert.equal(codePoints('Привет'), 6);
  assert.equal(codePoints('😀😀'), 2);
  assert.equal(codePoints('e\u0301'), 2);
  assert.equal(codePoints('👨‍👩‍👧'), 5);
});

test('the holding message never becomes the preview: the list keeps the visitor\'s question', () => {
  const s = started([conv(1)]);
  s.onFrame(created(message(1, 1, { text: 'Есть доставка в Казань?' })));
  s.onFrame(created(message(1, 2, { kind: 'system', client_id: 'ask_contacts:1', author: { type: 'system' },
    text: 'Спасибо за ваше сообщение! Оператор скоро ответит.' })));
  const d = s.convs.get(1).data;
  assert.equal(d.last_seq, 2);
  assert.deepEqual(d.last_message, { seq: 1, kind: 'visitor', text: 'Есть доставка в Казань?', author_id: null });
  s.onFrame(created(message(1, 3, { kind: 'system', client_id: 'other:1', text: 'x' })));
  assert.equal(s.convs.get(1).data.last_message.seq, 3, 'other system messages are previews as before');
});

test('the automatic holding line ("Одну минуточку…", kind operator) is not the preview either; a real reply is', () => {
  const s = started([conv(1)]);
  s.onFrame(created(message(1, 1, { text: 'Есть в сером цвете?' })));
  s.onFrame(created(message(1, 2, { kind: 'operator', client_id: 'autohold:1:1', author: { type: 'operator', id: 1, name: 'Анна' },
    text: 'Одну минуточку, уточняю…' })));
  assert.equal(s.convs.get(1).data.last_message.text, 'Есть в сером цвете?');
  s.onFrame(created(message(1, 3, { kind: 'operator', client_id: 'c-9', author: { type: 'operator', id: 1, name: 'Анна' },
    text: 'Да, есть' })));
  assert.equal(s.convs.get(1).data.last_message.text, 'Да, есть');
});

test('team: a transfer offer is kept until it ends; colleagues viewing and typing, never myself', () => {
  const s = started([conv(1, { assignee: { id: 2, name: 'Борис' } })]);
  const offers = [];
  s.addEventListener('transfer-offer', (e) => offers.push(e.detail.transfer.id));
  s.onFrame({ type: 'transfer.offered', transfer: { id: 7, conversation_id: 1, note: 'VIP', from: { id: 2, name: 'Борис' } },
    conversation: conv(1, { assignee: { id: 2, name: 'Борис' } }) });
  assert.deepEqual(offers, [7]);
  assert.ok(s.transfers.has(7));
  s.onFrame({ type: 'transfer.ended', transfer_id: 7, conversation_id: 1, result: 'expired' });
  assert.ok(!s.transfers.has(7));

  const c = s.convs.get(1);
  s.setActive(1);
  const sentViews = () => s.conn.sent.filter((f) => f.type === 'conversation.view');
  assert.deepEqual(sentViews().at(-1), { type: 'conversation.view', conversation_id: 1 });
  const before = sentViews().length;
  s.onFrame({ type: 'operator.viewing', conversation_id: 1, viewing: true, operator: { id: 2, name: 'Борис' } });
  assert.equal(sentViews().length, before + 1);   // a new colleague on my dialog: I answer at once
  s.onFrame({ type: 'operator.viewing', conversation_id: 1, viewing: true, operator: { id: 2, name: 'Борис' } });
  assert.equal(sentViews().length, before + 1);   // a known one: no ping-pong
  s.onFrame({ type: 'operator.viewing', conversation_id: 1, viewing: true, operator: { id: 1, name: 'Анна' } });
  s.onFrame({ type: 'operator.typing', conversation_id: 1, is_typing: true, operator: { id: 2, name: 'Борис' } });
  assert.deepEqual(s.viewers(c), [{ operator: { id: 2, name: 'Борис' }, typing: true }]);
  s.onFrame({ type: 'operator.typing', conversation_id: 1, is_typing: false, operator: { id: 2, name: 'Борис' } });
  assert.deepEqual(s.viewers(c), [{ operator: { id: 2, name: 'Борис' }, typing: false }]);
  s.onFrame({ type: 'operator.viewing', conversation_id: 1, viewing: false, operator: { id: 2, name: 'Борис' } });
  assert.deepEqual(s.viewers(c), []);
});

test('the list labels only my own replies "Вы": a colleague\'s reply keeps the author', () => {
  const s = started([conv(1, { assignee: { id: 2, name: 'Борис' } })]);
  s.onFrame(created(message(1, 1, { kind: 'operator', author: { type: 'operator', id: 2, name: 'Борис' } })));
  assert.equal(s.convs.get(1).data.last_message.author_id, 2);
  s.onFrame(created(message(1, 2, { kind: 'operator', author: { type: 'operator', id: 1, name: 'Анна' } })));
  assert.equal(s.convs.get(1).data.last_message.author_id, 1);
});
