// A TanStack DB collection on electric-shapes-sync, made as an application makes it
// (createCollection(electricCollectionOptions(...)) from the pinned @tanstack packages). Each
// time the collection changes it writes its rows to <outdir>/<name>.rows ("id|col|..." lines
// sorted by id) like sync_shape_client.cjs. It reads transaction ids, one a line, from
// <outdir>/txids as the test appends them and, for each, writes "<txid> resolved" or
// "<txid> rejected <error name>" to <outdir>/awaited once awaitTxId(txid, 10000) settles.
//
// Usage: node sync_tanstack_client.cjs <shape url> <outdir> '<json {name, columns, params}>'
const fs = require('fs');
const path = require('path');
const { createCollection } = require('@tanstack/db');
const { electricCollectionOptions } = require('@tanstack/electric-db-collection');

const [url, outdir, spec] = process.argv.slice(2);
const { name, columns, params } = JSON.parse(spec);

const collection = createCollection(
  electricCollectionOptions({
    id: name,
    shapeOptions: {
      url,
      params,
      onError: (error) => {
        console.error(`${name}: ${error && (error.stack || error.message || error)}`);
        process.exit(1);
      },
    },
    getKey: (row) => row.id,
  }),
);

function writeRows() {
  const lines = collection.toArray
    .map((row) => columns.map((c) => String(row[c])).join('|'))
    .sort((a, b) => Number(a.split('|')[0]) - Number(b.split('|')[0]));
  const file = path.join(outdir, `${name}.rows`);
  fs.writeFileSync(`${file}.tmp`, lines.map((l) => `${l}\n`).join(''));
  fs.renameSync(`${file}.tmp`, file);
}
collection.subscribeChanges(writeRows, { includeInitialState: true });
collection.preload().then(writeRows);

let seen = 0;
setInterval(() => {
  let text = '';
  try {
    text = fs.readFileSync(path.join(outdir, 'txids'), 'utf8');
  } catch (e) {
    return;
  }
  const lines = text.split('\n').filter((l) => l !== '');
  for (; seen < lines.length; seen++) {
    const txid = Number(lines[seen]);
    collection.utils.awaitTxId(txid, 10000).then(
      () => fs.appendFileSync(path.join(outdir, 'awaited'), `${txid} resolved\n`),
      (error) => fs.appendFileSync(path.join(outdir, 'awaited'), `${txid} rejected ${error && error.name}\n`),
    );
  }
}, 50);
process.on('SIGTERM', () => process.exit(0));
