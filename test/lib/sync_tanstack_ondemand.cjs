// A TanStack DB collection in on-demand sync mode on electric-shapes-sync, with a live query
// over it, as an application makes them: the collection syncs changes only (log=changes_only,
// offset=now) and the live query loads the rows it needs as subset snapshots. Each time the live
// query's result changes it writes its rows to <outdir>/<name>.rows ("id|col|..." lines sorted by
// id); each request's URL goes to <outdir>/<name>.requests.
//
// Usage: node sync_tanstack_ondemand.cjs <shape url> <outdir> '<json {name, columns, params, grp}>'
const fs = require('fs');
const path = require('path');
const { createCollection, createLiveQueryCollection, eq } = require('@tanstack/db');
const { electricCollectionOptions } = require('@tanstack/electric-db-collection');

const [url, outdir, spec] = process.argv.slice(2);
const { name, columns, params, grp } = JSON.parse(spec);
const fail = (error) => {
  console.error(`${name}: ${error && (error.stack || error.message || error)}`);
  process.exit(1);
};

const collection = createCollection(
  electricCollectionOptions({
    id: name,
    syncMode: 'on-demand',
    shapeOptions: {
      url,
      params,
      onError: fail,
      fetchClient: (input, init) => {
        fs.appendFileSync(path.join(outdir, `${name}.requests`), `${(init && init.method) || 'GET'} ${input}\n`);
        return fetch(input, init);
      },
    },
    getKey: (row) => row.id,
  }),
);
const live = createLiveQueryCollection({
  query: (q) => q.from({ item: collection }).where(({ item }) => eq(item.grp, grp)),
});

function writeRows() {
  const lines = live.toArray
    .map((row) => columns.map((c) => String(row[c])).join('|'))
    .sort((a, b) => Number(a.split('|')[0]) - Number(b.split('|')[0]));
  const file = path.join(outdir, `${name}.rows`);
  fs.writeFileSync(`${file}.tmp`, lines.map((l) => `${l}\n`).join(''));
  fs.renameSync(`${file}.tmp`, file);
}
live.subscribeChanges(writeRows, { includeInitialState: true });
live.preload().then(writeRows, fail);
process.on('SIGTERM', () => process.exit(0));
