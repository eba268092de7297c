// The demo's web client: the official @electric-sql/client, unchanged, following one shape
// through electric-shapes-sync, as a chat app's browser tab would. It prints every change it
// receives ("client: insert {...}") and, after each up-to-date, writes the rows it holds to a
// file ("id|body" lines ordered by id), which test/demo compares with the shape's query.
//
// Usage: node demo_client.cjs <shape url> <rows file> '<json params>'
const fs = require('fs');
const { ShapeStream, Shape } = require('@electric-sql/client');

const [url, rowsFile, params] = process.argv.slice(2);
// The client parses int8 columns (the messages' ids) as BigInt, which JSON.stringify refuses.
const text = (key, value) => (typeof value === 'bigint' ? value.toString() : value);
const stream = new ShapeStream({ url, params: JSON.parse(params) });
const shape = new Shape(stream);

stream.subscribe(
  (messages) => {
    for (const m of messages)
      if (m.headers.operation) console.log(`client: ${m.headers.operation} ${JSON.stringify(m.value, text)}`);
  },
  (error) => {
    console.error(`client: ${error && (error.stack || error.message || error)}`);
    process.exit(1);
  },
);
function write(rows) {
  const lines = rows
    .map((r) => `${r.id}|${r.body}\n`)
    .sort((a, b) => Number(a.split('|')[0]) - Number(b.split('|')[0]));
  fs.writeFileSync(`${rowsFile}.tmp`, lines.join(''));
  fs.renameSync(`${rowsFile}.tmp`, rowsFile);
}
shape.subscribe(({ rows }) => write(rows));
shape.rows.then(write);
process.on('SIGTERM', () => process.exit(0));
