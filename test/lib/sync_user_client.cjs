// A user's client of electric-shapes-sync: the official @electric-sql/client (ShapeStream and
// Shape, unchanged) with the user's token in its headers, as an app in a browser would send it.
// Like sync_shape_client.cjs it writes each shape's rows, after every change, to
// <outdir>/<name>.rows ("id|col|..." sorted by id) and its handle to <name>.handle; when the
// stream reports an error (a 401 or a 403), it writes "<status> <body>" to <name>.error and the
// rows the Shape holds at that moment to <name>.rows (what the app would still show), and that
// shape stops; the others go on.
//
// Usage: node sync_user_client.cjs <shape url> <outdir> '<json [{name, columns, params, token}]>'
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
  replace(path.join(outdir, `${name}.handle`), `${handle}\n`);
  replace(path.join(outdir, `${name}.rows`), lines.map((l) => `${l}\n`).join(''));
}

for (const { name, columns, params, token } of shapes) {
  const stream = new ShapeStream({ url, params, headers: { Authorization: `Bearer ${token}` } });
  const shape = new Shape(stream);
  stream.subscribe(
    () => {},
    (error) => {
      const status = error && error.status !== undefined ? error.status : 'none';
      const body = error && error.json !== undefined ? JSON.stringify(error.json) : String(error && error.message);
      write(name, columns, shape.currentRows, stream.shapeHandle);
      replace(path.join(outdir, `${name}.error`), `${status} ${body}\n`);
    },
  );
  shape.subscribe(({ rows }) => write(name, columns, rows, stream.shapeHandle));
  shape.rows.then((rows) => write(name, columns, rows, stream.shapeHandle)).catch(() => {});
}
process.on('SIGTERM', () => process.exit(0));
