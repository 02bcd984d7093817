// Every user-visible string exists in Russian and English: the same keys in both catalogs,
// no empty value, placeholders that match. Panel (static/panel/js/i18n.js), the chat window
// (static/widget/strings.js) and the launcher (static/widget/loader.js, TEXT).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { loadWidget, WIDGET, PANEL_JS } from './load.mjs';

const { STRINGS } = await import(PANEL_JS + 'i18n.js');
const { MSG } = loadWidget();

function loaderTexts() {
  const src = readFileSync(WIDGET + 'loader.js', 'utf8');
  const m = /var TEXT = (\{[\s\S]*?\n {2}\});/.exec(src);
  assert.ok(m, 'loader.js defines var TEXT = {...};');
  return Function(`"use strict"; return (${m[1]});`)();
}

function placeholders(s, re) { return [...String(s).matchAll(re)].map((x) => x[0]).sort(); }

function checkParity(name, catalog, placeholderRe) {
  assert.deepEqual(Object.keys(catalog).sort(), ['en', 'ru'], `${name}: exactly ru and en`);
  const ru = catalog.ru, en = catalog.en;
  const missingEn = Object.keys(ru).filter((k) => !(k in en));
  const missingRu = Object.keys(en).filter((k) => !(k in ru));
  assert.deepEqual(missingEn, [], `${name}: keys in ru but not in en`);
  assert.deepEqual(missingRu, [], `${name}: keys in en but not in ru`);
  for (const lang of ['ru', 'en']) {
    for (const [key, value] of Object.entries(catalog[lang])) {
      const values = Array.isArray(value) ? value : [value];
      assert.ok(values.length, `${name}.${lang}.${key} is an empty list`);
      for (const v of values) {
        assert.equal(typeof v, 'string', `${name}.${lang}.${key} is not a string`);
        assert.ok(v.trim(), `${name}.${lang}.${key} is empty`);
      }
    }
  }
  for (const key of Object.keys(ru)) {
    if (Array.isArray(ru[key])) {
      assert.equal(ru[key].length, en[key].length, `${name}.${key}: lists of the same length`);
      continue;
    }
    assert.deepEqual(placeholders(ru[key], placeholderRe), placeholders(en[key], placeholderRe),
      `${name}.${key}: the same placeholders in ru and en`);
  }
}

test('panel catalog: ru and en have the same keys, none empty, same {placeholders}', () => {
  assert.ok(Object.keys(STRINGS.ru).length > 100);
  checkParity('panel', STRINGS, /\{\w+\}/g);
});

test('widget chat catalog: ru and en have the same keys, none empty, same %placeholders', () => {
  checkParity('widget', MSG, /%\w/g);
  assert.equal(MSG.ru.weekdays.length, 7);
  assert.equal(MSG.ru.months.length, 12);
});

test('widget launcher texts: ru and en have the same keys, none empty', () => {
  checkParity('launcher', loaderTexts(), /%\w/g);
});

test('the widget never lets "e-mail" break across lines: a non-breaking hyphen', () => {
  for (const lang of ['ru', 'en']) {
    for (const [key, value] of Object.entries(MSG[lang])) {
      assert.doesNotMatch(String(value), /e-mail/i, `widget.${lang}.${key} has "e-mail" with a breaking hyphen`);
    }
  }
});

test('the parity check itself fails on a missing or empty key', () => {
  assert.throws(() => checkParity('x', { ru: { a: '1', b: '2' }, en: { a: '1' } }, /%\w/g), /ru but not in en/);
  assert.throws(() => checkParity('x', { ru: { a: ' ' }, en: { a: 'x' } }, /%\w/g), /is empty/);
  assert.throws(() => checkParity('x', { ru: { a: '%n' }, en: { a: 'n' } }, /%\w/g), /placeholders/);
});

test('every text key the chat window asks for by name exists', () => {
  const src = readFileSync(WIDGET + 'chat.js', 'utf8');
  const used = new Set([...src.matchAll(/\b(?:t|fmt)\("(\w+)"/g)].map((m) => m[1]));
  assert.ok(used.size > 30, `found ${used.size} keys`);
  assert.deepEqual([...used].filter((k) => !(k in MSG.ru)), []);
});

test('every panel text key used by name exists', () => {
  const missing = [];
  for (const file of ['workplace.js', 'admin.js', 'main.js', 'alerts.js', 'login.js', 'connection.js', 'store.js']) {
    let src;
    try { src = readFileSync(PANEL_JS + file, 'utf8'); } catch { continue; }
    for (const m of src.matchAll(/\bt\('([\w.]+)'/g)) if (!(m[1] in STRINGS.ru)) missing.push(`${file}: ${m[1]}`);
  }
  assert.deepEqual(missing, []);
});
