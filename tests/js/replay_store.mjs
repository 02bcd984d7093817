// Replays a recorded operator-socket session (tests/test_js.py records one from a real server)
// into the panel's Store and checks: initial state + applied events == a fresh fetch.
//   node tests/js/replay_store.mjs recording.json
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { PANEL_JS } from './load.mjs';
import { replay } from './panel_env.mjs';

const { Store } = await import(PANEL_JS + 'store.js');
const rec = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const { got, want } = await replay(Store, rec);
assert.deepEqual(got.rows.map((r) => r.id), rec.expect.open, 'the open conversations are the ones the scenario left open');
assert.deepEqual(got, want);
console.log(`conversation list after ${rec.frames.length} frames: same as a fresh fetch (${want.rows.length} open)`);
