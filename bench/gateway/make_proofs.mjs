// Writes N DPoP proofs (one per line) for one request, so a load generator
// that cannot sign (wrk) can still send a fresh, never-replayed proof with
// every request. Proofs carry ath for the token and iat = now: use them
// within the server's proof age (60 s by default).
// Usage: node make_proofs.mjs --token-file FILE --key FILE --method GET
//          --uri http://host/path --count N --out FILE
import { readFileSync, writeFileSync } from 'node:fs';
import { createHash, createPrivateKey, randomUUID, sign } from 'node:crypto';

const args = {};
for (let i = 2; i < process.argv.length; i += 2) args[process.argv[i].replace(/^--/, '')] = process.argv[i + 1];
for (const k of ['token-file', 'key', 'method', 'uri', 'count', 'out']) {
  if (!args[k]) {
    console.error(`make_proofs: --${k} is required`);
    process.exit(2);
  }
}
const count = Number(args.count);
if (!Number.isInteger(count) || count < 1 || count > 2000000) {
  console.error('make_proofs: --count must be an integer between 1 and 2000000');
  process.exit(2);
}
const token = readFileSync(args['token-file'], 'utf8').trim();
const key = createPrivateKey(readFileSync(args.key, 'utf8'));
const ed = key.asymmetricKeyType === 'ed25519';
const pub = key.export({ format: 'jwk' });
delete pub.d;
const header = Buffer.from(JSON.stringify({ alg: ed ? 'EdDSA' : 'ES256', typ: 'dpop+jwt', jwk: pub }))
  .toString('base64url');
const ath = createHash('sha256').update(token).digest('base64url');
const u = new URL(args.uri);
const htu = `${u.origin}${u.pathname}`;
const iat = Math.floor(Date.now() / 1000);
const lines = [];
for (let i = 0; i < count; i++) {
  const payload = Buffer.from(JSON.stringify({ htm: args.method, htu, iat, jti: randomUUID(), ath }))
    .toString('base64url');
  const input = Buffer.from(`${header}.${payload}`);
  const sig = ed ? sign(null, input, key) : sign('sha256', input, { key, dsaEncoding: 'ieee-p1363' });
  lines.push(`${header}.${payload}.${sig.toString('base64url')}`);
}
writeFileSync(args.out, lines.join('\n') + '\n', { mode: 0o600 });
