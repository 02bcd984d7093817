// The browser's rule evaluator (static/widget/invite.js, its pure part) against the cases the
// Python twin (actions/invitations.py) answers too: tests/js/fixtures/invitation_cases.json.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import vm from 'node:vm';
import { WIDGET, ROOT } from './load.mjs';

const Rules = vm.runInThisContext(readFileSync(`${WIDGET}invite.js`, 'utf8'));
const { cases, pick } = JSON.parse(readFileSync(`${ROOT}tests/js/fixtures/invitation_cases.json`, 'utf8'));

test('invite.js evaluates in node to its pure rule logic', () => {
  for (const name of ['urlMatches', 'localTime', 'matches', 'blocked', 'pick']) assert.equal(typeof Rules[name], 'function');
});

for (const c of cases) {
  test(`${c.kind}: ${c.name}`, () => {
    const got = c.kind === 'matches' ? Rules.matches(c.conditions, c.facts) : Rules.blocked(c.caps, c.history, c.facts);
    assert.equal(got, c.expect);
  });
}

for (const p of pick) {
  test(`pick: ${p.name}`, () => {
    const got = Rules.pick(p.rules, p.facts, p.history);
    assert.equal(got ? got.id : null, p.expect);
  });
}

test('a page-time condition turns true exactly when its seconds have passed (a moving clock)', () => {
  const cond = { page_seconds: 10, pages_min: 3 };
  const start = 1_800_000_000_000;
  const f = (now) => ({ now, page_started: start, visit_started: start, pages: 3 });
  assert.equal(Rules.matches(cond, f(start + 9_500)), false);
  assert.equal(Rules.matches(cond, f(start + 10_000)), true);
});
