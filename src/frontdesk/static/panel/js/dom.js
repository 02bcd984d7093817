// DOM helpers. Everything that reaches the page goes through text nodes or
// setAttribute — never innerHTML — so visitor-supplied strings cannot become markup.
import { language, t } from './i18n.js';

const PROPS = new Set(['value', 'checked', 'disabled', 'selected', 'hidden', 'readOnly', 'multiple', 'tabIndex']);

/** h('div', {class: 'x', testid: 'y', onclick: fn}, 'text', child, [more]) */
export function h(tag, props, ...children) {
  const el = document.createElement(tag);
  if (props) {
    for (const [key, value] of Object.entries(props)) {
      if (value == null || value === false) continue;
      if (key === 'class') el.className = value;
      else if (key === 'testid') el.setAttribute('data-testid', value);
      else if (key === 'dataset') for (const [k, v] of Object.entries(value)) el.dataset[k] = String(v);
      else if (key.startsWith('on') && typeof value === 'function') el.addEventListener(key.slice(2), value);
      else if (PROPS.has(key)) el[key] = value;
      else if (key === 'href') { const safe = safeHref(value); if (safe) el.setAttribute('href', safe); }
      else el.setAttribute(key, value === true ? '' : String(value));
    }
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children) {
    if (child == null || child === false) continue;
    if (Array.isArray(child)) append(el, child);
    else if (child instanceof Node) el.appendChild(child);
    else el.appendChild(document.createTextNode(String(child)));
  }
}

/** The URL when it is http(s) (or a same-origin path), else null: no javascript:, data:, … */
export function safeHref(url) {
  if (typeof url !== 'string' || !url) return null;
  if (url.startsWith('/') && !url.startsWith('//')) return url;
  try {
    const parsed = new URL(url);
    return parsed.protocol === 'http:' || parsed.protocol === 'https:' ? parsed.href : null;
  } catch {
    return null;
  }
}

/** A link opened in a new tab that cannot reach back into the panel. */
export function extLink(url, text) {
  const href = safeHref(url);
  if (!href) return h('span', { class: 'unsafe-url', title: String(url) }, text ?? String(url));
  return h('a', { href, target: '_blank', rel: 'noopener noreferrer nofollow' }, text ?? href);
}

const URL_RE = /\bhttps?:\/\/[^\s<>"'`]+/gi;

/** Text with http(s) links made clickable; the rest stays text. */
export function linkify(text) {
  const out = [];
  let last = 0;
  for (const match of String(text).matchAll(URL_RE)) {
    let url = match[0];
    const trail = url.match(/[.,;:!?)\]}»]+$/);
    if (trail) url = url.slice(0, -trail[0].length);
    if (match.index > last) out.push(text.slice(last, match.index));
    out.push(extLink(url, url));
    last = match.index + url.length;
  }
  if (last < text.length) out.push(text.slice(last));
  return out;
}

export function clear(el) { el.replaceChildren(); return el; }

/** The visitor's rating of a conversation (RATING of docs/protocol.md), or null: stars, or a thumb. */
export function ratingBadge(rating) {
  if (!rating || typeof rating.value !== 'number') return null;
  const v = Math.max(1, Math.min(5, Math.round(rating.value)));
  const label = rating.scale === 'thumbs' ? t(v >= 4 ? 'rating.up' : 'rating.down') : t('rating.stars', { n: v });
  const shown = rating.scale === 'thumbs' ? (v >= 4 ? '▲ ' : '▼ ') + label : '★'.repeat(v) + '☆'.repeat(5 - v);
  return h('span', { class: `rating rating--${v >= 4 ? 'good' : v <= 2 ? 'bad' : 'mid'}`, testid: 'conversation-rating',
    dataset: { value: v }, title: rating.comment ? `${label}: ${rating.comment}` : label, 'aria-label': label }, shown);
}

// --- time ---------------------------------------------------------------------------

let serverOffsetMs = 0; // server clock − our clock, from ping frames

export function setServerTime(unixSeconds) {
  if (typeof unixSeconds === 'number') serverOffsetMs = unixSeconds * 1000 - Date.now();
}

export function serverNow() { return Date.now() + serverOffsetMs; }

/** Length in Unicode code points, as the server counts (Python len()): an emoji is one, not two. */
export function codePoints(text) { return String(text).replace(/[\uD800-\uDBFF][\uDC00-\uDFFF]/g, ' ').length; }

export function parseTime(iso) { const ms = Date.parse(iso || ''); return Number.isNaN(ms) ? null : ms; }

export function formatClock(iso) {
  const ms = parseTime(iso);
  if (ms == null) return '';
  return new Intl.DateTimeFormat(language(), { hour: '2-digit', minute: '2-digit' }).format(ms);
}

export function formatDateTime(iso) {
  const ms = parseTime(iso);
  if (ms == null) return t('info.none');
  return new Intl.DateTimeFormat(language(), {
    day: 'numeric', month: 'short', year: 'numeric', hour: '2-digit', minute: '2-digit',
  }).format(ms);
}

/** "0:07", "12:45", "1:02:03" */
export function formatDuration(ms) {
  const total = Math.max(0, Math.floor(ms / 1000));
  const s = total % 60, m = Math.floor(total / 60) % 60, hours = Math.floor(total / 3600);
  const pad = (n) => String(n).padStart(2, '0');
  return hours ? `${hours}:${pad(m)}:${pad(s)}` : `${m}:${pad(s)}`;
}

export function randomId(prefix) {
  const bytes = new Uint8Array(12);
  crypto.getRandomValues(bytes);
  return prefix + Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

/** A short-lived message at the bottom of the screen. */
export function toast(text, kind = 'info') {
  let host = document.getElementById('toasts');
  if (!host) { host = h('div', { id: 'toasts', class: 'toasts', 'aria-live': 'polite' }); document.body.appendChild(host); }
  const el = h('div', { class: `toast toast--${kind}`, role: kind === 'error' ? 'alert' : 'status', testid: 'toast' }, text);
  host.appendChild(el);
  setTimeout(() => el.remove(), kind === 'error' ? 8000 : 4000);
  return el;
}

const ICONS = {
  // 24×24 stroke icons
  bell: 'M6 8a6 6 0 0 1 12 0c0 7 3 9 3 9H3s3-2 3-9M10.3 21a1.94 1.94 0 0 0 3.4 0',
  bellOff: 'M8.7 3A6 6 0 0 1 18 8a21.3 21.3 0 0 0 .6 5M17 17H3s3-2 3-9a4.67 4.67 0 0 1 .3-1.7M10.3 21a1.94 1.94 0 0 0 3.4 0M2 2l20 20',
  help: 'M12 22a10 10 0 1 0 0-20 10 10 0 0 0 0 20zM9.1 9a3 3 0 0 1 5.8 1c0 2-3 3-3 3M12 17h.01',
  info: 'M12 22a10 10 0 1 0 0-20 10 10 0 0 0 0 20zM12 16v-4M12 8h.01',
  back: 'M19 12H5M12 19l-7-7 7-7',
  close: 'M18 6 6 18M6 6l12 12',
  menu: 'M4 6h16M4 12h16M4 18h16',
  users: 'M16 21v-2a4 4 0 0 0-4-4H6a4 4 0 0 0-4 4v2M9 11a4 4 0 1 0 0-8 4 4 0 0 0 0 8zM22 21v-2a4 4 0 0 0-3-3.87M16 3.13a4 4 0 0 1 0 7.75',
};

/** An inline SVG icon (no files, no fonts: renders the same everywhere). */
export function icon(name, size = 18) {
  const NS = 'http://www.w3.org/2000/svg';
  const svg = document.createElementNS(NS, 'svg');
  for (const [k, v] of Object.entries({ width: size, height: size, viewBox: '0 0 24 24', fill: 'none', stroke: 'currentColor',
    'stroke-width': 2, 'stroke-linecap': 'round', 'stroke-linejoin': 'round', 'aria-hidden': 'true' })) svg.setAttribute(k, String(v));
  const path = document.createElementNS(NS, 'path');
  path.setAttribute('d', ICONS[name]);
  svg.appendChild(path);
  return svg;
}
