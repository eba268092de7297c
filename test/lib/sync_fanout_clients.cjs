// Many lean clients doing the initial sync of one shape at once, with the HTTP shape protocol as
// the official client speaks it (offset=-1, then catch-up requests with the handle and offset
// until up-to-date), for the fan-out test through an HTTP cache. All requests start together.
// Prints one JSON object: how many clients finished, how many hold exactly the first client's
// rows, those rows ("id|val" lines sorted by id), the statuses and the cache's x-cache-status
// values seen.
//
// Usage: node sync_fanout_clients.cjs '<shape url with table (and where)>' <clients>
const [url, count] = process.argv.slice(2);

async function sync(statuses, cache) {
  const rows = new Map();
  let offset = '-1';
  let handle = null;
  for (let round = 0; round < 50; round++) {
    const res = await fetch(`${url}&offset=${offset}${handle ? `&handle=${handle}` : ''}`);
    statuses[res.status] = (statuses[res.status] || 0) + 1;
    const status = res.headers.get('x-cache-status') || 'none';
    cache[status] = (cache[status] || 0) + 1;
    if (res.status !== 200) throw new Error(`status ${res.status}: ${await res.text()}`);
    handle = res.headers.get('electric-handle');
    offset = res.headers.get('electric-offset');
    let upToDate = false;
    for (const m of await res.json()) {
      const op = m.headers && m.headers.operation;
      if (op === 'insert') rows.set(m.key, { ...m.value });
      else if (op === 'update') rows.set(m.key, { ...rows.get(m.key), ...m.value });
      else if (op === 'delete') rows.delete(m.key);
      else if (m.headers && m.headers.control === 'up-to-date') upToDate = true;
    }
    if (upToDate) {
      return [...rows.values()]
        .map((r) => `${r.id}|${r.val}`)
        .sort((a, b) => Number(a.split('|')[0]) - Number(b.split('|')[0]));
    }
  }
  throw new Error('no up-to-date after 50 requests');
}

(async () => {
  const statuses = {};
  const cache = {};
  const results = await Promise.allSettled(Array.from({ length: Number(count) }, () => sync(statuses, cache)));
  const done = results.filter((r) => r.status === 'fulfilled').map((r) => r.value);
  const errors = results.filter((r) => r.status === 'rejected').map((r) => String(r.reason));
  const first = done[0] || [];
  const same = done.filter((rows) => rows.join('\n') === first.join('\n')).length;
  console.log(JSON.stringify({ finished: done.length, same, rows: first, statuses, cache, errors: errors.slice(0, 3) }));
})();
