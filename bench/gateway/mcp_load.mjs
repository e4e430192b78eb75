// Gateway load: the same MCP tools/call sent with the official SDK client
// straight to an upstream MCP server and through Warden's gateway
// (/mcp/<server>, grant token + a fresh DPoP proof per request), in the same
// run, interleaved in rounds so both paths see the same machine state.
// Reports per-call latency (p50, p99) for one client in a loop and the
// throughput of `--concurrency` clients, for each path, and the ratios.
//
// Usage: node mcp_load.mjs --direct URL --gateway URL --token-file FILE
//          --key FILE [--tool NAME] [--args JSON] [--calls N] [--rounds R]
//          [--concurrency C] [--json]
//   --direct URL       the upstream's Streamable HTTP endpoint
//   --gateway URL      Warden's endpoint for that upstream (.../mcp/<server>)
//   --token-file FILE  the grant token (one line)
//   --key FILE         the agent's private key (PKCS#8 PEM, as written by
//                      `warden workload keygen`): the DPoP proofs' key
//   --calls N          calls per path per round (default 500); bounded
//   --rounds R         alternating rounds per path (default 3)
//   --concurrency C    parallel clients of the throughput phase (default 8)
// Every loop is bounded by --calls x --rounds; nothing runs forever.
import { readFileSync } from 'node:fs';
import { createHash, randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { SignJWT, importPKCS8, exportJWK } from 'jose';

function parseArgs(argv) {
  const out = { tool: 'read_ticket', args: '{"id":"T-1001"}', calls: 500, rounds: 3,
                concurrency: 8, json: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const next = () => {
      if (i + 1 >= argv.length) throw new Error(`${a} needs a value`);
      return argv[++i];
    };
    switch (a) {
      case '--direct': out.direct = next(); break;
      case '--gateway': out.gateway = next(); break;
      case '--token-file': out.tokenFile = next(); break;
      case '--key': out.key = next(); break;
      case '--tool': out.tool = next(); break;
      case '--args': out.args = next(); break;
      case '--calls': out.calls = Number(next()); break;
      case '--rounds': out.rounds = Number(next()); break;
      case '--concurrency': out.concurrency = Number(next()); break;
      case '--json': out.json = true; break;
      default: throw new Error(`unknown argument ${a}`);
    }
  }
  for (const k of ['direct', 'gateway', 'tokenFile', 'key']) {
    if (!out[k]) throw new Error(`--${k.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase())} is required`);
  }
  for (const k of ['calls', 'rounds', 'concurrency']) {
    if (!Number.isInteger(out[k]) || out[k] < 1 || out[k] > 100000) {
      throw new Error(`--${k} must be an integer between 1 and 100000`);
    }
  }
  out.args = JSON.parse(out.args);
  return out;
}

// A fetch that adds `Authorization: DPoP <token>` and a proof made for this
// very request (htm, htu without query, iat, jti, ath) with the agent's key.
async function dpopFetch(token, keyPem) {
  const alg = keyPem.includes('BEGIN PRIVATE KEY') ? await detectAlg(keyPem) : 'EdDSA';
  const key = await importPKCS8(keyPem, alg, { extractable: true });
  const jwk = await exportJWK(key);
  delete jwk.d;
  const ath = createHash('sha256').update(token).digest('base64url');
  return async (url, init = {}) => {
    const u = new URL(url);
    const method = (init.method ?? 'GET').toUpperCase();
    const proof = await new SignJWT({ htm: method, htu: `${u.origin}${u.pathname}`, jti: randomUUID(), ath })
      .setProtectedHeader({ alg, typ: 'dpop+jwt', jwk })
      .setIssuedAt()
      .sign(key);
    const headers = new Headers(init.headers ?? {});
    headers.set('authorization', `DPoP ${token}`);
    headers.set('dpop', proof);
    return fetch(url, { ...init, headers });
  };
}

// EdDSA for Ed25519 keys, ES256 for P-256 ones (the two Warden generates).
async function detectAlg(pem) {
  try {
    await importPKCS8(pem, 'EdDSA');
    return 'EdDSA';
  } catch {
    return 'ES256';
  }
}

async function connect(url, fetchImpl) {
  const client = new Client({ name: 'warden-bench', version: '1.0.0' });
  const transport = new StreamableHTTPClientTransport(new URL(url), fetchImpl ? { fetch: fetchImpl } : {});
  await client.connect(transport);
  return client;
}

async function callOnce(client, opts) {
  const result = await client.callTool({ name: opts.tool, arguments: opts.args });
  if (result.isError) throw new Error(`tool returned an error: ${JSON.stringify(result.content)}`);
  return result;
}

function percentile(sorted, p) {
  if (sorted.length === 0) return NaN;
  const idx = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[idx];
}

// One client, sequential calls: per-call latency in microseconds.
async function latencyRound(client, opts, samples) {
  for (let i = 0; i < opts.calls; i++) {
    const t0 = performance.now();
    await callOnce(client, opts);
    samples.push((performance.now() - t0) * 1000);
  }
}

// `concurrency` clients share `calls` calls: calls per second.
async function throughputRound(clients, opts) {
  let next = 0;
  const t0 = performance.now();
  await Promise.all(clients.map(async (c) => {
    while (next < opts.calls) {
      next++;
      await callOnce(c, opts);
    }
  }));
  return opts.calls / ((performance.now() - t0) / 1000);
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const token = readFileSync(opts.tokenFile, 'utf8').trim();
  const keyPem = readFileSync(opts.key, 'utf8');
  const gwFetch = await dpopFetch(token, keyPem);
  const paths = {
    direct: { url: opts.direct, fetch: null },
    gateway: { url: opts.gateway, fetch: gwFetch },
  };
  const results = {};
  for (const [name, p] of Object.entries(paths)) {
    p.single = await connect(p.url, p.fetch);
    p.pool = [];
    for (let i = 0; i < opts.concurrency; i++) p.pool.push(await connect(p.url, p.fetch));
    // Warm-up: connections, JIT, caches.
    for (let i = 0; i < Math.min(50, opts.calls); i++) await callOnce(p.single, opts);
    results[name] = { latency: [], rps: [] };
  }
  for (let r = 0; r < opts.rounds; r++) {
    for (const [name, p] of Object.entries(paths)) {
      await latencyRound(p.single, opts, results[name].latency);
      results[name].rps.push(await throughputRound(p.pool, opts));
    }
  }
  const summary = {};
  for (const [name, res] of Object.entries(results)) {
    const sorted = res.latency.slice().sort((a, b) => a - b);
    summary[name] = {
      calls: sorted.length,
      p50_us: Math.round(percentile(sorted, 50)),
      p99_us: Math.round(percentile(sorted, 99)),
      rps: Math.round(res.rps.reduce((a, b) => a + b, 0) / res.rps.length),
    };
  }
  summary.added_p50_us = summary.gateway.p50_us - summary.direct.p50_us;
  summary.added_p99_us = summary.gateway.p99_us - summary.direct.p99_us;
  summary.throughput_ratio = Number((summary.gateway.rps / summary.direct.rps).toFixed(3));
  summary.concurrency = opts.concurrency;
  for (const p of Object.values(paths)) {
    await p.single.close();
    for (const c of p.pool) await c.close();
  }
  if (opts.json) {
    console.log(JSON.stringify(summary));
    return;
  }
  console.log(`tool ${opts.tool}, ${opts.rounds} rounds x ${opts.calls} calls per path`);
  console.log('path      calls   p50 us   p99 us   calls/s (' + opts.concurrency + ' clients)');
  for (const name of ['direct', 'gateway']) {
    const s = summary[name];
    console.log(`${name.padEnd(8)} ${String(s.calls).padStart(6)} ${String(s.p50_us).padStart(8)} ` +
                `${String(s.p99_us).padStart(8)} ${String(s.rps).padStart(9)}`);
  }
  console.log(`added latency: p50 ${summary.added_p50_us} us, p99 ${summary.added_p99_us} us; ` +
              `throughput ratio gateway/direct ${summary.throughput_ratio}`);
}

main().catch((e) => {
  console.error(`mcp_load: ${e.message}`);
  process.exit(1);
});
