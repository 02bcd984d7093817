// The login page: POST /api/v1/auth/login, then the workplace (or the page asked for in ?next=).
import { guessLanguage, setLanguage, t } from './i18n.js';
import { explain } from './errors.js';

const form = document.getElementById('login-form');
const email = document.getElementById('login-email');
const password = document.getElementById('login-password');
const submit = document.getElementById('login-submit');
const error = document.getElementById('login-error');
const params = new URLSearchParams(location.search);
let chosenLanguage = null;   // clicked here: it becomes the operator's language at login

function label() {
  document.getElementById('login-title').textContent = t('login.title');
  document.getElementById('login-email-label').textContent = t('login.email');
  document.getElementById('login-password-label').textContent = t('login.password');
  submit.textContent = t('login.submit');
  document.title = `${t('login.title')} — frontdesk`;
}

function showError(text) {
  error.hidden = !text;
  error.textContent = text || '';
}

/** Only our own panel pages: ?next= must never send the operator to another site. */
function nextPage() {
  const next = params.get('next') || '';
  return /^\/panel(\/[^\s\\]*)?$/.test(next) && !next.startsWith('/panel/login') && !next.startsWith('//') ? next : '/panel/';
}

form.addEventListener('submit', async (e) => {
  e.preventDefault();
  showError('');
  if (!email.value.trim() || !password.value) {
    showError(t('login.wrong'));
    return;
  }
  submit.disabled = true;
  submit.textContent = t('login.busy');
  try {
    const r = await fetch('/api/v1/auth/login', {
      method: 'POST', credentials: 'same-origin', cache: 'no-store',
      headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
      body: JSON.stringify({ email: email.value.trim(), password: password.value }),
    });
    if (r.ok) {
      const data = await r.json();
      await keepLanguage(data);
      location.replace(nextPage());
      return;
    }
    let body = null;
    try { body = await r.json(); } catch { /* not JSON */ }
    if (r.status === 429) showError(t('login.rateLimited'));
    else if (r.status === 401) { showError(t('login.wrong')); password.select(); }
    else showError(t('login.failed', { message: explain({ status: r.status, code: body?.error?.code, message: body?.error?.message }) }));
  } catch {
    showError(t('login.network'));
  } finally {
    submit.disabled = false;
    submit.textContent = t('login.submit');
  }
});

/** The language picked on this page wins over the one saved in the profile (and is saved there);
 * without a pick, the profile's language rules. */
async function keepLanguage(data) {
  const saved = data?.operator?.language;
  if (!chosenLanguage || chosenLanguage === saved) { if (saved) setLanguage(saved); return; }
  setLanguage(chosenLanguage);
  try {
    await fetch('/api/v1/me', {
      method: 'PATCH', credentials: 'same-origin', cache: 'no-store',
      headers: { 'Content-Type': 'application/json', Accept: 'application/json', 'X-CSRF-Token': data.csrf_token || '' },
      body: JSON.stringify({ language: chosenLanguage }),
    });
  } catch { /* the panel still starts in the chosen language once; the profile page can save it */ }
}

for (const button of document.querySelectorAll('[data-lang]')) {
  button.addEventListener('click', () => { chosenLanguage = button.dataset.lang; setLanguage(chosenLanguage); label(); });
}

setLanguage(guessLanguage());
label();
if (params.get('reason') === 'ended') showError(t('login.sessionEnded'));

// already signed in (another tab): straight to the panel
if (!params.get('reason')) {
  fetch('/api/v1/me', { credentials: 'same-origin', cache: 'no-store' })
    .then((r) => { if (r.ok) location.replace(nextPage()); })
    .catch(() => {});
}
