// A client of electric-shapes-sync built on the official @electric-sql/client (ShapeStream and
// Shape, unchanged): it follows the shapes given and, each time a shape's rows change after an
// up-to-date, writes them to <outdir>/<name>.rows, one "id|col|..." line per row sorted by id,
// so the TAP tests compare them with the shape's query, and the shape handle the rows came from
// to <outdir>/<name>.handle (a rotation or a refetch shows as a new handle); each request's URL
// goes to <outdir>/<name>.requests. An error the client reports ends the process with status 1.
//
// Usage: node sync_shape_client.cjs <shape url> <outdir> '<json [{name, columns, params, options}]>'
// (options: more ShapeStream options, e.g. {"liveSse": true})
const fs = require('fs');
const path = require('path');
const { ShapeStream, Shape } = require('@electric-sql/client');

const [url, outdir, spec] = process.argv.slice(2);
const shapes = JSON.parse(spec);

function replace(file, text) {
  fs.writeFileSync(`${file}.tmp`, text);
  fs.renameSync(`${file}.tmp`, file);
}

function write(name, columns, rows, handle) {
  const lines = rows
    .map((row) => columns.map((c) => String(row[c])).join('|'))
    .sort((a, b) => Number(a.split('|')[0]) - Number(b.split('|')[0]));
  // The handle first: once the rows match, the handle they came from is there.
  replace(path.join(outdir, `${name}.handle`), `${handle}\n`);
  replace(path.join(outdir, `${name}.rows`), lines.map((l) => `${l}\n`).join(''));
}

for (const { name, columns, params, options } of shapes) {
  const requests = path.join(outdir, `${name}.requests`);
  const fetchClient = (input, init) => {
    fs.appendFileSync(requests, `${input}\n`);
    return fetch(input, init);
  };
  const stream = new ShapeStream({ url, params, fetchClient, ...(options || {}) });
  stream.subscribe(
    () => {},
    (error) => {
      console.error(`${name}: ${error && (error.stack || error.message || error)}`);
      process.exit(1);
    },
  );
  const shape = new Shape(stream);
  shape.subscribe(({ rows }) => write(name, columns, rows, stream.shapeHandle));
  shape.rows.then((rows) => write(name, columns, rows, stream.shapeHandle));
}
process.on('SIGTERM', () => process.exit(0));
