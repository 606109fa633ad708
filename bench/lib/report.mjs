// Turns the per-run records of bench/run.sh into the table (stdout), latest.md and latest.json.
//   node report.mjs RESULTS.ndjson OUTDIR key=value...
// Exits 1 when any run had an error.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

const [file, outDir, ...kv] = process.argv.slice(2);
const meta = Object.fromEntries(kv.map((p) => [p.slice(0, p.indexOf('=')), p.slice(p.indexOf('=') + 1)]));
const runs = readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
const signRate = Number(meta.sign_rate) || null;

const FLOWS = [
  ['client_credentials', 'client_credentials (Basic)'],
  ['code', 'code exchange'],
  ['code_openid', 'code exchange + openid'],
  ['refresh', 'refresh'],
  ['refresh_openid', 'refresh + openid'],
  ['introspection', 'introspection'],
  ['userinfo', 'userinfo'],
  ['jwt_bearer', 'JWT bearer (RS256)'],
  ['password', 'username-password (Argon2id)'],
  ['web_server_flow', 'web server flow (flows/s)'],
];
// latchkey, its scale run (latchkey@N: N live tokens preloaded) if any, latchkey on PostgreSQL
// (one node, and two nodes driven together) if measured, then the peer.
const PG = 'latchkey@pg';
const PG2 = 'latchkey@pg×2';
const servers = new Set(runs.map((r) => r.server));
const scaleServer = [...servers].find((s) => /^latchkey@\d+$/.test(s)) ?? null;
const SERVERS = ['latchkey', ...[scaleServer, PG, PG2].filter((s) => s && servers.has(s)), 'oidc-provider'];
// The rows that get a ratio to the peer.
const RATIO_SERVERS = new Set(['latchkey', PG, PG2]);
// Targets of the issue: minimum latchkey/peer ratio, p99 bound, or a share of the RSA sign rate.
const TARGETS = {
  client_credentials: { ratio: 6, p99_ms: 5 },
  introspection: { ratio: 8 },
  userinfo: { ratio: 8 },
  code: { ratio: 5 },
  refresh: { ratio: 5 },
  code_openid: { signShare: 0.8 },
  refresh_openid: { signShare: 0.8 },
};
// Targets for one latchkey node on PostgreSQL (durable commits over a Unix socket).
const PG_TARGETS = {
  client_credentials: { ratio: 4, p99_ms: 10 },
  introspection: { ratio: 8 },
  userinfo: { ratio: 8 },
  code: { ratio: 3 },
  refresh: { ratio: 3 },
};

// A flow measured in several rounds (run.sh, BENCH_ROUNDS) has one run per round and server.
// Its row gives the median of the rounds' figures, each figure on its own (peak RSS the largest,
// errors and requests summed); its ratio is the median of the rounds' ratios, each of a server's
// run to the peer's run of the same round, made a minute apart.
const median = (xs) => {
  const v = xs.filter((x) => x !== null && x !== undefined).sort((a, b) => a - b);
  if (!v.length) return null;
  const m = Math.floor(v.length / 2);
  return v.length % 2 ? v[m] : (v[m - 1] + v[m]) / 2;
};
const runsOf = (flow, server) => runs.filter((r) => r.flow === flow && r.server === server);
const roundRatios = (flow, server) => {
  const peer = new Map(runsOf(flow, 'oidc-provider').map((r) => [r.round ?? 1, r.rps]));
  return runsOf(flow, server).filter((r) => peer.get(r.round ?? 1)).map((r) => r.rps / peer.get(r.round ?? 1));
};
const rows = [];
for (const [flow, label] of FLOWS) {
  for (const server of SERVERS) {
    const rs = runsOf(flow, server);
    // The scale and PostgreSQL runs cover some flows only.
    if (!rs.length && server !== 'latchkey' && server !== 'oidc-provider') continue;
    if (!rs.length) {
      rows.push({ flow, label, server, na: true });
      continue;
    }
    const mid = (key) => median(rs.map((r) => r[key]));
    const ratios = RATIO_SERVERS.has(server) ? roundRatios(flow, server) : [];
    rows.push({
      flow, label, server, rounds: rs.length, rps: mid('rps'), p50_ms: mid('p50_us') / 1000, p99_ms: mid('p99_us') / 1000,
      p999_ms: mid('p999_us') / 1000, errors: rs.reduce((n, r) => n + r.errors, 0), cpu_s: mid('cpu_s'),
      db_cpu_s: mid('db_cpu_s'), peak_rss_mb: Math.max(...rs.map((r) => r.peak_rss_kb)) / 1024,
      req_per_cpu_s: mid('req_per_cpu_s'), ratio: median(ratios),
      first_error: rs.find((r) => r.first_error)?.first_error ?? null, requests: rs.reduce((n, r) => n + r.requests, 0),
      // Each round's own figures, when there were several.
      ...(rs.length > 1 ? { round_runs: rs.map((r) => ({ round: r.round, rps: r.rps, p99_ms: r.p99_us / 1000 })), round_ratios: ratios } : {}),
      // Two nodes driven at once: each node's own wrk figures (of the first round).
      ...(rs[0].nodes ? { nodes: rs[0].nodes.map((n) => ({ rps: n.rps, p50_ms: n.p50_us / 1000, p99_ms: n.p99_us / 1000, p999_ms: n.p999_us / 1000, errors: n.errors })) } : {}),
    });
  }
}

const header = ['flow', 'server', 'req/s', 'p50 ms', 'p99 ms', 'p99.9 ms', 'errors', 'CPU s', 'DB CPU s', 'peak RSS MB', 'latchkey/peer'];
const cells = rows.map((r) => (r.na
  ? [r.label, r.server, 'n/a', 'n/a', 'n/a', 'n/a', 'n/a', 'n/a', '', 'n/a', '']
  : [r.label, r.server, r.rps.toFixed(0), r.p50_ms.toFixed(2), r.p99_ms.toFixed(2), r.p999_ms.toFixed(2),
    String(r.errors), r.cpu_s.toFixed(2), r.db_cpu_s === null ? '' : r.db_cpu_s.toFixed(2),
    r.peak_rss_mb.toFixed(1), r.ratio === null ? '' : `${r.ratio.toFixed(2)}x`]));
const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i].length)));
const line = (c) => c.map((x, i) => (i < 2 ? x.padEnd(widths[i]) : x.padStart(widths[i]))).join('  ');

// Targets. A ratio measured in rounds is the median, each round's following it.
const ratioText = (r) => (r.ratio === null ? 'n/a' : `${r.ratio.toFixed(2)}x` +
  (r.round_ratios?.length > 1 ? ` (rounds ${r.round_ratios.map((x) => `${x.toFixed(2)}x`).join(', ')})` : ''));
const p99Text = (r) => `${r.p99_ms.toFixed(2)} ms` +
  (r.round_runs ? ` (rounds ${r.round_runs.map((x) => x.p99_ms.toFixed(2)).join(', ')})` : '');
const targets = [];
for (const [flow, t] of Object.entries(TARGETS)) {
  const lk = rows.find((r) => r.flow === flow && r.server === 'latchkey' && !r.na);
  if (!lk) continue;
  if (t.ratio) {
    targets.push({ flow, target: `>= ${t.ratio}x peer`, actual: ratioText(lk), met: lk.ratio !== null && lk.ratio >= t.ratio });
  }
  if (t.p99_ms) targets.push({ flow, target: `p99 <= ${t.p99_ms} ms`, actual: p99Text(lk), met: lk.p99_ms <= t.p99_ms });
  if (t.signShare && signRate) {
    const need = t.signShare * signRate;
    targets.push({ flow, target: `>= ${Math.round(need)} req/s (80% of ${signRate} RSA-2048 sign/s, one core)`, actual: `${lk.rps.toFixed(0)} req/s`, met: lk.rps >= need });
    if (lk.req_per_cpu_s) {
      targets.push({ flow, target: `>= ${Math.round(need)} req per server CPU-second`, actual: `${lk.req_per_cpu_s.toFixed(0)}`, met: lk.req_per_cpu_s >= need });
    }
  }
}

for (const [flow, t] of Object.entries(PG_TARGETS)) {
  const pg = rows.find((r) => r.flow === flow && r.server === PG && !r.na);
  if (!pg) continue;
  targets.push({ flow, target: `${PG}: >= ${t.ratio}x peer`, actual: ratioText(pg), met: pg.ratio !== null && pg.ratio >= t.ratio });
  if (t.p99_ms) targets.push({ flow, target: `${PG}: p99 <= ${t.p99_ms} ms`, actual: p99Text(pg), met: pg.p99_ms <= t.p99_ms });
}

// Scale: with many live tokens, throughput within 15% and p99 within 1.5x of the small
// database, and peak RSS at most 256 MiB.
if (scaleServer) {
  for (const [flow] of FLOWS) {
    const big = rows.find((r) => r.flow === flow && r.server === scaleServer && !r.na);
    const small = rows.find((r) => r.flow === flow && r.server === 'latchkey' && !r.na);
    if (!big || !small) continue;
    targets.push({ flow, target: `${scaleServer}: req/s >= 85% of small db`, actual: `${(100 * big.rps / small.rps).toFixed(0)}%`, met: big.rps >= 0.85 * small.rps });
    targets.push({ flow, target: `${scaleServer}: p99 <= 1.5x small db`, actual: `${(big.p99_ms / small.p99_ms).toFixed(2)}x`, met: big.p99_ms <= 1.5 * small.p99_ms });
    targets.push({ flow, target: `${scaleServer}: peak RSS <= 256 MiB`, actual: `${big.peak_rss_mb.toFixed(1)} MiB`, met: big.peak_rss_mb <= 256 });
  }
}

// Revocation at one PostgreSQL node until the other answers active:false (no target: reported).
const revocation = meta.revocation ? JSON.parse(readFileSync(meta.revocation, 'utf8')) : null;
const revocationLine = revocation && (revocation.count
  ? `revocation ${PG} node A -> node B, under ${revocation.load.rps.toFixed(0)} req/s of client_credentials on both nodes: ` +
    `median ${revocation.median_ms.toFixed(1)} ms, max ${revocation.max_ms.toFixed(1)} ms ` +
    `(min ${revocation.min_ms.toFixed(1)} ms; ${revocation.count} revocations, B polled every ${revocation.poll_ms} ms)`
  : `revocation ${PG} node A -> node B: no result`);

const failed = rows.filter((r) => !r.na && r.errors > 0);
if (revocation && (revocation.errors > 0 || revocation.load.errors > 0)) {
  failed.push({ flow: 'revocation', server: `${PG} A -> B`, errors: revocation.errors + revocation.load.errors,
    requests: `${revocation.count + revocation.errors} revocations (and the load's)`,
    first_error: revocation.first_error ?? revocation.load.first_error });
}
// Which rows are medians of rounds (run.sh: the flows with a PostgreSQL target).
const roundFlows = FLOWS.filter(([flow]) => rows.some((r) => r.flow === flow && r.rounds > 1)).map(([, label]) => label);
const roundsLine = `${roundFlows.join(', ')}: measured in ${meta.rounds} rounds, each server once a round; each figure is the ` +
  'median of the rounds\' (peak RSS the largest), each ratio the median of the rounds\' ratios (latest.json has every round\'s)';
const out = [];
out.push(line(header));
out.push(widths.map((w) => '-'.repeat(w)).join('  '));
for (const c of cells) out.push(line(c));
out.push('');
out.push(`RSA-2048 sign/s (openssl speed, one core): ${signRate ?? 'n/a'}; cores: ${meta.cores}; ${meta.seconds} s per run after ${meta.warmup} s warm-up; wrk ${meta.threads} threads ${meta.conns} connections; web flow ${meta.web_concurrency} parallel flows`);
if (Number(meta.rounds) > 1) out.push(roundsLine);
if (revocationLine) out.push(revocationLine);
out.push('');
out.push('targets (latchkey):');
for (const t of targets) out.push(`  ${t.met ? 'MET   ' : 'MISSED'}  ${t.flow.padEnd(18)} ${t.target.padEnd(60)} actual ${t.actual}`);
if (failed.length) {
  out.push('');
  out.push('!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!');
  out.push(`!!! ERRORS in ${failed.length} run(s): these numbers are not valid`);
  for (const r of failed) out.push(`!!!   ${r.flow} / ${r.server}: ${r.errors} errors of ${r.requests}; first: ${r.first_error}`);
  out.push('!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!');
}
console.log(out.join('\n'));

// Markdown and JSON
const md = [];
md.push('# latchkey benchmark — latest run');
md.push('');
md.push(`latchkey ${meta.latchkey_commit} vs ${meta.peer} (Node ${meta.node}), wrk ${meta.wrk}, OpenSSL ${meta.openssl}; ` +
  `${meta.cores} cores shared by server and load generator; ${meta.seconds} s per run after ${meta.warmup} s warm-up; ` +
  `wrk ${meta.threads} threads, ${meta.conns} connections; web server flow: ${meta.web_concurrency} parallel flows` +
  `${scaleServer ? `; ${scaleServer}: the same server on a database preloaded with ${meta.scale_tokens} live tokens` : ''}` +
  `${servers.has(PG) ? `; ${PG}: the same server on PostgreSQL ${meta.postgres} (a throw-away local cluster, fsync and synchronous_commit on, wal_init_zero off)` : ''}` +
  `${servers.has(PG2) ? `; ${PG2}: two such nodes on one database, each given half the wrk connections at once (req/s summed, CPU s summed, latencies and peak RSS the worse node's)` : ''}. ` +
  `Generated ${new Date().toISOString()}. See bench/README.md for what each column means.`);
md.push('');
md.push(`| ${header.join(' | ')} |`);
md.push(`|${header.map((_, i) => (i < 2 ? '---' : '---:')).join('|')}|`);
for (const c of cells) md.push(`| ${c.join(' | ')} |`);
md.push('');
md.push(`RSA-2048 sign/s (openssl speed, one core, same run): ${signRate ?? 'n/a'}`);
if (Number(meta.rounds) > 1) {
  md.push('');
  md.push(`${roundsLine}.`);
}
if (revocationLine) {
  md.push('');
  md.push(`${revocationLine[0].toUpperCase()}${revocationLine.slice(1)}.`);
}
md.push('');
md.push('| target | flow | actual | met |');
md.push('|---|---|---:|---|');
for (const t of targets) md.push(`| ${t.target} | ${t.flow} | ${t.actual} | ${t.met ? 'yes' : '**no**'} |`);
if (failed.length) {
  md.push('');
  md.push(`**ERRORS in ${failed.length} run(s): these numbers are not valid.**`);
  for (const r of failed) md.push(`- ${r.flow} / ${r.server}: ${r.errors} errors of ${r.requests}; first: \`${r.first_error}\``);
}
writeFileSync(path.join(outDir, 'latest.md'), md.join('\n') + '\n');
writeFileSync(path.join(outDir, 'latest.json'), JSON.stringify({
  generated: new Date().toISOString(), meta: { ...meta, sign_rate: signRate, revocation: undefined }, runs: rows, targets,
  revocation,
  errors: failed.length > 0,
}, null, 2) + '\n');
process.exit(failed.length ? 1 : 0);
