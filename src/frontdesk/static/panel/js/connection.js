// The operator socket (docs/protocol.md § Operator socket): hello with resume,
// heartbeat answers, a watchdog for silent deaths, reconnect with jittered backoff
// and the close-code rules. What to resume and what a frame means is the store's job.

const BACKOFF_FIRST_MS = 500;
const BACKOFF_MAX_MS = 10_000;     // an operator should be back within seconds of the server
const FLOOD_WAIT_MS = 5_000;       // 4429: the protocol asks for ≥ 5 s
const SILENCE_MS = 50_000;         // no frame for 50 s = dead (server pings every 20 s)

export const State = Object.freeze({
  CONNECTING: 'connecting',     // first connection, nothing shown yet
  OPEN: 'open',                 // welcome received
  RECONNECTING: 'reconnecting', // lost; a retry is scheduled or under way
  FORBIDDEN: 'forbidden',       // 4403: retrying cannot help
  STOPPED: 'stopped',           // logged out
});

export class Connection {
  /**
   * @param {object} opts
   * @param {() => object} opts.resume        conversation id → last seq held, read at every (re)connect
   * @param {(frame: object) => void} opts.onFrame
   * @param {(state: string) => void} opts.onState
   * @param {() => Promise<boolean>} opts.onUnauthorized  4401: true = the session is still good, retry
   */
  constructor({ resume, onFrame, onState, onUnauthorized }) {
    this.resume = resume;
    this.onFrame = onFrame;
    this.onState = onState;
    this.onUnauthorized = onUnauthorized;
    this.state = State.CONNECTING;
    this.ws = null;
    this.attempt = 0;
    this.retryTimer = null;
    this.lastFrameAt = 0;
    this.watchdog = setInterval(() => this._checkSilence(), 5_000);
    window.addEventListener('online', () => { if (this.state === State.RECONNECTING) this._retryNow(); });
  }

  start() { this._open(); }

  stop() {
    this._setState(State.STOPPED);
    clearInterval(this.watchdog);
    clearTimeout(this.retryTimer);
    if (this.ws) { this._detach(this.ws); this.ws.close(1000); this.ws = null; }
  }

  get isOpen() { return this.state === State.OPEN && this.ws?.readyState === WebSocket.OPEN; }

  /** Send now when open; returns false when the frame was not sent (the caller keeps it). */
  send(frame) {
    if (!this.isOpen) return false;
    this.ws.send(JSON.stringify(frame));
    return true;
  }

  _open() {
    clearTimeout(this.retryTimer);
    const url = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws/operator`;
    let ws;
    try {
      ws = new WebSocket(url);
    } catch {
      this._scheduleRetry();
      return;
    }
    this.ws = ws;
    this.lastFrameAt = Date.now();
    ws.onopen = () => {
      this.lastFrameAt = Date.now();
      ws.send(JSON.stringify({ type: 'hello', resume: this.resume() }));
    };
    ws.onmessage = (event) => {
      this.lastFrameAt = Date.now();
      let frame;
      try { frame = JSON.parse(event.data); } catch { return; }
      if (!frame || typeof frame.type !== 'string') return;
      if (frame.type === 'ping') ws.send(JSON.stringify({ type: 'pong' }));
      if (frame.type === 'welcome') { this.attempt = 0; this._setState(State.OPEN); }
      this.onFrame(frame);
    };
    ws.onclose = (event) => this._closed(ws, event.code);
    ws.onerror = () => { /* onclose follows */ };
  }

  async _closed(ws, code) {
    if (ws !== this.ws) return;
    this.ws = null;
    if (this.state === State.STOPPED) return;
    if (code === 4403) { this._setState(State.FORBIDDEN); return; }
    this._setState(State.RECONNECTING);
    if (code === 4401) {
      const stillLoggedIn = await this.onUnauthorized();
      if (!stillLoggedIn) { this.stop(); return; }
    }
    if (code === 4408) { this._retryIn(Math.random() * 250); return; }   // resume at once
    if (code === 4429) { this._retryIn(FLOOD_WAIT_MS + Math.random() * 2_000); return; }
    this._scheduleRetry();
  }

  _scheduleRetry() {
    // "equal jitter": half fixed, half random, so a restarted server is not hit by every panel at once
    const ceiling = Math.min(BACKOFF_MAX_MS, BACKOFF_FIRST_MS * 2 ** this.attempt);
    this.attempt += 1;
    this._retryIn(ceiling / 2 + Math.random() * (ceiling / 2));
  }

  _retryIn(ms) {
    clearTimeout(this.retryTimer);
    this._setState(State.RECONNECTING);
    this.retryTimer = setTimeout(() => this._open(), ms);
  }

  _retryNow() { this._retryIn(0); }

  _checkSilence() {
    if (!this.ws || this.state === State.STOPPED) return;
    if (Date.now() - this.lastFrameAt > SILENCE_MS) {
      // a half-open TCP connection may never fire onclose: drop it ourselves
      const ws = this.ws;
      this._detach(ws);
      this.ws = null;
      try { ws.close(); } catch { /* already closed */ }
      this._setState(State.RECONNECTING);
      this._scheduleRetry();
    }
  }

  _detach(ws) { ws.onopen = ws.onmessage = ws.onclose = ws.onerror = null; }

  _setState(state) {
    if (this.state === state) return;
    this.state = state;
    this.onState(state);
  }
}
