// The clients and the writer of test/bench/sync (see there for what is measured and why). One
// Node process: it writes through psql, follows shapes through electric-shapes-sync with either
// the official @electric-sql/client ShapeStream ("real") or a lean long-poll client that speaks
// the same HTTP protocol with nothing else on top ("lean"), and prints the figures.
//
// Every change written carries the writer's clock (CLOCK_MONOTONIC through process.hrtime, in ms)
// in its body, taken just before the statement is handed to psql; a client that receives it
// subtracts that from its own reading of the same clock (the native clients, another process,
// read CLOCK_MONOTONIC too), so a latency is "from the write being sent until a client has parsed
// the change": the commit and the network hop are included.
//
// Settings come from the environment (test/bench/sync sets them):
//   SHAPE_URL      the service's /v1/shape
//   PSQL           psql with the arguments to reach the bench database, as a JSON array
//   RECVLOGICAL    pg_recvlogical with the arguments to reach the bench database, as a JSON array
//   PGBENCH        pgbench with the arguments to reach the bench database, as a JSON array
//   SERVICE_PID    the service's process id (its resident memory is read from /proc)
//   NATIVE_CLIENTS the built test/bench/sync_native_clients.cpp
//   FANOUT_FLOOR   the built test/bench/sync_fanout_floor.cpp
//   SERVICE_LOG    the service's log (JSON lines): the initial sync reads when it created a shape
//   BENCH_QUICK    1: fewer writes and client counts, for a smoke run
//   BENCH_CLIENTS  the latency part's clients, comma-separated (default
//                  native,native-sse,lean,real; -sse: the same client live on server-sent events)
//   BENCH_COUNTS   the latency part's numbers of clients, comma-separated (default 1,100,1000)
//   BENCH_THROUGHPUT_CLIENT  the throughput part's clients: native (default) or lean
//   RESULTS        file the markdown tables are written to
'use strict';
const http = require('http');
const fs = require('fs');
const os = require('os');
const { spawn, spawnSync } = require('child_process');

const SHAPE_URL = new URL(process.env.SHAPE_URL);
const PSQL = JSON.parse(process.env.PSQL);
const RECVLOGICAL = JSON.parse(process.env.RECVLOGICAL);
const PGBENCH = JSON.parse(process.env.PGBENCH);
const SERVICE_PID = Number(process.env.SERVICE_PID);
const SERVICE_LOG = process.env.SERVICE_LOG;
const QUICK = process.env.BENCH_QUICK === '1';
const RESULTS = process.env.RESULTS;
const NATIVE_CLIENTS = process.env.NATIVE_CLIENTS;
const FANOUT_FLOOR = process.env.FANOUT_FLOOR;
const PARTS = (process.env.BENCH_PARTS || 'latency,throughput,initial,idle').split(',');
const KINDS = (process.env.BENCH_CLIENTS || 'native,native-sse,lean,real').split(',');
const TPUT_CLIENT = process.env.BENCH_THROUGHPUT_CLIENT || 'native';

const now = () => Number(process.hrtime.bigint()) / 1e6;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
let md = '';
function say(line = '') {
  console.log(line);
  md += line + '\n';
}

// --- psql as a writer: statements on its stdin, each followed by an \echo the promise waits for.

class Writer {
  constructor() {
    this.proc = spawn(PSQL[0], [...PSQL.slice(1), '-X', '-q', '-At', '-v', 'ON_ERROR_STOP=1'], {
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    this.waiting = [];
    this.buffer = '';
    this.outputs = [];
    this.n = 0;
    this.proc.stdout.setEncoding('utf8');
    this.proc.stdout.on('data', (d) => {
      this.buffer += d;
      let i;
      while ((i = this.buffer.indexOf('\n')) >= 0) {
        const line = this.buffer.slice(0, i);
        this.buffer = this.buffer.slice(i + 1);
        const m = /^__done (\d+)$/.exec(line);
        if (m) {
          const w = this.waiting.shift();
          w.resolve(this.outputs);
          this.outputs = [];
        } else {
          this.outputs.push(line);
        }
      }
    });
    this.proc.on('exit', (code) => {
      for (const w of this.waiting) w.reject(new Error(`psql exited with ${code}`));
      this.waiting = [];
    });
  }
  // Sends sql; resolves with the lines it printed once psql has run it.
  exec(sql) {
    return new Promise((resolve, reject) => {
      this.waiting.push({ resolve, reject });
      // Without a semicolon psql would keep the statement in its buffer and only echo.
      const statement = /;\s*$/.test(sql) ? sql : `${sql};`;
      this.proc.stdin.write(`${statement}\n\\echo __done ${++this.n}\n`);
    });
  }
  async value(sql) {
    const lines = await this.exec(sql);
    return lines[0];
  }
  close() {
    this.proc.stdin.end();
  }
}

// --- The lean client: GET /v1/shape as Electric's clients send it, long-polls with live=true,
// the handle, the offset and the cursor of the last response. onMessages(messages, t) is called
// with each response's messages and the time its body was parsed.

const agent = new http.Agent({ keepAlive: true, maxSockets: Infinity, maxFreeSockets: Infinity });

function get(query, { timeout = 120000, onRequest } = {}) {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        agent,
        host: SHAPE_URL.hostname,
        port: SHAPE_URL.port,
        path: `${SHAPE_URL.pathname}?${query}`,
        method: 'GET',
        timeout,
      },
      (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error('request timed out')));
    req.on('error', reject);
    if (onRequest) onRequest(req);
    req.end();
  });
}

// Shape responses the service has answered so far (its /metrics counter): how many responses a
// workload's changes took, which the service's CPU per change depends on as much as its cost per
// response does (a client that lags gets several changes in one).
function shapeResponses() {
  return new Promise((resolve, reject) => {
    http.get({ host: SHAPE_URL.hostname, port: SHAPE_URL.port, path: '/metrics' }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c) => (body += c));
      res.on('end', () => {
        let total = 0;
        for (const m of body.matchAll(/http_requests_total\{[^}]*route="\/v1\/shape"[^}]*\} (\d+)/g)) total += Number(m[1]);
        resolve(total);
      });
      res.on('error', reject);
    }).on('error', reject);
  });
}

function shapeQuery(params) {
  const q = new URLSearchParams();
  q.set('table', params.table);
  if (params.where) q.set('where', params.where);
  (params.params || []).forEach((v, i) => q.set(`params[${i + 1}]`, v));
  return q;
}

class LeanClient {
  constructor(params, onMessages) {
    this.params = params;
    this.onMessages = onMessages;
    this._stopped = false;
    this.live = false; // a live request is outstanding
    this.errors = 0;
    this.responses = 0;
  }
  // Initial sync; resolves once up to date, then keeps long-polling in the background.
  async start() {
    let offset = '-1';
    let handle = null;
    for (;;) {
      const q = shapeQuery(this.params);
      q.set('offset', offset);
      if (handle) q.set('handle', handle);
      const res = await get(q.toString());
      if (res.status !== 200) throw new Error(`initial sync: ${res.status} ${res.body}`);
      handle = res.headers['electric-handle'];
      offset = res.headers['electric-offset'];
      const messages = JSON.parse(res.body);
      this.onMessages(messages, now(), true);
      if (messages.some((m) => m.headers && m.headers.control === 'up-to-date')) break;
    }
    this.handle = handle;
    this.offset = offset;
    this.cursor = null;
    this.loop = this.poll();
  }
  get stopped() {
    return this._stopped;
  }
  // Stopping ends the held long-poll too (its socket closes), as a closed browser tab does.
  set stopped(v) {
    this._stopped = v;
    if (v && this.request) this.request.destroy();
  }
  async poll() {
    while (!this.stopped) {
      const q = shapeQuery(this.params);
      q.set('offset', this.offset);
      q.set('handle', this.handle);
      q.set('live', 'true');
      if (this.cursor) q.set('cursor', this.cursor);
      let res;
      this.live = true;
      try {
        res = await get(q.toString(), { onRequest: (r) => (this.request = r) });
      } catch (e) {
        this.live = false;
        if (this.stopped) return;
        this.errors++;
        this.lastError = e.message;
        await sleep(100);
        continue;
      }
      this.live = false;
      if (this.stopped) return;
      if (res.status !== 200) {
        this.errors++;
        this.lastError = `status ${res.status}`;
        await sleep(100);
        continue;
      }
      this.responses++;
      this.offset = res.headers['electric-offset'];
      this.cursor = res.headers['electric-cursor'] || this.cursor;
      this.onMessages(JSON.parse(res.body), now(), false);
    }
  }
}

// --- The official client.

let electric;
class RealClient {
  constructor(params, onMessages, sse) {
    electric = electric || require('@electric-sql/client');
    this.params = params;
    this.onMessages = onMessages;
    this.errors = 0;
    this.live = true;
    this.sse = sse;
  }
  start() {
    return new Promise((resolve, reject) => {
      this.abort = new AbortController();
      this.stream = new electric.ShapeStream({
        url: SHAPE_URL.href,
        params: this.params,
        signal: this.abort.signal,
        liveSse: this.sse,
        onError: (e) => {
          this.errors++;
          this.lastError = String(e && e.message);
          reject(e);
        },
      });
      let ready = false;
      this.stream.subscribe(
        (messages) => {
          this.onMessages(messages, now(), !ready);
          if (!ready && messages.some((m) => m.headers && m.headers.control === 'up-to-date')) {
            ready = true;
            resolve();
          }
        },
        (e) => {
          this.errors++;
          this.lastError = String(e && e.message);
        },
      );
    });
  }
  set stopped(v) {
    if (v && this.abort) this.abort.abort();
  }
}

// --- The native clients (test/bench/sync_native_clients.cpp): the lean protocol client again,
// all of them in one epoll loop of another process, so that a thousand responses per change cost
// microseconds each, as a thousand browsers on their own machines would. One object stands for
// all of them; onMessages gets the rows' bodies with the time each response was parsed.

class NativeClients {
  constructor(shapes, onChange, sse) {
    this.sse = sse;
    this.shapes = shapes;
    this.onChange = onChange;
    this.errors = 0;
  }
  start() {
    const file = `/tmp/bench_sync_native_${process.pid}.txt`;
    fs.writeFileSync(file, this.shapes.map((p) => shapeQuery(p).toString()).join('\n') + '\n');
    return new Promise((resolve, reject) => {
      const args = [SHAPE_URL.hostname, SHAPE_URL.port, SHAPE_URL.pathname, file].concat(this.sse ? ['sse'] : []);
      this.proc = spawn(NATIVE_CLIENTS, args,
                        { stdio: ['pipe', 'pipe', 'inherit'] });
      let buffer = '';
      this.proc.stdout.setEncoding('utf8');
      this.proc.stdout.on('data', (d) => {
        buffer += d;
        let i;
        while ((i = buffer.indexOf('\n')) >= 0) {
          const line = buffer.slice(0, i);
          buffer = buffer.slice(i + 1);
          let m;
          if (line === 'ready') {
            fs.unlinkSync(file);
            resolve();
          } else if ((m = /^change (\d+) ([0-9.]+) (.*)$/.exec(line))) {
            this.onChange(Number(m[1]), m[3], Number(m[2]));
          } else if ((m = /^bytes (\d+)$/.exec(line))) {
            this.bytes = Number(m[1]);
          } else if ((m = /^error (\d+) (.*)$/.exec(line))) {
            this.errors++;
            this.lastError = m[2];
          }
        }
      });
      this.proc.on('exit', (code) => reject(new Error(`native clients exited with ${code}`)));
    });
  }
  set stopped(v) {
    if (v && this.proc) this.proc.stdin.end();
  }
}

// --- Figures.

function percentile(sorted, p) {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i];
}
const ms = (x) => (Number.isFinite(x) ? x.toFixed(1) : 'n/a');
const int = (x) => Math.round(x).toLocaleString('en-US');

function rssKb(pid) {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)[1]);
}

// CPU seconds (user + system, every thread) the process has used so far.
function cpuSeconds(pid) {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;  // utime, stime in clock ticks (USER_HZ)
}

function goal(ok) {
  return ok ? 'met' : '**MISSED**';
}

// --- Start N clients of a kind on shapes; resolves with { clients, received } once all are
// up to date and their first live request is out.

async function startClients(kind, shapes, onChange) {
  const sse = kind.endsWith('-sse');
  if (kind.startsWith('native')) {
    const all = new NativeClients(shapes, onChange, sse);
    await all.start();
    await sleep(300 + shapes.length);  // every live request has reached the service
    return [all];
  }
  const Client = kind.startsWith('real') ? RealClient : LeanClient;
  const clients = shapes.map(
    (params, i) =>
      new Client(params, (messages, t, initial) => {
        if (initial) return;
        for (const m of messages) if (m.value && m.value.body) onChange(i, m.value.body, t);
      }, sse),
  );
  // A few at a time, as many browsers would arrive: the service creates new shapes on two
  // workers, and a thousand simultaneous creations only queue there.
  const batch = 50;
  for (let i = 0; i < clients.length; i += batch) await Promise.all(clients.slice(i, i + batch).map((c) => c.start()));
  await sleep(300 + clients.length);  // every live request has reached the service
  return clients;
}

function stopClients(clients) {
  for (const c of clients) c.stopped = true;
}

// --- Latency: writes one change at a time and waits until every client that should see it has
// it, with a pause after each so every client's next long-poll is waiting again.

async function latency(writer, kind, n, shared, writes) {
  const shapes = [];
  for (let i = 0; i < n; i++)
    shapes.push(
      shared
        ? { table: 'bench_items', where: 'shape_id = $1', params: ['0'] }
        : { table: 'bench_items', where: 'shape_id = $1', params: [String(i + 1)] },
    );
  let expect = 0;
  let got = 0;
  let done = null;
  const samples = [];
  const clients = await startClients(kind, shapes, (i, body, t) => {
    const m = /^t:([0-9.]+)$/.exec(body);
    if (!m) return;
    samples.push(t - Number(m[1]));
    if (++got === expect && done) done();
  });
  const errorsBefore = clients.reduce((a, c) => a + c.errors, 0);
  const cpu0 = cpuSeconds(SERVICE_PID) * 1000;
  const t0 = now();
  for (let w = 0; w < writes; w++) {
    const target = shared ? 0 : (w % n) + 1;
    expect += shared ? n : 1;
    const arrived = new Promise((r) => (done = r));
    await writer.exec(`INSERT INTO bench_items (shape_id, body) VALUES (${target}, 't:${now()}')`);
    await Promise.race([arrived, sleep(10000)]);
    done = null;
    await sleep(shared ? Math.max(10, n / 20) : 5);
  }
  const elapsed = now() - t0;
  const cpu = cpuSeconds(SERVICE_PID) * 1000 - cpu0;
  stopClients(clients);
  samples.sort((a, b) => a - b);
  return {
    p50: percentile(samples, 50),
    p99: percentile(samples, 99),
    max: samples[samples.length - 1],
    samples: samples.length,
    expected: expect,
    errors: clients.reduce((a, c) => a + c.errors, 0) - errorsBefore,
    elapsed,
    cpuPerDelivery: (cpu * 1000) / Math.max(1, samples.length),
    bytes: clients[0].bytes,
  };
}

// The floor of a shared shape's latency on this machine (test/bench/sync_fanout_floor.cpp): the
// same number of deliveries of a message of the size the native clients received, sent by a
// program that does nothing else, to the same kind of client. No server gets below it here.
function fanoutFloor(n, writes, bytes, sse) {
  const args = [String(n), String(writes), String(bytes)].concat(sse ? ['sse'] : []);
  const run = spawnSync(FANOUT_FLOOR, args, { encoding: 'utf8' });
  const f = run.stdout.trim().split(' ').map(Number);
  if (run.status !== 0 || f.length !== 5) throw new Error(`sync_fanout_floor failed: ${run.stderr}`);
  return { p50: f[0], p99: f[1], max: f[2], samples: f[3], expected: n * writes, cpuPerDelivery: f[4], errors: 0 };
}

// What a page fault costs on this machine, in µs: a fresh 64 MB buffer filled twice, the first
// fill faulting every page in. Virtual machines that trap page faults pay tens of µs for each,
// and every fresh megabyte a service or client touches (a response body, a parsed document)
// pays them: printed after the figures, which depend on it. Measured last: run first, it slowed
// the parts after it (a backlog delivered 12% slower).
function pageFaultMicros() {
  const size = 64 * 2 ** 20;
  const buffer = Buffer.allocUnsafeSlow(size);
  let t = now();
  buffer.fill(1);
  const first = now() - t;
  t = now();
  buffer.fill(2);
  const again = now() - t;
  return ((first - again) * 1000) / (size / 4096);
}

// --- Main.

async function main() {
  const writer = new Writer();
  const cpu = os.cpus()[0].model;
  say(`# electric-shapes-sync benchmark`);
  say('');
  say(`machine: ${os.cpus().length} cores (${cpu}), ${Math.round(os.totalmem() / 2 ** 30)} GB; ` +
      `${process.env.BENCH_COMMIT || ''}${QUICK ? '; quick mode' : ''}`);
  say('');

  const counts = process.env.BENCH_COUNTS ? process.env.BENCH_COUNTS.split(',').map(Number) : [1, 100, 1000];
  const maxClients = Math.max(...counts);

  // Idle connections first, on a service that has served nothing else yet: memory freed by
  // earlier parts would be reused by the connections and hide what they cost.
  await writer.exec(`INSERT INTO bench_items (shape_id, body) SELECT g, 'seed' FROM generate_series(0, ${maxClients}) g`);
  if (PARTS.includes('idle')) await idlePart(writer);

  // Then the shapes of the latency and throughput parts: the service creates each on the first
  // request for it.
  if (PARTS.includes('latency') || PARTS.includes('throughput')) {
    const t0 = now();
    const warm = [];
    for (let i = 0; i <= maxClients; i++)
      warm.push({ table: 'bench_items', where: 'shape_id = $1', params: [String(i)] });
    const clients = await startClients('lean', warm, () => {});
    stopClients(clients);
    const creation = now() - t0;
    say(`## Shapes`);
    say('');
    say(`${maxClients + 1} shapes \`shape_id = k\` created through the service by first requests, 50 at a time, ` +
        `in ${(creation / 1000).toFixed(1)} s (${int(((maxClients + 1) * 1000) / creation)} shapes/s)`);
    say('');
  }
  if (PARTS.includes('latency')) await latencyPart(writer, counts);
  if (PARTS.includes('throughput')) await throughputPart(writer, maxClients);
  if (PARTS.includes('initial')) await initialPart(writer);
  say(`machine, after the parts: ${pageFaultMicros().toFixed(1)} µs per page fault`);
  writer.close();
  if (RESULTS) fs.writeFileSync(RESULTS, md);
}

async function latencyPart(writer, counts) {
  say('## Commit-to-client latency');
  say('');
  say('One change at a time; each is received by one client (distinct shapes: `shape_id = k`, one ' +
      'client per shape) or by every client (one shared shape). Milliseconds from the write being ' +
      'sent to psql until a client has parsed it.');
  say('');
  say('| client | clients | shapes | changes | deliveries | p50 ms | p99 ms | max ms | service CPU µs per delivery | errors | goal (1,000 clients: p50 ≤ 5, p99 ≤ 25) |');
  say('|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---|');
  const latencyResults = {};
  for (const kind of KINDS) {
    for (const n of counts) {
      for (const shared of [false, true]) {
        if (n === 1 && shared) continue;
        const writes = shared ? (QUICK ? 5 : n >= 1000 ? (kind.startsWith('real') ? 10 : 20) : 50) : QUICK ? 50 : 300;
        const r = await latency(writer, kind, n, shared, writes);
        latencyResults[`${kind}/${n}/${shared}`] = r;
        const g = n >= 1000 ? goal(r.p50 <= 5 && r.p99 <= 25) : '';
        say(`| ${kind} | ${int(n)} | ${shared ? 'one shared' : 'distinct'} | ${writes} | ${int(r.samples)}/${int(r.expected)} | ` +
            `${ms(r.p50)} | ${ms(r.p99)} | ${ms(r.max)} | ${int(r.cpuPerDelivery)} | ${r.errors} | ${g} |`);
        if (shared && kind.startsWith('native') && r.bytes) {
          const f = fanoutFloor(n, writes, r.bytes, kind.endsWith('-sse'));
          // Not the service's figure: whether the goal is within this machine's reach at all.
          const fg = n >= 1000 ? (f.p50 <= 5 && f.p99 <= 25 ? 'within reach' : 'out of reach on this machine') : '';
          say(`| floor of ${kind}: ${int(r.bytes)} bytes each, no server | ${int(n)} | one shared | ${writes} | ` +
              `${int(f.samples)}/${int(f.expected)} | ${ms(f.p50)} | ${ms(f.p99)} | ${ms(f.max)} | ${int(f.cpuPerDelivery)} (the sender's) | 0 | ${fg} |`);
        }
        await sleep(500);
      }
    }
  }
  say('');
}

async function throughputPart(writer, maxClients) {
  say('## Changes per second with 1,000 live shapes');
  say('');
  const tputShapes = [];
  for (let i = 1; i <= maxClients; i++)
    tputShapes.push({ table: 'bench_items', where: 'shape_id = $1', params: [String(i)] });
  let received = 0;
  let want = 0;
  let allIn = null;
  // The native clients (see NativeClients): with one Node process parsing a response per change
  // for 1,000 clients, the clients took as much CPU as the service and bounded the rows.
  const tputClients = await startClients(TPUT_CLIENT, tputShapes, () => {
    if (++received === want && allIn) allIn();
  });
  const clientsCpuSeconds = () => {
    if (TPUT_CLIENT === 'native') return cpuSeconds(tputClients[0].proc.pid);
    const used = process.cpuUsage();
    return (used.user + used.system) / 1e6;
  };
  const tput = [];
  const bulkRows = QUICK ? 20000 : 100000;
  const smallTx = QUICK ? 4000 : 20000;
  const script = `/tmp/bench_sync_${process.pid}.sql`;
  fs.writeFileSync(script,
    `\\set k random(1, ${maxClients})\nINSERT INTO bench_items (shape_id, body) VALUES (:k, 'small');\n`);
  const pgbench = (connections, extra) =>
    new Promise((resolve, reject) => {
      const p = spawn(PGBENCH[0], [...PGBENCH.slice(1), '-n', '-c', String(connections), '-j', String(Math.min(connections, 2)),
                                   '-t', String(smallTx / connections), ...extra, '-f', script],
                      { stdio: ['ignore', 'ignore', 'inherit'] });
      p.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`pgbench exited with ${code}`))));
    });
  // Each workload has its own slot, made just before it, so that its peer decodes that
  // workload's WAL alone (startLsn to endLsn).
  let slots = 0;
  async function workload(what, rows, write, { paused = false } = {}) {
    const slot = `bench_peer_${++slots}`;
    await writer.exec(`SELECT 1 FROM pg_create_logical_replication_slot('${slot}', 'electric_shapes')`);
    const startLsn = await writer.value('SELECT pg_current_wal_lsn()');
    const before = received;
    want += rows;
    const arrived = new Promise((r) => (allIn = r));
    const responsesBefore = await shapeResponses();
    // Paused: the service is stopped (SIGSTOP) while the writer writes, so that the writer does
    // not share the CPU with it; the time counts from SIGCONT, the backlog's delivery alone.
    if (paused) process.kill(SERVICE_PID, 'SIGSTOP');
    const serviceCpu = cpuSeconds(SERVICE_PID);
    const clientsCpu = clientsCpuSeconds();
    let t = now();
    try {
      await write();
    } finally {
      if (paused) process.kill(SERVICE_PID, 'SIGCONT');
    }
    const committed = now() - t;
    if (paused) t = now();
    await Promise.race([arrived, sleep(300000)]);
    const total = now() - t;
    const cpu = { service: cpuSeconds(SERVICE_PID) - serviceCpu, clients: clientsCpuSeconds() - clientsCpu };
    const responses = (await shapeResponses()) - responsesBefore;
    const endLsn = await writer.value('SELECT pg_current_wal_lsn()');
    tput.push({ what, rows, writer: committed, total, got: received - before, slot, startLsn, endLsn, paused, cpu,
                responses });
  }
  // (a) one transaction spread over every shape.
  await workload(`one transaction of ${int(bulkRows)} rows`, bulkRows, () =>
    writer.exec(`INSERT INTO bench_items (shape_id, body) SELECT 1 + g % ${maxClients}, 'bulk ' || g ` +
                `FROM generate_series(1, ${bulkRows}) g`));
  // (b) many one-row transactions from two pgbench clients, live: writer and service share the CPU.
  await workload(`${int(smallTx)} one-row transactions (pgbench, 2 connections), live`, smallTx, () => pgbench(2, []));
  // (c) the same with more connections and prepared statements: a faster writer, still live.
  await workload(`${int(smallTx)} one-row transactions (pgbench, 8 connections, -M prepared), live`, smallTx,
                 () => pgbench(8, ['-M', 'prepared']));
  // (d) the same written while the service is stopped: the service's own capacity for a backlog
  // of one-row transactions (the server still decodes them after SIGCONT, as for the peer).
  await workload(`${int(smallTx)} one-row transactions (pgbench, 8 connections, -M prepared) written while the ` +
                 'service is stopped (SIGSTOP); timed from SIGCONT', smallTx, () => pgbench(8, ['-M', 'prepared']),
                 { paused: true });
  fs.unlinkSync(script);
  const tputErrors = tputClients.reduce((a, c) => a + c.errors, 0);
  stopClients(tputClients);
  // The peers: the plugin's raw stream of each workload's WAL, every shape, the service's options.
  for (const r of tput) {
    const tr = now();
    await new Promise((resolve, reject) => {
      const p = spawn(RECVLOGICAL[0], [...RECVLOGICAL.slice(1), '--slot', r.slot, '--start', '-E', r.endLsn,
                                       '-o', 'include-transaction=true', '-o', 'values=text', '-f', '/dev/null'],
                      { stdio: ['ignore', 'ignore', 'inherit'] });
      p.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`pg_recvlogical exited with ${code}`))));
    });
    r.peer = now() - tr;
    await writer.exec(`SELECT pg_drop_replication_slot('${r.slot}')`);
  }
  say(`1,000 ${TPUT_CLIENT} clients long-polling 1,000 distinct shapes (\`shape_id = k\`); rows spread evenly. ` +
      '"delivered s": from the first write sent (for the stopped service: from SIGCONT) until every ' +
      'client has every row. The peer, `pg_recvlogical` streaming the same workload\'s WAL from the ' +
      "plugin with the service's options to /dev/null (its own slot, made just before the workload), " +
      "is the upper bound: the plugin's raw stream, no service. Live rows are bounded by the writer " +
      "when the writer's time is close to the delivered time. CPU: seconds the service (all its " +
      `threads) and the clients (${TPUT_CLIENT === 'native' ? 'the native clients\' process' : 'this Node process, which also drives the writer'}) used from the first write ` +
      'until every client had every row. Responses: the shape responses the service answered meanwhile ' +
      '(its /metrics), one per change when each client is woken for each of its changes.');
  say('');
  say('| workload | rows | writer s | delivered s | rows received | changes/s | peer s | peer changes/s | service/peer time | ' +
      'service CPU s | clients CPU s | responses | service CPU µs per response | goal ≥ 20,000/s |');
  say('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|');
  for (const r of tput) {
    const rate = (r.rows * 1000) / r.total;
    say(`| ${r.what} | ${int(r.rows)} | ${(r.writer / 1000).toFixed(2)} | ${(r.total / 1000).toFixed(2)} | ${int(r.got)} | ` +
        `${int(rate)} | ${(r.peer / 1000).toFixed(2)} | ${int((r.rows * 1000) / r.peer)} | ${(r.total / r.peer).toFixed(2)}x | ` +
        `${r.cpu.service.toFixed(2)} | ${r.cpu.clients.toFixed(2)} | ${int(r.responses)} | ` +
        `${r.responses ? int((r.cpu.service * 1e6) / r.responses) : ''} | ${goal(rate >= 20000 && r.got === r.rows)} |`);
  }
  const ab = tput.slice(0, 2);
  const abRows = ab.reduce((a, r) => a + r.rows, 0);
  const abTime = ab.reduce((a, r) => a + r.total, 0);
  const abPeer = ab.reduce((a, r) => a + r.peer, 0);
  say(`| first two, through the service | ${int(abRows)} | | ${(abTime / 1000).toFixed(2)} | | ${int((abRows * 1000) / abTime)} | ` +
      `${(abPeer / 1000).toFixed(2)} | ${int((abRows * 1000) / abPeer)} | ${(abTime / abPeer).toFixed(2)}x | | | | | |`);
  say('');
  say(`client errors during the throughput runs: ${tputErrors}`);
  say('');
}

async function initialPart(writer) {
  say('## Initial sync of a 100,000-row shape');
  say('');
  const bigRows = QUICK ? 20000 : 100000;
  await writer.exec(`CREATE TABLE bench_big (id int PRIMARY KEY, grp int NOT NULL, body text NOT NULL, at timestamptz NOT NULL DEFAULT now());
INSERT INTO bench_big (id, grp, body) SELECT g, g % 10, md5(g::text) || md5((g + 1)::text) FROM generate_series(1, ${bigRows}) g;
VACUUM ANALYZE bench_big`);
  const bigParams = { table: 'bench_big' };
  const initial = [];
  async function timedInitial(label) {
    const t = now();
    let rows = 0;
    let offset = '-1';
    let handle = null;
    let bytes = 0;
    for (;;) {
      const q = shapeQuery(bigParams);
      q.set('offset', offset);
      if (handle) q.set('handle', handle);
      const res = await get(q.toString(), { timeout: 600000 });
      if (res.status !== 200) throw new Error(`initial sync: ${res.status} ${res.body}`);
      bytes += res.body.length;
      handle = res.headers['electric-handle'];
      offset = res.headers['electric-offset'];
      const messages = JSON.parse(res.body);
      rows += messages.filter((m) => m.value).length;
      if (messages.some((m) => m.headers && m.headers.control === 'up-to-date')) break;
    }
    const took = now() - t;
    initial.push({ label, rows, took, bytes });
    return handle;
  }
  const handle = await timedInitial('lean client, first request (shape created: create_shape, shape_snapshot, file, response)');
  {
    // The first request's time split, from the service's own log: from "shape created" to
    // "shape ready" it made the shape (create_shape, shape_snapshot read into the file, fsync),
    // serving the chunks already complete meanwhile; after it, the client still fetched and
    // parsed the rest. Not figures of their own against the goal: parts of the row above.
    const at = { created: null, ready: null };
    for (const line of (SERVICE_LOG && fs.existsSync(SERVICE_LOG) ? fs.readFileSync(SERVICE_LOG, 'utf8') : '').split('\n')) {
      let entry;
      try { entry = JSON.parse(line); } catch { continue; }
      if (entry.message === 'shape created' && entry.shape_handle === handle) at.created = Date.parse(entry.time);
      if (entry.message === 'shape ready' && entry.handle === handle) at.ready = Date.parse(entry.time);
    }
    if (at.created !== null && at.ready !== null) {
      const first = initial[initial.length - 1];
      initial.push({ label: 'of which the service making the shape (its log: "shape created" to "shape ready")',
                     rows: first.rows, took: at.ready - at.created, part: true });
      initial.push({ label: 'of which after the shape was ready: the last responses and the client\'s parse',
                     rows: first.rows, took: first.took - (at.ready - at.created), part: true });
    }
  }
  await timedInitial('lean client, second client (snapshot file already on disk)');
  {
    // The same responses received but not parsed: the service's part without the client's
    // JSON.parse of tens of megabytes. Every chunk, followed by its headers alone.
    const t = now();
    let offset = '-1';
    let chunkHandle = null;
    let bytes = 0;
    let responses = 0;
    const bodies = [];
    for (;;) {
      const q = shapeQuery(bigParams);
      q.set('offset', offset);
      if (chunkHandle) q.set('handle', chunkHandle);
      const res = await get(q.toString(), { timeout: 600000 });
      if (res.status !== 200) throw new Error(`initial sync: ${res.status} ${res.body}`);
      bytes += res.body.length;
      responses++;
      bodies.push(res.body);
      chunkHandle = res.headers['electric-handle'];
      offset = res.headers['electric-offset'];
      if ('electric-up-to-date' in res.headers) break;
    }
    initial.push({ label: `HTTP bodies received, not parsed (${(bytes / 2 ** 20).toFixed(1)} MB in ${responses} responses, file on disk)`,
                   rows: bigRows, took: now() - t, raw: true });
    // The client's floor: the same bodies parsed as the lean client parses each response, from
    // memory, with no server and no socket. No server makes this client sync faster here.
    const parsed = now();
    let rows = 0;
    for (const body of bodies) rows += JSON.parse(body).filter((m) => m.value).length;
    initial.push({ label: 'floor: the lean client\'s own JSON.parse of those bodies, from memory (no server)',
                   rows, took: now() - parsed, floor: true });
  }
  {
    const t = now();
    let rows = 0;
    const c = new RealClient(bigParams, (messages) => {
      rows += messages.filter((m) => m.value).length;
    });
    await c.start();
    c.stopped = true;
    initial.push({ label: 'official client ShapeStream (snapshot on disk)', rows, took: now() - t });
  }
  async function timedPsql(label, sql) {
    const t = now();
    await new Promise((resolve, reject) => {
      const p = spawn(PSQL[0], [...PSQL.slice(1), '-X', '-q', '-At', '-v', 'ON_ERROR_STOP=1', '-o', '/dev/null', '-c', sql],
                      { stdio: ['ignore', 'ignore', 'inherit'] });
      p.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`psql exited with ${code}`))));
    });
    initial.push({ label, rows: bigRows, took: now() - t, peer: true });
  }
  const name = await writer.value(`SELECT name FROM electric_shapes.shapes WHERE name LIKE '%${handle}'`);
  await timedPsql('peer: psql, the shape\'s `shape_snapshot` to /dev/null',
                  `COPY (SELECT * FROM electric_shapes.shape_snapshot('${name}')) TO STDOUT`);
  await timedPsql('peer: psql, `COPY bench_big TO STDOUT` (the rows, no JSON)', 'COPY bench_big TO STDOUT');
  say(`A table of ${int(bigRows)} rows (id, grp, a 64-character text, a timestamp), the whole table as one shape.`);
  say('');
  say('| how | rows | seconds | rows/s | goal ≥ 200,000 rows/s |');
  say('|---|---:|---:|---:|---|');
  for (const r of initial) {
    const rate = (r.rows * 1000) / r.took;
    say(`| ${r.label} | ${int(r.rows)} | ${(r.took / 1000).toFixed(2)} | ${int(rate)} | ` +
        `${r.peer || r.part ? '' : r.floor ? (rate >= 200000 ? 'within reach' : 'out of reach on this machine for this client')
                                   : r.raw ? `(${goal(rate >= 200000)} without the client)` : goal(rate >= 200000)} |`);
  }
  say('');
}

// Idle long-polls: memory per connection, and 5,000 held without an error.
async function idlePart(writer) {
  say('## Idle live connections');
  say('');
  say('| long-polls held | service RSS before | RSS while held | per connection | goal ≤ 64 kB | errors | all got the change | goal: 5,000 without an error |');
  say('|---:|---:|---:|---:|---|---:|---|---|');
  // The shape exists before the baseline is read, so only the connections are counted. Once:
  // a second round would reuse what the first freed.
  await get(`${shapeQuery({ table: 'bench_items', where: 'shape_id = $1', params: ['0'] })}&offset=-1`);
  for (const n of [5000]) {
    await sleep(500);
    const before = rssKb(SERVICE_PID);
    const idle = [];
    let gotChange = 0;
    let waiting = null;
    for (let i = 0; i < n; i++)
      idle.push(new LeanClient({ table: 'bench_items', where: 'shape_id = $1', params: ['0'] }, (messages) => {
        if (messages.some((m) => m.value && m.value.body === `idle ${n}`) && ++gotChange === n && waiting) waiting();
      }));
    // Up to date first (a few at a time), then all the long-polls go out.
    for (let i = 0; i < n; i += 200) await Promise.all(idle.slice(i, i + 200).map((c) => c.start()));
    await sleep(2000);
    const held = rssKb(SERVICE_PID);
    const outstanding = idle.filter((c) => c.live).length;
    const arrived = new Promise((r) => (waiting = r));
    await writer.exec(`INSERT INTO bench_items (shape_id, body) VALUES (0, 'idle ${n}')`);
    await Promise.race([arrived, sleep(30000)]);
    const errors = idle.reduce((a, c) => a + c.errors, 0);
    const per = ((held - before) * 1024) / n;
    say(`| ${int(n)} | ${int(before)} kB | ${int(held)} kB | ${(per / 1024).toFixed(1)} kB | ${goal(per <= 64 * 1024)} | ${errors} | ` +
        `${gotChange}/${n}${outstanding !== n ? ` (${outstanding} held)` : ''} | ` +
        `${n >= 5000 ? goal(errors === 0 && gotChange === n) : ''} |`);
    if (errors) say(`  (an error: ${idle.find((c) => c.errors).lastError})`);
    stopClients(idle);
    agent.destroy();
  }
  say('');
}

main().then(
  () => process.exit(0),
  (e) => {
    console.error(e && (e.stack || e));
    process.exit(1);
  },
);
