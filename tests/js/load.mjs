// Loads the widget's pure parts (strings.js + protocol.js) the way the server joins them
// (inside one function), in this realm, so tests can call them. The DOM part is not loaded.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import vm from 'node:vm';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const WIDGET = `${ROOT}src/frontdesk/static/widget/`;
export const PANEL_JS = `${ROOT}src/frontdesk/static/panel/js/`;

export function loadWidget() {
  const src = ['strings.js', 'protocol.js'].map((f) => readFileSync(WIDGET + f, 'utf8')).join('\n');
  return vm.runInThisContext(`(function () {"use strict";\n${src}\nreturn { MSG: MSG, Proto: Proto };\n})`)();
}

/** A store like the loader's (get/set/json over a Map): what the outbox persists to. */
export function memoryStore() {
  const data = new Map();
  return {
    data,
    get: (k) => (data.has(k) ? data.get(k) : null),
    set: (k, v) => { if (v == null) data.delete(k); else data.set(k, v); return true; },
    json: (k) => { try { return JSON.parse(data.get(k)); } catch { return null; } },
  };
}
