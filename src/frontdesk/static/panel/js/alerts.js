// Alerts an operator cannot miss: sounds (WebAudio, no files), the tab title,
// a favicon badge drawn on a canvas, and desktop notifications.
import { t } from './i18n.js';

const BLINK_MS = 1_000;

export class Alerts {
  constructor() {
    this.audio = null;
    this.muted = localStorage.getItem('fd.muted') === '1';
    // what the panel did, for the operator's own check and for tests: window.frontdeskPanel.stats
    this.stats = { sounds: 0, offers: 0, notifications: 0 };
    this.baseTitle = 'frontdesk';
    this.waiting = 0;
    this.unread = 0;
    this.blinkTimer = null;
    this.blinkOn = false;
    this.favicon = document.querySelector('link[rel="icon"]');
    // Browsers start audio only after a user gesture: unlock on the first one.
    const unlock = () => { this._context(); };
    window.addEventListener('pointerdown', unlock, { once: true, capture: true });
    window.addEventListener('keydown', unlock, { once: true, capture: true });
    document.addEventListener('visibilitychange', () => this._render());
    window.addEventListener('focus', () => this._render());
  }

  setMuted(muted) {
    this.muted = muted;
    localStorage.setItem('fd.muted', muted ? '1' : '0');
  }

  _context() {
    if (!this.audio) {
      const Ctx = window.AudioContext || window.webkitAudioContext;
      if (!Ctx) return null;
      try { this.audio = new Ctx(); } catch { return null; }
    }
    if (this.audio.state === 'suspended') this.audio.resume().catch(() => {});
    return this.audio;
  }

  /** 'chat': a rising three-note chime; 'message': one soft blip. */
  play(kind) {
    if (this.muted) return;
    this.stats.sounds += 1;
    const ctx = this._context();
    if (!ctx) return;
    const notes = kind === 'chat' ? [[660, 0], [880, 0.14], [1320, 0.28]] : [[990, 0]];
    const now = ctx.currentTime;
    for (const [freq, at] of notes) {
      const osc = ctx.createOscillator();
      const gain = ctx.createGain();
      osc.type = 'sine';
      osc.frequency.value = freq;
      gain.gain.setValueAtTime(0.0001, now + at);
      gain.gain.exponentialRampToValueAtTime(0.25, now + at + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, now + at + 0.35);
      osc.connect(gain).connect(ctx.destination);
      osc.start(now + at);
      osc.stop(now + at + 0.4);
    }
  }

  get notificationsSupported() { return 'Notification' in window; }
  get notificationPermission() { return this.notificationsSupported ? Notification.permission : 'denied'; }

  /** Must run inside a click handler: browsers ignore permission requests without a gesture. */
  async requestNotifications() {
    if (!this.notificationsSupported) return 'denied';
    try { return await Notification.requestPermission(); } catch { return 'denied'; }
  }

  /** A desktop notification, only while the panel is not in front (in front the sound and list suffice). */
  notify(title, body, tag, onClick) {
    if (this.notificationPermission !== 'granted' || (document.visibilityState === 'visible' && document.hasFocus())) return;
    try {
      const n = new Notification(title, { body: body.slice(0, 180), tag, renotify: true, silent: true });
      this.stats.notifications += 1;
      n.onclick = () => { window.focus(); onClick?.(); n.close(); };
    } catch { /* some browsers allow notifications only from a service worker */ }
  }

  /** Counts shown in the title and the favicon. */
  setCounts({ waiting, unread }) {
    const changed = waiting !== this.waiting || unread !== this.unread;
    this.waiting = waiting;
    this.unread = unread;
    if (changed) this._render();
  }

  setBaseTitle(title) { this.baseTitle = title; this._render(); }

  _title() {
    if (this.waiting > 0) return `(${this.waiting}) ${t('title.newChat')} — frontdesk`;
    if (this.unread > 0) return `(${this.unread}) ${t('title.newMessage')} — frontdesk`;
    return `${this.baseTitle} — frontdesk`;
  }

  _render() {
    const background = document.visibilityState !== 'visible' || !document.hasFocus();
    const blink = background && this.waiting > 0;
    if (blink && !this.blinkTimer) {
      this.blinkTimer = setInterval(() => { this.blinkOn = !this.blinkOn; this._paintTitle(); }, BLINK_MS);
    } else if (!blink && this.blinkTimer) {
      clearInterval(this.blinkTimer);
      this.blinkTimer = null;
      this.blinkOn = false;
    }
    this._paintTitle();
    this._paintFavicon(this.waiting || this.unread, this.waiting > 0 ? '#d1242f' : '#0969da');
  }

  _paintTitle() {
    const title = this.blinkOn ? `🔔 ${t('title.newChat')} (${this.waiting})` : this._title();
    if (document.title !== title) document.title = title;
  }

  _paintFavicon(count, badgeColor) {
    const key = `${count}:${badgeColor}`;
    if (this._faviconKey === key) return;
    this._faviconKey = key;
    const size = 32;
    const canvas = document.createElement('canvas');
    canvas.width = canvas.height = size;
    const g = canvas.getContext('2d');
    if (!g) return;
    // speech bubble
    g.fillStyle = '#1f6feb';
    g.beginPath();
    g.roundRect ? g.roundRect(2, 4, 26, 20, 6) : g.rect(2, 4, 26, 20);
    g.fill();
    g.beginPath();
    g.moveTo(8, 22); g.lineTo(6, 30); g.lineTo(15, 23); g.closePath(); g.fill();
    g.fillStyle = '#ffffff';
    for (const x of [9, 15, 21]) { g.beginPath(); g.arc(x, 14, 2, 0, Math.PI * 2); g.fill(); }
    if (count > 0) {
      const text = count > 9 ? '9+' : String(count);
      g.fillStyle = badgeColor;
      g.beginPath(); g.arc(23, 9, 9, 0, Math.PI * 2); g.fill();
      g.fillStyle = '#ffffff';
      g.font = `bold ${text.length > 1 ? 11 : 13}px system-ui, sans-serif`;
      g.textAlign = 'center';
      g.textBaseline = 'middle';
      g.fillText(text, 23, 10);
    }
    if (!this.favicon) {
      this.favicon = document.createElement('link');
      this.favicon.rel = 'icon';
      document.head.appendChild(this.favicon);
    }
    this.favicon.href = canvas.toDataURL('image/png');
    this.favicon.dataset.count = String(count);
  }
}
