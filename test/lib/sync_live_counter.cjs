// Lean live clients that count their responses, for the catch-up pacing test: one client per
// shape `grp = k` (k from 0 to shapes - 1) of a table, each doing the initial sync and then
// live long-polls as the official client does. Every 20 ms, when something changed, it rewrites
// <out> (via a temporary file and a rename) with, per shape: live (up-to-date reached), the
// number of live responses that carried at least one change, and its rows' ids in order (not
// after each response: that would make the clients, not the service, what paces the responses).
//
// Usage: node sync_live_counter.cjs '<shape url>' <table> <shapes> <out>
const fs = require('fs');
const [url, table, shapeCount, out] = process.argv.slice(2);

const state = {};
let dirty = false;

function save() {
  if (!dirty) return;
  dirty = false;
  const doc = {};
  for (const [k, s] of Object.entries(state))
    doc[k] = { live: s.live, responses: s.responses, ids: [...s.rows.keys()].sort((a, b) => a - b) };
  fs.writeFileSync(`${out}.tmp`, JSON.stringify(doc));
  fs.renameSync(`${out}.tmp`, out);
}

async function follow(k) {
  const s = (state[k] = { live: false, responses: 0, rows: new Map() });
  let offset = '-1';
  let handle = null;
  for (;;) {
    const live = s.live ? '&live=true' : '';
    const res = await fetch(
      `${url}?table=${table}&where=${encodeURIComponent(`grp = ${k}`)}&offset=${offset}${handle ? `&handle=${handle}` : ''}${live}`);
    if (res.status !== 200) throw new Error(`shape ${k}: status ${res.status}: ${await res.text()}`);
    handle = res.headers.get('electric-handle');
    offset = res.headers.get('electric-offset');
    let changes = 0;
    for (const m of await res.json()) {
      const op = m.headers && m.headers.operation;
      if (op === 'insert' || op === 'update') s.rows.set(Number(m.value.id), m.value);
      else if (op === 'delete') s.rows.delete(Number(m.value.id));
      else if (m.headers && m.headers.control === 'up-to-date') s.live = true;
      if (op) changes++;
    }
    if (live && changes > 0) s.responses++;
    dirty = true;
  }
}

setInterval(save, 20);
for (let k = 0; k < Number(shapeCount); k++)
  follow(k).catch((e) => {
    console.error(e.message);
    process.exit(1);
  });
