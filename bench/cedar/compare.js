#!/usr/bin/env node
// Runs the workloads written by `cedar_bench --write-workloads DIR` through
// the reference Cedar engine (@cedar-policy/cedar-wasm, statefulIsAuthorized
// with each policy set parsed once up front), checks every decision it makes
// against the answers Warden wrote next to the requests (decision, set of
// reasons, set of erroring policy ids), and prints a comparison table using
// Warden's figures from cedar_bench's JSON output.
//
// Usage: node compare.js WORKLOAD_DIR [WARDEN_BENCH_JSON] [--max-seconds S]
//   --max-seconds S  CPU-time budget per workload for the reference engine
//                    (default 15); requests past the budget are neither timed
//                    nor checked, and the table says how many were.
// Both engines are measured in CPU time (Google Benchmark's items_per_second
// and process.cpuUsage()), which is steadier than wall time on a busy machine.
// Exit status: 0 when every checked decision agrees, 1 otherwise, 2 on bad input.
'use strict';

const fs = require('fs');
const path = require('path');

function usage(msg) {
  process.stderr.write(`${msg}\nusage: node compare.js WORKLOAD_DIR [WARDEN_BENCH_JSON] [--max-seconds S]\n`);
  process.exit(2);
}

const positional = [];
let maxSeconds = 15;
for (let i = 2; i < process.argv.length; i++) {
  if (process.argv[i] === '--max-seconds') {
    maxSeconds = Number(process.argv[++i]);
    if (!(maxSeconds > 0)) usage('--max-seconds needs a positive number');
  } else {
    positional.push(process.argv[i]);
  }
}
if (positional.length < 1) usage('missing WORKLOAD_DIR');
const [workloadDir, benchJsonPath] = positional;

function loadCedar() {
  const root = process.env.WARDEN_SOURCE_DIR || path.join(__dirname, '..', '..');
  const where = path.join(root, 'node_modules', '@cedar-policy', 'cedar-wasm', 'nodejs');
  try {
    return require(where);
  } catch (e) {
    usage(`cannot load @cedar-policy/cedar-wasm from ${where}: ${e.message}`);
  }
  return null;
}
const cedar = loadCedar();

// Warden's median per-decision CPU time (ns) and decisions/s per workload.
function wardenFigures(file) {
  const out = new Map();
  if (!file) return out;
  const doc = JSON.parse(fs.readFileSync(file, 'utf8'));
  const scale = { ns: 1, us: 1e3, ms: 1e6, s: 1e9 };
  for (const b of doc.benchmarks || []) {
    const name = b.run_name || b.name;
    const isMedian = b.run_type === 'aggregate' && b.aggregate_name === 'median';
    const isPlain = b.run_type === 'iteration' || b.run_type === undefined;
    if (!isMedian && !(isPlain && !out.has(name))) continue;
    if (!isMedian && out.has(name) && out.get(name).median) continue;
    const ns = b.cpu_time * (scale[b.time_unit] || 1);
    out.set(name, { ns, perSecond: b.items_per_second || 1e9 / ns, median: isMedian });
  }
  return out;
}

const sameSet = (a, b) => {
  const x = [...new Set(a)].sort(), y = [...new Set(b)].sort();
  return x.length === y.length && x.every((v, i) => v === y[i]);
};

function cpuNow() {
  const u = process.cpuUsage();
  return (u.user + u.system) * 1e3;  // ns
}

// Runs one workload; returns {name, requests, checked, disagreements, ns}.
function runWorkload(file) {
  const w = JSON.parse(fs.readFileSync(file, 'utf8'));
  const result = { name: w.name, requests: 0, checked: 0, disagreements: [], ns: 0, timed: 0 };
  const ids = [];
  w.groups.forEach((g, gi) => {
    result.requests += g.requests.length;
    const id = `${w.name}/${gi}`;
    const parsed = cedar.preparsePolicySet(id, { staticPolicies: g.policies });
    if (parsed.type !== 'success') throw new Error(`${id}: reference cannot parse the policies: ${JSON.stringify(parsed.errors)}`);
    ids.push(id);
  });
  // Warm the engine up (the first calls run unoptimised code), untimed.
  const warm = Math.min(20, w.groups[0].requests.length);
  for (let i = 0; i < warm; i++) {
    cedar.statefulIsAuthorized({ ...w.groups[0].requests[i], preparsedPolicySetId: ids[0], entities: w.groups[0].entities });
  }
  const budget = maxSeconds * 1e9;
  let spent = 0;
  outer: for (let gi = 0; gi < w.groups.length; gi++) {
    const g = w.groups[gi];
    for (let qi = 0; qi < g.requests.length; qi++) {
      if (spent > budget) break outer;
      const call = { ...g.requests[qi], preparsedPolicySetId: ids[gi], entities: g.entities };
      const t0 = cpuNow();
      const answer = cedar.statefulIsAuthorized(call);
      spent += cpuNow() - t0;
      result.timed++;
      const want = g.expected[qi];
      let why = '';
      if (answer.type !== 'success') {
        why = `reference call failed: ${JSON.stringify(answer.errors).slice(0, 300)}`;
      } else {
        const r = answer.response;
        const errors = r.diagnostics.errors.map((e) => e.policyId);
        if (r.decision !== want.decision) why += `decision ${want.decision} (warden) vs ${r.decision} (cedar); `;
        if (!sameSet(r.diagnostics.reason, want.reasons)) why += `reasons [${want.reasons}] vs [${r.diagnostics.reason}]; `;
        if (!sameSet(errors, want.errors)) why += `errors [${want.errors}] vs [${errors}]; `;
      }
      result.checked++;
      if (why) result.disagreements.push(`${w.name} group ${gi} request ${qi}: ${why}`);
    }
  }
  result.ns = result.timed ? spent / result.timed : NaN;
  return result;
}

const files = fs.readdirSync(workloadDir).filter((f) => f.endsWith('.json')).sort();
if (files.length === 0) usage(`no workload files in ${workloadDir}`);
const warden = wardenFigures(benchJsonPath);

const rows = [];
let disagreements = [];
for (const f of files) {
  const r = runWorkload(path.join(workloadDir, f));
  rows.push(r);
  disagreements = disagreements.concat(r.disagreements);
}

const fmt = (x) => (Number.isFinite(x) ? (x >= 100 ? Math.round(x).toLocaleString('en-US') : x.toFixed(2)) : 'n/a');
// "warden" decides pre-parsed requests against a loaded entity store; "warden
// parse/call" parses the entities and request JSON on every decision, the
// same per-call work cedar-wasm does (its API takes entities with each call).
const header = ['workload', 'requests', 'checked', 'agree', 'warden ns/dec', 'warden dec/s',
  'warden parse/call dec/s', 'cedar-wasm dec/s', 'ratio', 'ratio parse/call'];
const table = [header];
for (const r of rows) {
  const wf = warden.get(r.name);
  const wp = warden.get(`${r.name}/parse_per_call`);
  const cedarPerSecond = 1e9 / r.ns;
  table.push([r.name, String(r.requests), String(r.checked), String(r.checked - r.disagreements.length),
    wf ? fmt(wf.ns) : 'n/a', wf ? fmt(wf.perSecond) : 'n/a', wp ? fmt(wp.perSecond) : 'n/a',
    fmt(cedarPerSecond), wf ? `${fmt(wf.perSecond / cedarPerSecond)}x` : 'n/a',
    wp ? `${fmt(wp.perSecond / cedarPerSecond)}x` : 'n/a']);
}
const widths = header.map((_, c) => Math.max(...table.map((row) => row[c].length)));
for (const row of table) {
  process.stdout.write(row.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join('  ') + '\n');
}

// The targets Warden is held to.
const checks = [];
const agent = warden.get('agent_tool');
const agentRow = rows.find((r) => r.name === 'agent_tool');
if (agent) checks.push([`agent_tool median decision < 2 us`, `${fmt(agent.ns)} ns`, agent.ns < 2000]);
if (agent && agentRow) {
  const ratio = agent.perSecond / (1e9 / agentRow.ns);
  checks.push(['agent_tool >= 20x cedar-wasm decisions/s', `${fmt(ratio)}x`, ratio >= 20]);
}
for (const r of rows) {
  const wf = warden.get(r.name);
  if (wf && r.name !== 'agent_tool') {
    const ratio = wf.perSecond / (1e9 / r.ns);
    checks.push([`${r.name} >= 20x cedar-wasm decisions/s`, `${fmt(ratio)}x`, ratio >= 20]);
  }
  const wp = warden.get(`${r.name}/parse_per_call`);
  if (wp) {
    const ratio = wp.perSecond / (1e9 / r.ns);
    checks.push([`${r.name} >= 20x cedar-wasm, both parsing entities+request per call`, `${fmt(ratio)}x`, ratio >= 20]);
  }
}
const small = warden.get('large_set_10'), large = warden.get('large_set_10000');
if (small && large) {
  const slow = large.ns / small.ns;
  checks.push(['10,000 policies <= 3x slower per decision than 10', `${slow.toFixed(2)}x`, slow <= 3]);
}
if (checks.length) {
  process.stdout.write('\ntargets:\n');
  for (const [what, got, ok] of checks) process.stdout.write(`  ${ok ? 'MET ' : 'MISS'}  ${what}: ${got}\n`);
}
process.stdout.write(`\nagreement: ${rows.reduce((n, r) => n + r.checked, 0)} decisions checked, ${disagreements.length} disagreements\n`);
for (const d of disagreements.slice(0, 50)) process.stdout.write(`  DISAGREE ${d}\n`);
process.exit(disagreements.length ? 1 : 0);
