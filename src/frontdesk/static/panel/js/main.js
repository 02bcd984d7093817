// The panel's entry point: who am I, the top bar, the socket, and which page is shown.
import { api, setCsrfToken, setUnauthorizedHandler } from './api.js';
import { guessLanguage, setLanguage, t } from './i18n.js';
import { clear, h, icon, setServerTime, toast } from './dom.js';
import { Alerts } from './alerts.js';
import { Connection, State } from './connection.js';
import { Store } from './store.js';
import { Workplace } from './workplace.js';
import { explain } from './errors.js';
import { renderHistory, renderOperators, renderProfile, renderSites } from './admin.js';
import { renderPhrases } from './phrases.js';
import { renderReports } from './reports.js';
import { renderInvitations } from './invitations.js';
import { renderVisitors, VisitorCard, VisitorsLive } from './visitors.js';
import { renderBans } from './bans.js';

const STATUSES = ['online', 'away', 'offline'];
// The menu, in order: one line per page (data-testid "nav-<key after 'nav.'>"). On wide screens the
// pages that do not fit in the top bar go to its "Ещё" list (_fitNav); below 1180 px all are in the drawer.
const PAGES = {
  '/panel/': { key: 'nav.chats' },
  '/panel/phrases': { key: 'nav.phrases', render: renderPhrases },
  '/panel/visitors': { key: 'nav.visitors', render: (root, ctx) => renderVisitors(root, ctx.visitors, ctx.store, ctx.openConversationId) },
  '/panel/history': { key: 'nav.history', render: renderHistory },
  '/panel/reports': { key: 'nav.reports', render: renderReports },
  '/panel/invitations': { key: 'nav.invitations', render: renderInvitations },
  '/panel/sites': { key: 'nav.sites', render: renderSites, admin: true },
  '/panel/operators': { key: 'nav.operators', render: renderOperators, admin: true },
  '/panel/bans': { key: 'nav.bans', render: renderBans },
  '/panel/profile': { key: 'nav.profile', render: renderProfile },
};

function toLogin(reason) {
  const next = location.pathname + location.search + location.hash;   // the hash: a link to a conversation
  const q = new URLSearchParams({ next });
  if (reason) q.set('reason', reason);
  location.replace(`/panel/login?${q}`);
}

/** Phones: the page is as tall as the visible part of the screen, so the on-screen keyboard pushes
 * the composer up instead of covering it (browsers that resize the layout viewport need nothing). */
function followVisualViewport() {
  const vv = window.visualViewport;
  if (!vv) return;
  const apply = () => {
    document.documentElement.style.setProperty('--app-height', `${Math.round(vv.height)}px`);
    if (vv.offsetTop > 0 && document.body.classList.contains('panel')) window.scrollTo(0, 0);
  };
  vv.addEventListener('resize', apply);
  vv.addEventListener('scroll', apply);
  apply();
}

async function boot() {
  setLanguage(guessLanguage());
  let me;
  try {
    me = await api('GET', '/me', undefined, { redirectOn401: false });
  } catch (err) {
    if (err.status === 401) { toLogin(); return; }
    document.body.append(h('div', { class: 'fatal' }, t('login.network')));
    setTimeout(boot, 3_000);
    return;
  }
  setCsrfToken(me.csrf_token);
  setLanguage(me.operator.language);
  followVisualViewport();
  setUnauthorizedHandler(() => toLogin('ended'));
  new Panel(me).start();
}

class Panel {
  constructor(me) {
    this.me = me.operator;
    this.info = me;
    this.store = new Store(this.me);
    this.alerts = new Alerts();
    this.topbar = h('header', { class: 'topbar' });
    this.strip = h('div', { class: 'strip', hidden: true, testid: 'connection-banner', role: 'status' });
    // away/offline: what it means for visitors, and the one click that fixes it
    this.statusHintText = h('span', { class: 'strip__text' });
    this.goOnline = h('button', { type: 'button', class: 'btn btn--small btn--primary strip__action', testid: 'go-online',
      onclick: () => this._setStatus('online') });
    this.statusHint = h('div', { class: 'strip strip--hint', hidden: true, testid: 'status-hint', role: 'status' },
      this.statusHintText, this.goOnline);
    this.workplaceRoot = h('main', { class: 'view view--workplace' });
    this.pageRoot = h('main', { class: 'view view--page', hidden: true });
    clear(document.body).append(this.topbar, this.strip, this.statusHint, this.workplaceRoot, this.pageRoot);
    this.workplace = new Workplace(this.workplaceRoot, this.store, this.alerts,
      { maxChars: me.settings?.max_message_chars || 4000 });
    // visitor context (visitors.js): the live visitors list and the visit part of the visitor card
    this.visitors = new VisitorsLive();
    this.workplace.card = new VisitorCard(this.visitors, {
      onData: (id) => { if (id == null || this.workplace._active()?.data.visitor?.id === id) this.workplace._renderVisitor(); },
      openConversation: (c) => this._openFromHistory(c),
    });
    this.connection = new Connection({
      resume: () => this.store.resume(),
      onFrame: (frame) => {
        if (frame.type === 'ping') setServerTime(frame.t);
        if (frame.type === 'visitor.updated') this._visitorFrame(frame);
        this.store.onFrame(frame);
      },
      onState: (state) => this.store.onConnState(state),
      onUnauthorized: () => this._stillLoggedIn(),
    });
    this.store.conn = this.connection;
    this.store.addEventListener('change', (e) => {
      if (e.detail.status || e.detail.welcome) { this.me = { ...this.me, ...this.store.me }; this._renderStatus(); }
      if (e.detail.connection) this._renderConnection();
    });
    window.frontdeskPanel = { panel: this, store: this.store, alerts: this.alerts, connection: this.connection, stats: this.alerts.stats };
    document.addEventListener('click', (e) => this._navigate(e));
    window.addEventListener('popstate', () => this.route());
    window.addEventListener('hashchange', () => this._openFromHash());
    document.addEventListener('keydown', (e) => {
      if (e.key === 'Escape' && document.body.classList.contains('menu-open')) { this._toggleMenu(false); this.menuButton.focus(); }
      if (e.key === 'Escape' && this.moreList && !this.moreList.hidden) { this._toggleMore(false); this.moreButton.focus(); }
    });
    // the "Ещё" list closes on a click anywhere else; the row is fitted again when the bar changes width
    document.addEventListener('mousedown', (e) => { if (this.more && !this.more.contains(e.target)) this._toggleMore(false); });
    this.drawerQuery = window.matchMedia('(max-width: 1179.98px)');
    this.drawerQuery.addEventListener('change', () => this._fitNav());
    let fitting = 0;
    window.addEventListener('resize', () => { cancelAnimationFrame(fitting); fitting = requestAnimationFrame(() => this._fitNav()); });
  }

  start() {
    this._renderTopbar();
    this._renderConnection();
    this.connection.start();
    this.route();
    this._openFromHash();
  }

  /** visitor.updated: the visitors list, and the current page of that visitor's conversations. */
  _visitorFrame(frame) {
    this.visitors.onFrame(frame);
    const v = frame.visitor;
    for (const conv of this.store.convs.values()) {
      const cv = conv.data.visitor;
      if (cv?.id !== v.id || (cv.page_url === v.page_url && cv.page_title === v.page_title)) continue;
      conv.data = { ...conv.data, visitor: { ...cv, page_url: v.page_url, page_title: v.page_title } };
      this.store.changed({ conv: conv.id });
    }
  }

  async _openConversationId(id) {
    try {
      if (!this.store.convs.has(id)) await this.store.fetchConversation(id);
    } catch (err) {
      toast(explain(err), 'error');
      return;
    }
    this.go('/panel/');
    this.workplace.open(id);
  }

  /** /panel/#/conversations/41 — the link in e-mail notifications: open that conversation. */
  async _openFromHash() {
    const m = /^#\/conversations\/(\d{1,18})$/.exec(location.hash);
    if (!m) return;
    const id = Number(m[1]);
    history.replaceState(null, '', location.pathname + location.search);
    try {
      if (!this.store.convs.has(id)) await this.store.fetchConversation(id);
    } catch (err) {
      toast(err.status === 404 ? t('conv.notFound', { id }) : explain(err), 'error');
      return;
    }
    if (location.pathname.replace(/\/+$/, '') !== '/panel') this.go('/panel/');
    this.workplace.open(id);
  }

  async _stillLoggedIn() {
    try {
      await api('GET', '/me', undefined, { redirectOn401: false });
      return true;
    } catch (err) {
      if (err.status === 401) { toLogin('ended'); return false; }
      return true;   // the server is away, not our session: keep retrying
    }
  }

  // --- top bar ----------------------------------------------------------------------------

  _renderTopbar() {
    const admin = this.me.role === 'admin';
    this.navLinks = Object.entries(PAGES).filter(([, p]) => !p.admin || admin)
      .map(([path, p]) => h('a', { href: path, class: 'nav__link', 'data-route': path, testid: `nav-${p.key.split('.')[1]}` }, t(p.key)));
    this.nav = h('nav', { class: 'nav', 'aria-label': t('nav.menu') }, ...this.navLinks);
    // wide screens: what does not fit in the row (any number of pages) is one click away under "Ещё"
    this.moreList = h('div', { class: 'nav-more__list', id: 'nav-more-list', testid: 'nav-more-list', hidden: true });
    this.moreButton = h('button', { type: 'button', class: 'nav-more__button', testid: 'nav-more', 'aria-haspopup': 'true',
      'aria-expanded': 'false', 'aria-controls': 'nav-more-list', onclick: () => this._toggleMore() },
    h('span', {}, t('nav.more')), h('span', { class: 'nav-more__caret', 'aria-hidden': 'true' }));
    this.more = h('div', { class: 'nav-more', hidden: true }, this.moreButton, this.moreList);
    this.statusDot = h('span', { class: 'dot', 'aria-hidden': 'true' });
    this.statusSelect = h('select', {
      testid: 'operator-status', class: 'status__select', 'aria-label': t('status.label'),
      onchange: () => this._setStatus(this.statusSelect.value),
    }, ...STATUSES.map((s) => h('option', { value: s }, t(`status.${s}`))));
    this.soundButton = h('button', { type: 'button', class: 'btn btn--ghost icon-btn', testid: 'sound-toggle', onclick: () => {
      this.alerts.setMuted(!this.alerts.muted);
      if (!this.alerts.muted) this.alerts.play('message');
      this._renderSound();
    } });
    this.notifyButton = h('button', { type: 'button', class: 'btn btn--small', testid: 'notify-enable', onclick: async () => {
      await this.alerts.requestNotifications();
      this._renderNotify();
    } });
    this.avatar = h('span', { class: 'avatar' });
    // Wide screens: one row. Below 1180 px (an admin's five pages no longer fit) the menu button opens
    // .topbar__menu as a drawer (pages, profile, sound, sign-out); the brand and the status stay in the bar.
    this.menuButton = h('button', { type: 'button', class: 'btn btn--ghost icon-btn topbar__burger', testid: 'menu-toggle',
      'aria-label': t('nav.menu'), 'aria-expanded': 'false', 'aria-controls': 'panel-menu', onclick: () => this._toggleMenu() }, icon('menu', 20));
    this.menu = h('div', { class: 'topbar__menu', id: 'panel-menu', testid: 'menu' },
      h('div', { class: 'menu__head' },
        h('span', { class: 'menu__title' }, t('nav.menu')),
        h('button', { type: 'button', class: 'btn btn--ghost icon-btn', 'aria-label': t('nav.closeMenu'), onclick: () => this._toggleMenu(false) }, icon('close'))),
      this.nav,
      this.more,
      h('div', { class: 'topbar__right' },
        this.notifyButton,
        this.soundButton,
        h('button', { type: 'button', class: 'btn btn--ghost icon-btn topbar__help', title: t('nav.help'), 'aria-label': t('nav.help'),
          onclick: () => this.workplace.toggleHelp(true) }, icon('help')),
        h('a', { href: '/panel/profile', 'data-route': '/panel/profile', class: 'me', title: this.me.name }, this.avatar,
          h('span', { class: 'me__name', testid: 'me-name' }, this.me.name)),
        h('button', { type: 'button', class: 'btn btn--ghost topbar__logout', testid: 'logout', onclick: () => this._logout() }, t('nav.logout'))));
    this.menuBackdrop = h('div', { class: 'menu-backdrop', onclick: () => this._toggleMenu(false) });
    clear(this.topbar).append(
      this.menuButton,
      h('a', { href: '/panel/', class: 'brand', 'data-route': '/panel/' }, h('span', { class: 'brand__mark', 'aria-hidden': 'true' }), 'frontdesk'),
      this.menu,
      this.menuBackdrop,
      h('label', { class: 'status' }, this.statusDot, this.statusSelect));
    this._renderStatus();
    this._renderSound();
    this._renderNotify();
    this._renderAvatar();
    this._markNav();
    this._fitNav();
  }

  /** Wide screens: as many pages as fit in the row, in order; the rest in the "Ещё" list. Below
   * 1180 px (the drawer) every page is in the drawer's list. Run again when anything in the bar
   * changes width (window, status, language, the notifications button). */
  _fitNav() {
    if (!this.nav) return;
    this._toggleMore(false);
    for (const a of this.navLinks) this.nav.append(a);   // back in the row, in order
    this.more.hidden = true;
    const fits = () => this.nav.scrollWidth <= this.nav.clientWidth + 1;
    if (this.drawerQuery.matches || fits()) { this._markNav(); return; }
    this.more.hidden = false;
    for (let i = this.navLinks.length - 1; i > 0 && !fits(); i--) this.moreList.prepend(this.navLinks[i]);
    this._markNav();
  }

  _toggleMore(open = !!this.moreList?.hidden) {
    if (!this.moreList) return;
    this.moreList.hidden = !open;
    this.moreButton.setAttribute('aria-expanded', String(open));
    if (open) this.moreList.querySelector('.nav__link')?.focus();
  }

  _toggleMenu(open = !document.body.classList.contains('menu-open')) {
    document.body.classList.toggle('menu-open', open);
    this.menuButton.setAttribute('aria-expanded', String(open));
    if (open) this.menu.querySelector('.nav__link--on, .nav__link')?.focus();
  }

  _renderAvatar() {
    clear(this.avatar);
    if (this.me.photo_url) this.avatar.append(h('img', { src: this.me.photo_url, alt: '' }));
    else this.avatar.textContent = (this.me.name || '?').slice(0, 1).toUpperCase();
  }

  _renderStatus() {
    const status = this.store.status;
    this.statusSelect.value = status;
    this.statusDot.className = `dot dot--${status}`;
    this.statusSelect.className = `status__select status__select--${status}`;
    this.statusHint.hidden = status === 'online';
    this.statusHintText.textContent = status === 'away' ? t('conn.awayHint') : status === 'offline' ? t('conn.offlineHint') : '';
    this.goOnline.textContent = status === 'away' ? t('conn.backOnline') : t('conn.goOnline');
    this.statusHint.dataset.status = status;
    this._fitNav();   // "не в сети" is wider than "в сети"
  }

  _renderSound() {
    const muted = this.alerts.muted;
    this.soundButton.replaceChildren(icon(muted ? 'bellOff' : 'bell'));
    this.soundButton.title = muted ? t('nav.sound.off') : t('nav.sound.on');
    this.soundButton.setAttribute('aria-label', this.soundButton.title);
    this.soundButton.setAttribute('aria-pressed', String(!muted));
  }

  _renderNotify() {
    const p = this.alerts.notificationPermission;
    this.notifyButton.hidden = !this.alerts.notificationsSupported || p === 'granted' || p === 'denied';
    this.notifyButton.textContent = t('nav.notify');
    this._fitNav();
  }

  _renderConnection() {
    const state = this.store.connState;
    const text = state === State.CONNECTING ? t('conn.connecting') : state === State.RECONNECTING ? t('conn.reconnecting')
      : state === State.FORBIDDEN ? t('conn.forbidden') : '';
    this.strip.hidden = !text;
    this.strip.textContent = text;
    this.strip.dataset.state = state;
    document.body.dataset.connection = state;
  }

  async _setStatus(status) {
    try {
      await this.store.setStatus(status);
    } catch (err) {
      toast(explain(err), 'error');
    }
  }

  async _logout() {
    try { await api('POST', '/auth/logout'); } catch { /* gone anyway */ }
    this.connection.stop();
    location.replace('/panel/login');
  }

  // --- pages ------------------------------------------------------------------------------

  _navigate(e) {
    const a = e.target instanceof Element ? e.target.closest('a[data-route]') : null;
    if (!a || e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
    e.preventDefault();
    this._toggleMenu(false);
    this._toggleMore(false);
    if (location.pathname !== a.getAttribute('href')) history.pushState(null, '', a.getAttribute('href'));
    this.route();
  }

  go(path) {
    history.pushState(null, '', path);
    this.route();
  }

  async route() {
    let path = location.pathname.replace(/\/+$/, '') || '/panel';
    if (path === '/panel') path = '/panel/';
    const page = PAGES[path] || PAGES['/panel/'];
    this._markNav();
    this.alerts.setBaseTitle(t(page.key));
    const onWorkplace = !page.render;
    this.workplaceRoot.hidden = !onWorkplace;
    this.pageRoot.hidden = onWorkplace;
    if (onWorkplace) return;
    if (page.admin && this.me.role !== 'admin') {
      clear(this.pageRoot).append(h('div', { class: 'page' }, h('p', {}, t('err.forbidden'))));
      return;
    }
    const ctx = {
      me: this.me,
      smtpEnabled: this.info.smtp_enabled,
      photoMaxBytes: this.info.settings?.photo_max_bytes || null,   // unknown: the server's 413 answers
      openConversation: (c) => this._openFromHistory(c),
      visitors: this.visitors, store: this.store, openConversationId: (id) => this._openConversationId(id),
      updateMe: (op) => { this.me = { ...this.me, ...op }; this.store.me = { ...this.store.me, ...op }; this._renderAvatar(); this.topbar.querySelector('[data-testid="me-name"]').textContent = this.me.name; this._fitNav(); },
      docsUrl: '/#email',
      relabel: () => this.relabel(),
    };
    try {
      await page.render(this.pageRoot, ctx);
    } catch (err) {
      clear(this.pageRoot).append(h('div', { class: 'page' }, h('p', { class: 'form-status form-status--error' }, explain(err))));
    }
  }

  _markNav() {
    let path = location.pathname.replace(/\/+$/, '') || '/panel';
    if (path === '/panel') path = '/panel/';
    for (const a of this.topbar.querySelectorAll('.nav__link')) {
      a.classList.toggle('nav__link--on', a.getAttribute('href') === path);
      if (a.getAttribute('href') === path) a.setAttribute('aria-current', 'page'); else a.removeAttribute('aria-current');
    }
    this.moreButton?.classList.toggle('nav-more__button--on', !!this.moreList.querySelector('.nav__link--on'));
  }

  _openFromHistory(data) {
    const conv = this.store._conv(data);
    this.go('/panel/');
    this.workplace.open(conv.id);
  }

  /** The language changed: every label again. */
  relabel() {
    this._renderTopbar();
    this._renderConnection();
    this.workplace.relabel();
    this.route();
  }
}

boot();
