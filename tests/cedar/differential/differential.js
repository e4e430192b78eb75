#!/usr/bin/env node
// Differential case generator: random Cedar policy sets, entity graphs and
// requests, decided by the reference implementation (@cedar-policy/cedar-wasm).
// Writes one JSON object per line:
//   {"seed", "set", "case", "policies", "entities", "request",
//    "expected": {"decision", "reasons", "errors"}}
// where reasons and errors are policy ids (policy0, policy1, ... in text order).
//
// Usage: node differential.js [seed] [out.jsonl] [sets] [requests-per-set]
// Defaults: seed 20241121, stdout, 150 sets, 20 requests per set. The output is
// a pure function of the seed (and the reference's answers). DIFF_DEBUG=1
// prints why the reference rejected a call, when it does.
'use strict';

const fs = require('fs');
const path = require('path');

function loadCedar() {
  const candidates = [];
  if (process.env.WARDEN_SOURCE_DIR) {
    candidates.push(path.join(process.env.WARDEN_SOURCE_DIR, 'node_modules', '@cedar-policy', 'cedar-wasm', 'nodejs'));
  }
  candidates.push(path.join(__dirname, '..', '..', '..', 'node_modules', '@cedar-policy', 'cedar-wasm', 'nodejs'));
  for (const c of candidates) {
    try {
      return require(c);
    } catch (e) {
      // try the next location
    }
  }
  process.stderr.write('cannot load @cedar-policy/cedar-wasm (looked in ' + candidates.join(', ') + ')\n');
  process.exit(3);
}

const cedar = loadCedar();
const seed = Number(process.argv[2] || 20241121) >>> 0;
const outPath = process.argv[3] || '-';
const numSets = Number(process.argv[4] || 150);
const perSet = Number(process.argv[5] || 20);

// mulberry32: small, seedable, deterministic.
let state = seed;
function next() {
  state = (state + 0x6d2b79f5) >>> 0;
  let t = state;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const below = (n) => Math.floor(next() * n);
const chance = (p) => next() < p;
const pick = (a) => a[below(a.length)];

const NG = 5, NU = 8, ND = 5, NF = 3;
const uid = (type, id) => ({ type, id });
const lit = (type, id) => `${type}::"${id}"`;
const user = () => lit('User', 'u' + below(NU + 1));       // u8 does not exist
const group = () => lit('Group', 'g' + below(NG + 1));     // g5 does not exist
const doc = () => lit('Doc', 'd' + below(ND + 1));
const folder = () => lit('Folder', 'f' + below(NF));
const words = ['a', 'b', 'ab', 'abc', 'x*y', '', 'héllo'];
const str = () => JSON.stringify(pick(words));

function entities() {
  const out = [];
  for (let g = 0; g < NG; g++) {
    const parents = [];
    if (g > 0 && chance(0.6)) parents.push(uid('Group', 'g' + below(g)));
    out.push({ uid: uid('Group', 'g' + g), attrs: { rank: below(4) }, parents });
  }
  for (let f = 0; f < NF; f++) {
    out.push({ uid: uid('Folder', 'f' + f), attrs: {}, parents: f > 0 && chance(0.5) ? [uid('Folder', 'f0')] : [] });
  }
  for (let u = 0; u < NU; u++) {
    const attrs = {};
    if (chance(0.8)) attrs.level = pick([0, 1, 5, 9, 4611686018427387, -4611686018427387]);
    if (chance(0.6)) attrs.tags = [...new Set([pick(words), pick(words)])].slice(0, below(3));
    if (chance(0.5)) attrs.boss = { __entity: uid('User', 'u' + below(NU + 1)) };
    if (chance(0.5)) attrs.profile = chance(0.7) ? { age: below(80), email: 'u' + u + '@x' } : { age: below(80) };
    if (chance(0.4)) attrs.addr = { __extn: { fn: 'ip', arg: pick(['10.0.0.1', '10.0.1.7', '192.168.0.1', '::1', '10.0.0.0/24']) } };
    if (chance(0.4)) attrs.score = { __extn: { fn: 'decimal', arg: pick(['1.5', '0.25', '-3.1', '922337203685477.5807']) } };
    if (chance(0.3)) attrs.name = pick(words);
    const parents = [];
    for (let k = below(3); k > 0; k--) parents.push(uid('Group', 'g' + below(NG)));
    const e = { uid: uid('User', 'u' + u), attrs, parents: [...new Map(parents.map((p) => [p.id, p])).values()] };
    if (chance(0.5)) e.tags = { t: below(3), s: pick(words) };
    out.push(e);
  }
  for (let d = 0; d < ND; d++) {
    const attrs = { size: pick([0, 3, 100, 4503599627370495]), public: chance(0.5) };
    if (chance(0.8)) attrs.owner = { __entity: uid('User', 'u' + below(NU + 1)) };
    if (chance(0.3)) attrs.created = { __extn: { fn: 'datetime', arg: pick(['2024-01-01', '2024-06-30T12:00:00Z', '1999-12-31']) } };
    out.push({ uid: uid('Doc', 'd' + d), attrs, parents: chance(0.7) ? [uid('Folder', 'f' + below(NF))] : [] });
  }
  out.push({ uid: uid('Action', 'all'), attrs: {}, parents: [] });
  for (const a of ['read', 'write', 'delete']) {
    out.push({ uid: uid('Action', a), attrs: {}, parents: a !== 'delete' || chance(0.5) ? [uid('Action', 'all')] : [] });
  }
  return out;
}

// Integer-valued expressions (may overflow or error on purpose).
function intExpr(depth) {
  const leaves = [
    () => String(below(10)), () => 'principal.level', () => 'context.n', () => 'resource.size',
    () => '9223372036854775807', () => '(-9223372036854775807 - 1)', () => 'principal.profile.age',
    () => 'principal.getTag("t")', () => '4611686018427387904',
  ];
  if (depth <= 0 || chance(0.4)) return pick(leaves)();
  const a = intExpr(depth - 1), b = intExpr(depth - 1);
  return pick([`(${a} + ${b})`, `(${a} - ${b})`, `(${a} * ${b})`, `(-${a})`,
    `(if context.flag then ${a} else ${b})`]);
}

// Boolean-valued expressions.
function boolExpr(depth) {
  const atoms = [
    () => `${intExpr(2)} ${pick(['<', '<=', '>', '>=', '==', '!='])} ${intExpr(1)}`,
    () => `principal has ${pick(['level', 'tags', 'boss', 'profile', 'name', 'nope'])}`,
    () => `principal has profile.email`, () => `context has rec.inner`,
    () => `resource.owner == principal`, () => `principal in resource.owner.boss`,
    () => `principal.boss.level > ${below(10)}`,
    () => `context.s like "${pick(['a*', '*b', 'a*c', '*', '\\*', 'ab', 'x\\*y', '*é*'])}"`,
    () => `principal.name like "a*"`,
    () => `principal.tags.contains(${str()})`,
    () => `principal.tags.containsAll([${str()}, ${str()}])`,
    () => `context.list.containsAny([${below(4)}, ${below(4)}])`,
    () => `context.list.isEmpty()`,
    () => `[${str()}, ${below(3)}, ${user()}].contains(${pick(['principal', 'context.s', 'context.n'])})`,
    () => `principal in [${group()}, ${group()}]`,
    () => `principal in ${group()}`, () => `resource in ${folder()}`,
    () => `principal is ${pick(['User', 'Group'])}`,
    () => `principal is User in ${group()}`,
    () => `action in ${pick(['Action::"all"', '[Action::"read", Action::"delete"]'])}`,
    () => `principal.hasTag(${pick(['"t"', '"s"', '"u"'])})`,
    () => `principal.getTag("s") == ${str()}`,
    () => `context.rec == {inner: ${below(3)}, name: ${str()}}`,
    () => `context.rec.inner == ${below(3)}`,
    () => `context.flag`, () => `resource.public`,
    () => `principal.addr.isInRange(ip("10.0.0.0/${pick([8, 24, 32])}"))`,
    () => `context.ip.isLoopback() || context.ip.isIpv4()`,
    () => `ip("${pick(['10.0.0.1', '::ffff:10.0.0.1', '300.0.0.1', '10.0.0.0/33'])}").isIpv4()`,
    () => `principal.score.lessThan(decimal("${pick(['1.0', '0.3', '-2.5'])}"))`,
    () => `decimal("${pick(['1.23', '1.23456', '-0.5'])}").greaterThanOrEqual(decimal("0.0"))`,
    () => `context.t > datetime("2024-01-01")`,
    () => `datetime("2024-01-01").offset(duration("${pick(['1d', '-2h', '1d2h3m', '90000000000000000d'])}")) > context.t`,
    () => `resource.created.toDate() == datetime("2024-01-01")`,
    () => `context.t.durationSince(datetime("2024-01-01")) < duration("36h")`,
    () => `duration("${pick(['1h', '60m', '3600s'])}") == duration("1h")`,
    () => `context.t.toTime().toHours() >= ${below(24)}`,
    () => `${user()} == principal`, () => `context.ent == principal`,
    () => `context.missing == 1`, () => `principal.nope`, () => `("a" + 1) == 2`, () => `"a" < "b"`,
  ];
  if (depth <= 0 || chance(0.45)) return pick(atoms)();
  const a = boolExpr(depth - 1), b = boolExpr(depth - 1);
  return pick([`(${a} && ${b})`, `(${a} || ${b})`, `!(${a})`,
    `(if ${a} then ${b} else ${boolExpr(depth - 1)})`]);
}

function policy() {
  const effect = chance(0.65) ? 'permit' : 'forbid';
  const p = pick(['principal', `principal == ${user()}`, `principal in ${group()}`, 'principal is User',
    `principal is User in ${group()}`, `principal is Group in ${group()}`]);
  const a = pick(['action', 'action == Action::"read"', 'action in Action::"all"',
    'action in [Action::"read", Action::"write"]', 'action in []', 'action == Action::"delete"']);
  const r = pick(['resource', `resource == ${doc()}`, `resource in ${folder()}`, 'resource is Doc',
    `resource is Doc in ${folder()}`, 'resource is Folder']);
  let text = chance(0.2) ? `@id("ann${below(9)}") ` : '';
  text += `${effect}(${p}, ${a}, ${r})`;
  for (let k = below(3); k > 0; k--) text += ` ${chance(0.75) ? 'when' : 'unless'} { ${boolExpr(2)} }`;
  return text + ';\n';
}

function context() {
  const ctx = {};
  if (chance(0.8)) ctx.n = pick([0, 1, 2, 7, -3, 9007199254740991]);
  if (chance(0.8)) ctx.flag = chance(0.5);
  if (chance(0.7)) ctx.s = pick(words.concat(['abbc', 'ac', 'x*y', 'xzy']));
  if (chance(0.6)) ctx.t = { __extn: { fn: 'datetime', arg: pick(['2024-01-02', '2023-12-31T23:00:00Z', '2024-01-01T10:30:00.500+0100']) } };
  if (chance(0.5)) ctx.rec = chance(0.7) ? { inner: below(3), name: pick(words) } : { name: pick(words) };
  if (chance(0.5)) ctx.list = [...new Set([below(4), below(4)])];
  if (chance(0.4)) ctx.ip = { __extn: { fn: 'ip', arg: pick(['127.0.0.1', '10.1.2.3', '::1', 'fe80::1']) } };
  if (chance(0.3)) ctx.ent = { __entity: uid('User', 'u' + below(NU)) };
  return ctx;
}

function request() {
  const principal = chance(0.8) ? uid('User', 'u' + below(NU + 1)) : uid('Group', 'g' + below(NG + 1));
  const action = uid('Action', pick(['read', 'write', 'delete', 'all']));
  const resource = chance(0.8) ? uid('Doc', 'd' + below(ND + 1)) : uid('Folder', 'f' + below(NF + 1));
  return { principal, action, resource, context: context() };
}

// Data integers stay within 2^53 so JSON numbers are exact in JavaScript;
// 64-bit limits and overflow are exercised through policy literals instead.
const toJson = JSON.stringify;

const lines = [];
let callFailures = 0;
for (let s = 0; s < numSets; s++) {
  let policies = '';
  for (let n = 1 + below(8); n > 0; n--) policies += policy();
  const ents = entities();
  // Each call gets a fresh parse of the exact text written to the file.
  const entsJson = toJson(ents);
  // Parse the policies once per set (the reference caches them by id); when
  // that fails, isAuthorized reports the failure per request below.
  const setId = `set${s}`;
  const preparsed = cedar.preparsePolicySet(setId, { staticPolicies: policies }).type === 'success';
  for (let q = 0; q < perSet; q++) {
    const req = request();
    const reqJson = toJson(req);
    const call = Object.assign(JSON.parse(reqJson), { entities: JSON.parse(entsJson) });
    let answer;
    if (preparsed) {
      answer = cedar.statefulIsAuthorized(Object.assign(call, { preparsedPolicySetId: setId }));
    } else {
      answer = cedar.isAuthorized(Object.assign(call, { policies: { staticPolicies: policies } }));
    }
    if (answer.type !== 'success') {
      // The reference rejected the input as a whole (a policy parse error, say);
      // such cases carry no decision and are skipped, and counted.
      if (process.env.DIFF_DEBUG) process.stderr.write(JSON.stringify(answer.errors).slice(0, 300) + '\n');
      callFailures++;
      continue;
    }
    const expected = {
      decision: answer.response.decision,
      reasons: answer.response.diagnostics.reason,
      errors: answer.response.diagnostics.errors.map((e) => e.policyId),
    };
    lines.push(`{"seed":${seed},"set":${s},"case":${q},"policies":${JSON.stringify(policies)},` +
      `"entities":${entsJson},"request":${reqJson},"expected":${JSON.stringify(expected)}}`);
  }
}
const text = lines.join('\n') + '\n';
if (outPath === '-') process.stdout.write(text); else fs.writeFileSync(outPath, text);
process.stderr.write(`differential: seed ${seed}: ${lines.length} cases from ${numSets} sets (${callFailures} reference call failures skipped)\n`);
