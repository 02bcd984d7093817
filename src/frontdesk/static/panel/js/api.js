// REST client for /api/v1: JSON in and out, the CSRF header on every write,
// one error type carrying the server's {"error": {code, message}}.

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

let csrfToken = null;
let onUnauthorized = null;

export function setCsrfToken(token) { csrfToken = token; }
export function setUnauthorizedHandler(fn) { onUnauthorized = fn; }

function cookie(name) {
  for (const part of document.cookie.split(';')) {
    const [k, ...v] = part.trim().split('=');
    if (k === name) return decodeURIComponent(v.join('='));
  }
  return null;
}

/** api('POST', '/conversations/4/take') · api('PATCH', '/me', {language: 'en'}) · api('POST', '/me/photo', formData) */
export async function api(method, path, body, { redirectOn401 = true } = {}) {
  const headers = { Accept: 'application/json' };
  const init = { method, headers, credentials: 'same-origin', cache: 'no-store' };
  if (method !== 'GET' && method !== 'HEAD') {
    // double submit: the readable fd_csrf cookie (fresh after a login in another tab) or /me's token
    headers['X-CSRF-Token'] = cookie('fd_csrf') || csrfToken || '';
  }
  if (body instanceof FormData) init.body = body;
  else if (body !== undefined) { headers['Content-Type'] = 'application/json'; init.body = JSON.stringify(body); }
  let response;
  try {
    response = await fetch('/api/v1' + path, init);
  } catch (exc) {
    throw new ApiError(0, 'network', exc.message || 'network error');
  }
  let data = null;
  try { data = await response.json(); } catch { /* empty or not JSON */ }
  if (!response.ok) {
    const err = new ApiError(response.status, data?.error?.code || `http_${response.status}`,
      data?.error?.message || response.statusText);
    if (response.status === 401 && redirectOn401 && onUnauthorized) onUnauthorized(err);
    throw err;
  }
  return data;
}
