// "When do we open": next_open_at (ISO-8601 UTC from the server) in the visitor's local time.
// The time zone is fixed for this file so that the expectations are exact.
process.env.TZ = 'Europe/Moscow';   // UTC+3, no DST

const { test } = await import('node:test');
const assert = (await import('node:assert/strict')).default;
const { loadWidget } = await import('./load.mjs');
const { Proto } = loadWidget();

// Wednesday 15 January 2025, 20:30 in Moscow
const NOW = new Date('2025-01-15T17:30:00Z');
const text = (iso, lang = 'ru', now = NOW) => Proto.nextOpenText(iso, now, lang);

test('the local time zone is the one this file set', () => {
  assert.equal(NOW.getHours(), 20);
});

test('today, tomorrow, a weekday, a date — ru', () => {
  assert.equal(text('2025-01-15T18:00:00Z'), 'Мы откроемся сегодня в 21:00');
  assert.equal(text('2025-01-16T06:00:00Z'), 'Мы откроемся завтра в 09:00');
  assert.equal(text('2025-01-17T06:00:00Z'), 'Мы откроемся в пятницу в 09:00');
  assert.equal(text('2025-01-21T06:00:00Z'), 'Мы откроемся во вторник в 09:00');
  assert.equal(text('2025-01-20T07:30:00Z'), 'Мы откроемся в понедельник в 10:30');
  assert.equal(text('2025-01-19T06:00:00Z'), 'Мы откроемся в воскресенье в 09:00');
  assert.equal(text('2025-01-22T06:00:00Z'), 'Мы откроемся 22 января в 09:00', 'a week ahead: the date, not "в среду"');
  assert.equal(text('2025-03-08T07:00:00Z'), 'Мы откроемся 8 марта в 10:00');
});

test('today, tomorrow, a weekday, a date — en', () => {
  assert.equal(text('2025-01-15T18:00:00Z', 'en'), 'We open today at 21:00');
  assert.equal(text('2025-01-16T06:00:00Z', 'en'), 'We open tomorrow at 09:00');
  assert.equal(text('2025-01-20T06:00:00Z', 'en'), 'We open on Monday at 09:00');
  assert.equal(text('2025-02-01T06:00:00Z', 'en'), 'We open on 1 February at 09:00');
});

test('the local day decides, not the UTC day', () => {
  // 22:30 UTC on the 15th is 01:30 on the 16th in Moscow: tomorrow
  assert.equal(text('2025-01-15T22:30:00Z'), 'Мы откроемся завтра в 01:30');
  // just before midnight: an opening at 00:05 is tomorrow
  assert.equal(text('2025-01-15T21:05:00Z', 'ru', new Date('2025-01-15T20:59:00Z')), 'Мы откроемся завтра в 00:05');
  // an offset in the string is honoured
  assert.equal(text('2025-01-16T09:00:00+03:00'), 'Мы откроемся завтра в 09:00');
});

test('unknown, always open, past or junk: nothing is said', () => {
  assert.equal(text(null), '');
  assert.equal(text(undefined), '');
  assert.equal(text(''), '');
  assert.equal(text('soon'), '');
  assert.equal(text(12345), '');
  assert.equal(text('2025-01-15T17:00:00Z'), '', 'already past: the shop should be open (stale value)');
  assert.equal(text('2025-01-15T17:30:00Z'), '', 'now is not "next"');
});

test('an unknown language falls back to English', () => {
  assert.equal(text('2025-01-16T06:00:00Z', 'de'), 'We open tomorrow at 09:00');
});
