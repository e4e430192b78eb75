#!/usr/bin/env node
// End-to-end test of the MCP enforcement gateway with the real MCP SDK on
// both sides:
//
//   node tests/mcp/mcp_sdk_test.mjs WARDEN_BINARY SOURCE_DIR
//
// It starts the demo upstream (examples/mcp-demo/server.mjs, an SDK server),
// `warden serve` on 127.0.0.1:0 with a temporary data directory, the example
// policies and a gateway config naming the upstream, registers the demo agent
// and an approver with the CLI, then checks:
//   (a) an SDK client over Streamable HTTP straight to /mcp/helpdesk, with
//       the grant token and a fresh DPoP proof (made with jose) per request:
//       tools/list is filtered, read_ticket is allowed, delete_ticket is
//       denied with the deciding policy named;
//   (b) the same through `warden workload mcp` (SDK stdio client), which
//       completes its grant when the client disconnects;
//   (c) issue_refund needs approval: approved while the call waits -> result;
//       nobody decides -> error carrying approval_id;
//   (d) a grant revoked mid-session: the next call fails (both paths), and
//       `warden workload mcp` exits non-zero;
//   (e) the upstream is down: the call fails with a JSON-RPC error, never a
//       result.
// Exit status: 0 all passed, 1 a case failed, 77 skipped (tooling missing).
// Every child process is killed at the end; every wait is bounded.
import { spawn, execFile } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import assert from 'node:assert/strict';

const SKIP = 77;
const [wardenArg, sourceArg] = process.argv.slice(2);
const sourceDir = path.resolve(sourceArg ?? process.env.WARDEN_SOURCE_DIR ?? '.');
const warden = wardenArg ? path.resolve(wardenArg) : '';
if (!warden || !fs.existsSync(warden)) {
  console.error(`usage: mcp_sdk_test.mjs WARDEN_BINARY SOURCE_DIR (no binary at "${warden}")`);
  process.exit(1);
}
for (const pkg of ['@modelcontextprotocol/sdk', 'jose']) {
  if (!fs.existsSync(path.join(sourceDir, 'node_modules', pkg, 'package.json'))) {
    console.log(`mcp_sdk_integration: skipped: ${pkg} is not installed in ${sourceDir}/node_modules ` +
                '(run `make node-deps`)');
    process.exit(SKIP);
  }
}
const { Client } = await import('@modelcontextprotocol/sdk/client/index.js');
const { StreamableHTTPClientTransport } =
  await import('@modelcontextprotocol/sdk/client/streamableHttp.js');
const { StdioClientTransport } = await import('@modelcontextprotocol/sdk/client/stdio.js');
const jose = await import('jose');

const APPROVAL_WAIT_SECONDS = 8;
const CALL_TIMEOUT_MS = 60_000;
const OVERALL_TIMEOUT_MS = 270_000;

const children = new Set();
const results = [];  // {name, ok, detail}
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'warden-mcp-'));
const data = path.join(tmp, 'data');
const socket = path.join(data, 'public', 'workload.sock');
const intentFile = path.join(sourceDir, 'examples', 'mcp-demo', 'intent.json');

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function log(...args) {
  console.log('[mcp-test]', ...args);
}

// Rejects when `promise` has not settled after `ms`.
function within(ms, what, promise) {
  let timer;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
    }),
  ]);
}

function track(child, name) {
  children.add(child);
  child.on('exit', () => children.delete(child));
  child.label = name;
  return child;
}

async function killAll() {
  for (const child of children) {
    try { child.kill('SIGTERM'); } catch { /* gone */ }
  }
  const deadline = Date.now() + 5000;
  while (children.size > 0 && Date.now() < deadline) await sleep(100);
  for (const child of children) {
    log(`killing ${child.label} (pid ${child.pid}) with SIGKILL`);
    try { child.kill('SIGKILL'); } catch { /* gone */ }
  }
}

// Runs the warden CLI as the administrator; {code, stdout, stderr}.
function cli(args, { timeout = 30_000, env = {} } = {}) {
  return new Promise((resolve) => {
    const child = execFile(warden, ['--server', baseUrl, '--data', data, ...args], {
      timeout, env: { ...cleanEnv(), ...env }, maxBuffer: 16 << 20,
    }, (error, stdout, stderr) => {
      resolve({ code: error ? (error.code ?? 1) : 0, stdout, stderr });
    });
    track(child, `warden ${args.slice(0, 2).join(' ')}`);
  });
}

async function cliJson(args, opts) {
  const r = await cli([...args, '--json'], opts);
  assert.equal(r.code, 0, `warden ${args.join(' ')} failed: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

// The environment without WARDEN_* variables from outside the test.
function cleanEnv() {
  const env = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('WARDEN_')) env[k] = v;
  return env;
}

// Waits for a line matching `re` on a child's stdout; the match.
function waitForLine(child, re, ms, what) {
  return within(ms, what, new Promise((resolve, reject) => {
    let buf = '';
    child.stdout.on('data', (chunk) => {
      buf += chunk.toString();
      const m = buf.match(re);
      if (m) resolve(m);
    });
    child.on('exit', (code) => reject(new Error(`${what}: exited with ${code}`)));
  }));
}

async function runCase(name, fn) {
  const started = Date.now();
  try {
    await within(120_000, name, fn());
    results.push({ name, ok: true });
    log(`PASS ${name} (${Date.now() - started} ms)`);
  } catch (e) {
    results.push({ name, ok: false, detail: e?.stack ?? String(e) });
    log(`FAIL ${name}: ${e?.message ?? e}`);
  }
}

// ---- setup ---------------------------------------------------------------

let baseUrl = '';
let upstream;
let upstreamUrl = '';

async function startUpstream() {
  upstream = track(spawn(process.execPath, [path.join(sourceDir, 'examples', 'mcp-demo', 'server.mjs'), '0'],
                         { stdio: ['ignore', 'pipe', 'inherit'] }), 'helpdesk upstream');
  const m = await waitForLine(upstream, /listening on (http:\/\/\S+)/, 20_000, 'demo upstream start');
  upstreamUrl = m[1];
  log(`upstream at ${upstreamUrl}`);
}

async function startWarden() {
  fs.mkdirSync(data, { mode: 0o711 });
  fs.chmodSync(data, 0o711);
  fs.mkdirSync(path.join(data, 'policies'), { mode: 0o700 });
  for (const f of fs.readdirSync(path.join(sourceDir, 'examples', 'policies'))) {
    const to = path.join(data, 'policies', f);
    fs.copyFileSync(path.join(sourceDir, 'examples', 'policies', f), to);
    fs.chmodSync(to, 0o600);
  }
  const config = path.join(tmp, 'config.json');
  fs.writeFileSync(config, JSON.stringify({
    gateway: {
      mcp_servers: { helpdesk: { url: upstreamUrl } },
      approval_wait: `${APPROVAL_WAIT_SECONDS}s`,
    },
  }, null, 2), { mode: 0o600 });
  const serve = track(spawn(warden, ['serve', '--data', data, '--listen', '127.0.0.1:0', '--config', config],
                            { stdio: ['ignore', 'ignore', 'pipe'], env: cleanEnv() }), 'warden serve');
  let serveErr = '';
  serve.stderr.on('data', (c) => { serveErr += c.toString(); });
  const addrFile = path.join(data, 'serve.addr');
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (serve.exitCode !== null) throw new Error(`warden serve exited: ${serveErr}`);
    if (fs.existsSync(addrFile) && fs.readFileSync(addrFile, 'utf8').trim()) break;
    await sleep(100);
  }
  const addr = fs.readFileSync(addrFile, 'utf8').trim();
  baseUrl = addr.startsWith('http') ? addr : `http://${addr}`;
  log(`warden serve at ${baseUrl}`);
}

async function setupIdentities() {
  let r = await cli(['agent', 'create', 'demo-agent', '--owner', 'demo@example.com', '--purpose',
                     'MCP SDK integration test agent', '--env', 'dev', '--expires', '1d',
                     '--selector', `unix:uid:${process.getuid()}`]);
  assert.equal(r.code, 0, r.stderr);
  r = await cli(['approver', 'add', 'bob']);
  assert.equal(r.code, 0, r.stderr);
  fs.writeFileSync(path.join(tmp, 'bob.token'), r.stdout.trim() + '\n', { mode: 0o600 });
  r = await cli(['workload', 'keygen', '--out', path.join(tmp, 'agent.key')]);
  assert.equal(r.code, 0, r.stderr);
}

// A grant for the demo intent, bound to tmp/agent.key: {id, token}.
async function obtainGrant() {
  const g = await cliJson(['workload', 'grant', '--intent', intentFile, '--key',
                           path.join(tmp, 'agent.key'), '--socket', socket]);
  assert.equal(g.status, 'active', JSON.stringify(g));
  return { id: g.id, token: g.token };
}

// ---- the direct client (Streamable HTTP + DPoP) ---------------------------

const b64url = (buf) => Buffer.from(buf).toString('base64url');

function dpopSigner(keyFile) {
  const pem = fs.readFileSync(keyFile, 'utf8');
  const privateKey = crypto.createPrivateKey(pem);
  const publicJwk = crypto.createPublicKey(privateKey).export({ format: 'jwk' });
  const alg = publicJwk.kty === 'OKP' ? 'EdDSA' : 'ES256';
  return async (htm, htu, token) => new jose.SignJWT({
    htm, htu, jti: b64url(crypto.randomBytes(16)),
    ath: b64url(crypto.createHash('sha256').update(token).digest()),
  }).setProtectedHeader({ typ: 'dpop+jwt', alg, jwk: publicJwk }).setIssuedAt().sign(privateKey);
}

// An SDK client connected to /mcp/helpdesk, presenting `grant` with a fresh
// DPoP proof on every request (htu: the URL without query).
async function directClient(grant) {
  const sign = dpopSigner(path.join(tmp, 'agent.key'));
  const fetchWithDpop = async (url, init = {}) => {
    const u = new URL(url);
    const headers = new Headers(init.headers);
    headers.set('Authorization', `DPoP ${grant.token}`);
    headers.set('DPoP', await sign(init.method ?? 'GET', u.origin + u.pathname, grant.token));
    return fetch(url, { ...init, headers });
  };
  const transport = new StreamableHTTPClientTransport(new URL(`${baseUrl}/mcp/helpdesk`),
                                                      { fetch: fetchWithDpop });
  const client = new Client({ name: 'warden-mcp-test', version: '1.0.0' });
  await within(20_000, 'connect (direct)', client.connect(transport));
  return { client, transport };
}

// ---- the stdio client through `warden workload mcp` -------------------------

async function stdioClient() {
  const transport = new StdioClientTransport({
    command: warden,
    args: ['--data', data, 'workload', 'mcp', '--gateway', baseUrl, '--server', 'helpdesk',
           '--intent', intentFile, '--socket', socket, '--wait', '30s'],
    env: cleanEnv(),
    stderr: 'pipe',
  });
  const proxy = { stderr: '', grantId: '', exitCode: null, exited: null };
  transport.stderr.on('data', (c) => {
    proxy.stderr += c.toString();
    const m = proxy.stderr.match(/grant (grt_[A-Za-z0-9]+) active until/);
    if (m) proxy.grantId = m[1];
  });
  const client = new Client({ name: 'warden-mcp-stdio-test', version: '1.0.0' });
  await within(30_000, 'connect (stdio)', client.connect(transport));
  const child = transport._process;  // the SDK keeps the child here
  assert.ok(child, 'the stdio transport exposes no child process');
  track(child, 'warden workload mcp');
  proxy.exited = new Promise((resolve) => {
    if (child.exitCode !== null) resolve(child.exitCode);
    child.on('exit', (code, signal) => { proxy.exitCode = code ?? signal; resolve(code ?? signal); });
  });
  return { client, transport, proxy };
}

// ---- assertions shared by (a) and (b) --------------------------------------

function textOf(result) {
  return (result?.content ?? []).filter((c) => c.type === 'text').map((c) => c.text).join('');
}

async function expectFiltered(client) {
  const { tools } = await client.listTools();
  const names = tools.map((t) => t.name).sort();
  assert.ok(names.includes('read_ticket'), `read_ticket missing from ${names}`);
  assert.ok(!names.includes('delete_ticket'), `delete_ticket (forbidden) listed: ${names}`);
}

async function expectReadAllowed(client) {
  const result = await client.callTool({ name: 'read_ticket', arguments: { id: 'T-1001' } },
                                       undefined, { timeout: CALL_TIMEOUT_MS });
  assert.ok(!result.isError, `read_ticket failed: ${JSON.stringify(result)}`);
  assert.match(textOf(result), /"id":"T-1001"/);
  assert.match(textOf(result), /"subject":/);
}

// Calls a tool and expects a JSON-RPC error (never a result); the error.
async function expectRpcError(client, name, args, timeout = CALL_TIMEOUT_MS) {
  let result;
  try {
    result = await client.callTool({ name, arguments: args }, undefined, { timeout });
  } catch (e) {
    // JSON-RPC error codes are negative; an HTTP failure of the transport
    // carries the (positive) HTTP status instead. -32001 is the SDK's own
    // request timeout: no answer came at all.
    assert.ok(Number.isInteger(e.code) && e.code < 0, `not a JSON-RPC error: ${e}`);
    assert.notEqual(e.code, -32001, `no answer before the client's timeout: ${e.message}`);
    return e;
  }
  assert.fail(`${name} answered with a result: ${JSON.stringify(result)}`);
}

async function expectDeleteDenied(client) {
  const e = await expectRpcError(client, 'delete_ticket', { id: 'T-1001' });
  const text = JSON.stringify({ message: e.message, data: e.data });
  assert.match(text, /no-ticket-deletion/, `the denial does not name the policy: ${text}`);
}

// Polls the approval queue for the pending call approval of demo-agent.
async function pendingCallApproval(excluding = new Set()) {
  const deadline = Date.now() + APPROVAL_WAIT_SECONDS * 1000;
  while (Date.now() < deadline) {
    const list = await cliJson(['approval', 'list', '--status', 'pending', '--agent', 'demo-agent']);
    const found = (list.approvals ?? []).find((a) => a.kind === 'call' && !excluding.has(a.id));
    if (found) return found;
    await sleep(200);
  }
  throw new Error('no pending call approval appeared');
}

// ---- the cases --------------------------------------------------------------

async function main() {
  await startUpstream();
  await startWarden();
  await setupIdentities();

  let direct;
  let directGrant;
  await runCase('(a) direct SDK client: connect with grant + DPoP', async () => {
    directGrant = await obtainGrant();
    direct = await directClient(directGrant);
  });
  await runCase('(a) direct: tools/list filtered (delete_ticket absent)', async () => {
    assert.ok(direct, 'not connected');
    await expectFiltered(direct.client);
  });
  await runCase('(a) direct: read_ticket allowed with content', async () => {
    assert.ok(direct, 'not connected');
    await expectReadAllowed(direct.client);
  });
  await runCase('(a) direct: delete_ticket denied naming the policy', async () => {
    assert.ok(direct, 'not connected');
    await expectDeleteDenied(direct.client);
  });

  const seenApprovals = new Set();
  await runCase('(c) issue_refund approved while the call waits -> result', async () => {
    assert.ok(direct, 'not connected');
    const call = direct.client.callTool(
      { name: 'issue_refund', arguments: { ticket_id: 'T-1001', amount: 12.5, currency: 'EUR' } },
      undefined, { timeout: CALL_TIMEOUT_MS });
    call.catch(() => {});  // judged below
    const approval = await pendingCallApproval();
    seenApprovals.add(approval.id);
    const r = await cli(['approval', 'approve', approval.id, '--reason', 'customer was charged twice',
                         '--approver-token-file', path.join(tmp, 'bob.token')]);
    assert.equal(r.code, 0, `approve failed: ${r.stderr}`);
    const result = await call;
    assert.ok(!result.isError, `refund failed: ${JSON.stringify(result)}`);
    assert.match(textOf(result), /rf_T-1001_1250/);
  });
  await runCase('(c) issue_refund nobody approves -> error with approval_id', async () => {
    assert.ok(direct, 'not connected');
    const started = Date.now();
    const e = await expectRpcError(direct.client, 'issue_refund',
                                   { ticket_id: 'T-1002', amount: 99, currency: 'EUR' });
    const approvalId = e.data?.approval_id ?? JSON.stringify(e.data ?? {}).match(/apr_[A-Za-z0-9]+/)?.[0];
    assert.ok(approvalId && /^apr_/.test(approvalId), `no approval_id in ${JSON.stringify(e.data)}`);
    assert.ok(Date.now() - started >= (APPROVAL_WAIT_SECONDS - 1) * 1000,
              `answered before approval_wait (${Date.now() - started} ms)`);
  });
  await runCase('(d) direct: grant revoked mid-session -> next call fails', async () => {
    assert.ok(direct, 'not connected');
    await expectReadAllowed(direct.client);
    const r = await cli(['grant', 'revoke', directGrant.id, '--reason', 'revocation test']);
    assert.equal(r.code, 0, r.stderr);
    let result;
    try {
      result = await direct.client.callTool({ name: 'read_ticket', arguments: { id: 'T-1001' } },
                                            undefined, { timeout: 20_000 });
    } catch {
      return;  // refused: an HTTP 401 or a JSON-RPC error
    }
    assert.fail(`a call under a revoked grant succeeded: ${JSON.stringify(result)}`);
  });
  if (direct) await direct.client.close().catch(() => {});

  await runCase('(b) stdio via warden workload mcp: list, read, delete denied, clean exit', async () => {
    const s = await stdioClient();
    try {
      await expectFiltered(s.client);
      await expectReadAllowed(s.client);
      await expectDeleteDenied(s.client);
    } finally {
      await s.client.close().catch(() => {});
    }
    const code = await within(10_000, 'workload mcp exit', s.proxy.exited);
    assert.equal(code, 0, `workload mcp exited with ${code}: ${s.proxy.stderr}`);
    assert.ok(s.proxy.grantId, `no grant id on stderr: ${s.proxy.stderr}`);
    const g = await cliJson(['grant', 'show', s.proxy.grantId]);
    assert.equal(g.status, 'completed', `grant ${s.proxy.grantId} is ${g.status}: ${s.proxy.stderr}`);
  });

  await runCase('(d) stdio: grant revoked mid-session -> call fails, proxy exits non-zero', async () => {
    const s = await stdioClient();
    try {
      await expectReadAllowed(s.client);
      const r = await cli(['grant', 'revoke', s.proxy.grantId, '--reason', 'revocation test']);
      assert.equal(r.code, 0, r.stderr);
      await expectRpcError(s.client, 'read_ticket', { id: 'T-1001' }, 20_000);
      const code = await within(15_000, 'workload mcp exit after revocation', s.proxy.exited);
      assert.notEqual(code, 0, 'workload mcp exited 0 after its grant was revoked');
    } finally {
      await s.client.close().catch(() => {});
    }
  });

  await runCase('(e) upstream down -> JSON-RPC error, never a result', async () => {
    const s = await stdioClient();
    let d;
    try {
      await expectReadAllowed(s.client);
      const g = await obtainGrant();
      d = await directClient(g);
      upstream.kill('SIGTERM');
      await within(10_000, 'upstream exit', new Promise((r) => {
        if (upstream.exitCode !== null) r(); else upstream.on('exit', r);
      }));
      await expectRpcError(s.client, 'read_ticket', { id: 'T-1001' }, 30_000);
      await expectRpcError(d.client, 'read_ticket', { id: 'T-1001' }, 30_000);
    } finally {
      await s.client.close().catch(() => {});
      if (d) await d.client.close().catch(() => {});
    }
  });

  await runCase('audit chain verifies', async () => {
    const r = await cli(['audit', 'verify']);
    assert.equal(r.code, 0, `${r.stdout}${r.stderr}`);
  });
}

const watchdog = setTimeout(async () => {
  log(`overall timeout (${OVERALL_TIMEOUT_MS} ms) reached`);
  results.push({ name: 'overall time limit', ok: false, detail: 'timed out' });
  await finish();
}, OVERALL_TIMEOUT_MS);

let finished = false;
async function finish() {
  if (finished) return;
  finished = true;
  clearTimeout(watchdog);
  await killAll();
  if (process.env.WARDEN_KEEP_TMP) log(`kept ${tmp}`); else fs.rmSync(tmp, { recursive: true, force: true });
  const failed = results.filter((r) => !r.ok);
  console.log('\n==== MCP SDK integration summary ====');
  for (const r of results) console.log(`${r.ok ? 'PASS' : 'FAIL'}  ${r.name}`);
  for (const r of failed) console.log(`\n--- ${r.name}\n${r.detail}`);
  console.log(`\n${results.length - failed.length}/${results.length} passed`);
  process.exit(failed.length === 0 && results.length > 0 ? 0 : 1);
}

try {
  await main();
} catch (e) {
  results.push({ name: 'setup', ok: false, detail: e?.stack ?? String(e) });
}
await finish();
