// What the operator reads when the server says no. The server's {"error": {code, message}} carries an
// English, technical message; the panel shows its own ru/en words for every code (docs/protocol.md
// § Errors), and for the few codes that cover several cases it tells them apart by the message.
import { t } from './i18n.js';

// [pattern of the server's message, i18n key, vars taken from the match]
const DETAILS = [
  [/cannot deactivate yourself/i, 'err.detail.self'],
  [/administrator role from yourself/i, 'err.detail.selfAdmin'],
  [/an operator with e-mail .* exists/i, 'err.detail.emailTaken'],
  [/only a failed e-mail can be retried/i, 'err.detail.retryOnlyFailed'],
  [/another open conversation/i, 'err.detail.visitorBusy'],
  [/choose an active colleague/i, 'err.detail.transferTarget'],
  [/unknown time zone '([^']*)'/i, 'err.detail.timezone', (m) => ({ tz: m[1] })],
  [/password must be/i, 'err.detail.password'],
  [/valid e-mail address/i, 'err.detail.email'],
  [/origin must look like/i, 'err.detail.origin'],
  [/color must be/i, 'err.detail.color'],
  [/name must be 1-(\d+) characters|name must be one line/i, 'err.detail.name', (m) => ({ max: m[1] || 100 })],
  [/photo must be a PNG/i, 'err.detail.photoType'],
  [/photo file is empty/i, 'err.detail.photoEmpty'],
  [/photo must be at most (\d+) KiB/i, 'err.detail.photoSize', (m) => ({ size: m[1] })],
];

/** Every code the server sends (web/errors.py, actions/), each with a text in i18n.js. */
export const ERROR_CODES = [
  'bad_request', 'unauthorized', 'invalid_credentials', 'csrf_failed', 'forbidden', 'not_found',
  'method_not_allowed', 'conflict', 'conversation_closed', 'too_large', 'unsupported_media_type',
  'invalid_input', 'invalid_email', 'invalid_phone', 'invalid_name', 'invalid_frame', 'invalid_text', 'empty_text',
  'text_too_long', 'wrong_password', 'weak_password', 'rate_limited', 'internal', 'held_by_other', 'transfer_ended',
  'no_email',
  'banned', 'invalid_ban_value', 'invalid_expiry',
  'invalid_field',
];

/** An ApiError (or an `error` frame: {code, message}) in the operator's language. */
export function explain(err) {
  const code = err?.code || '';
  const message = typeof err?.message === 'string' ? err.message : '';
  if (code === 'network' || err?.status === 0) return t('err.network');
  for (const [re, key, vars] of DETAILS) {
    const m = re.exec(message);
    if (m) return t(key, vars ? vars(m) : undefined);
  }
  if (ERROR_CODES.includes(code)) return t(`err.code.${code}`);
  if (/^http_5\d\d$/.test(code) || err?.status >= 500) return t('err.code.internal');
  return t('err.unknown', { code: code || err?.status || '?' });
}
