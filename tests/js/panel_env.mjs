// What the panel's store.js needs from a browser, for node: document.visibilityState and
// cookie, localStorage, fetch (answers from `routes`, else a network error). Import this
// before store.js; then `await import(PANEL_JS + 'store.js')`.
export const storage = new Map();
export const routes = new Map();   // "GET /api/v1/conversations/4" → JSON body
export const requests = [];

globalThis.document = { visibilityState: 'visible', cookie: '', documentElement: {} };
globalThis.localStorage = {
  getItem: (k) => (storage.has(k) ? storage.get(k) : null),
  setItem: (k, v) => storage.set(k, String(v)),
  removeItem: (k) => storage.delete(k),
};
globalThis.fetch = async (url, init = {}) => {
  const key = `${init.method || 'GET'} ${url}`;
  requests.push(key);
  if (!routes.has(key)) throw new TypeError(`no route for ${key}`);
  const body = routes.get(key);
  return { ok: true, status: 200, statusText: 'OK', json: async () => body };
};

/** A socket stand-in: what the store sends. */
export function fakeConn() {
  const sent = [];
  return { sent, send: (frame) => { sent.push(frame); return true; } };
}

/** What the conversation list shows, as plain data: the open conversations (waiting, mine,
 * all) with what a row displays, and the tab counts. Unread counts are left out: a fresh
 * fetch cannot know what this tab has read. */
export function listView(store) {
  const rows = [...store.convs.values()]
    .filter((c) => c.data.status === 'open')
    .sort((a, b) => a.id - b.id)
    .map((c) => ({
      id: c.id,
      status: c.data.status,
      assignee: c.data.assignee ? c.data.assignee.id : null,
      waiting: store.isWaiting(c),
      mine: store.isMine(c),
      last_seq: c.data.last_seq || 0,
      last_message: c.data.last_message
        ? { seq: c.data.last_message.seq, kind: c.data.last_message.kind, text: c.data.last_message.text } : null,
      created_at: c.data.created_at,
      last_message_at: c.data.last_message_at || null,
      closed_at: c.data.closed_at || null,
      is_offline: !!c.data.is_offline,
    }));
  const { waiting, mine, all } = store.counts();
  return { rows, counts: { waiting, mine, all } };
}

/** Replays a recorded operator-socket session into a Store: the first welcome and every frame,
 * and a second Store from the fresh welcome. Returns both list views. */
export async function replay(Store, rec) {
  const storeFrom = (welcome) => {
    const s = new Store(rec.me);
    s.conn = fakeConn();
    s.onFrame(welcome);
    return s;
  };
  const live = storeFrom(rec.welcome);
  for (const frame of rec.frames) live.onFrame(frame);
  await new Promise((r) => setTimeout(r, 20));   // a fetch the store may start fails here: settled
  const fresh = storeFrom(rec.fresh);
  return { live, got: listView(live), want: listView(fresh) };
}
