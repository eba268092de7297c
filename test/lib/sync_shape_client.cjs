// A client of electric-shapes-sync built on the official @electric-sql/client (ShapeStream and
// Shape, unchanged): it follows the shapes given and, each time a shape's rows change after an
// up-to-date, writes them to <outdir>/<name>.rows, one "id|col|..." line per row sorted by id,
// so the TAP tests compare them with the shape's query. An error the client reports ends the
// process with status 1.
//
// Usage: node sync_shape_client.cjs <shape url> <outdir> '<json [{name, columns, params}]>'
const fs = require('fs');
const path = require('path');
const { ShapeStream, Shape } = require('@electric-sql/client');

const [url, outdir, spec] = process.argv.slice(2);
const shapes = JSON.parse(spec);

function write(name, columns, rows) {
  const lines = rows
    .map((row) => columns.map((c) => String(row[c])).join('|'))
    .sort((a, b) => Number(a.split('|')[0]) - Number(b.split('|')[0]));
  const file = path.join(outdir, `${name}.rows`);
  fs.writeFileSync(`${file}.tmp`, lines.map((l) => `${l}\n`).join(''));
  fs.renameSync(`${file}.tmp`, file);
}

for (const { name, columns, params } of shapes) {
  const stream = new ShapeStream({ url, params });
  stream.subscribe(
    () => {},
    (error) => {
      console.error(`${name}: ${error && (error.stack || error.message || error)}`);
      process.exit(1);
    },
  );
  const shape = new Shape(stream);
  shape.subscribe(({ rows }) => write(name, columns, rows));
  shape.rows.then((rows) => write(name, columns, rows));
}
process.on('SIGTERM', () => process.exit(0));
