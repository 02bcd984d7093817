// The panel's Store and supervision: a whisper is announced only to the operator holding the chat
// (never for my own or in a chat someone else holds); conversation.escalated updates the row and
// is announced with its step.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PANEL_JS } from './load.mjs';
import { fakeConn } from './panel_env.mjs';

const { Store } = await import(PANEL_JS + 'store.js');

const ME = { id: 1, name: 'Анна', status: 'online' };
const T0 = '2026-01-01T10:00:00Z';
const conv = (id, extra = {}) => ({ id, site_id: 1, status: 'open', assignee: null, last_seq: 1, is_offline: false,
  created_at: T0, last_message_at: null, closed_at: null, last_message: null, visitor: { id: id * 10 }, ...extra });
const note = (cid, seq, clientId, authorId) => ({ type: 'message.created', message: { conversation_id: cid, seq, kind: 'note',
  text: `w${seq}`, created_at: T0, client_id: clientId, author: { type: 'operator', id: authorId, name: 'Вера' } } });

function started(conversations) {
  const s = new Store({ ...ME });
  s.conn = fakeConn();
  s.onFrame({ type: 'welcome', operator: { ...ME }, conversations });
  return s;
}

test('a whisper is announced to the holder only, once, and a plain note never', () => {
  const s = started([conv(1, { assignee: { id: 1, name: 'Анна' } }), conv(2, { assignee: { id: 3, name: 'Борис' } })]);
  const got = [];
  s.addEventListener('whisper', (e) => got.push([e.detail.conv.id, e.detail.message.seq]));
  s.onFrame(note(1, 2, 'whisper:abc', 9));     // mine: announced
  s.onFrame(note(1, 2, 'whisper:abc', 9));     // the same seq again (replay overlap): not twice
  s.onFrame(note(1, 3, 'n-1', 9));             // an ordinary note: not a whisper
  s.onFrame(note(2, 2, 'whisper:def', 9));     // Борис's chat: not for me
  s.onFrame(note(1, 4, 'whisper:ghi', 1));     // my own (as an admin in my own chat): no toast
  assert.deepEqual(got, [[1, 2]]);
});

test('conversation.escalated updates the row and tells the workplace the step', () => {
  const s = started([conv(5)]);
  const steps = [];
  s.addEventListener('escalated', (e) => steps.push([e.detail.conv.id, e.detail.step]));
  s.onFrame({ type: 'conversation.escalated', conversation_id: 5, step: 'offer_all',
    conversation: conv(5, { last_seq: 2, last_message: { seq: 2, kind: 'visitor', text: 'Алло?' } }) });
  assert.deepEqual(steps, [[5, 'offer_all']]);
  assert.equal(s.convs.get(5).data.last_seq, 2);
});
