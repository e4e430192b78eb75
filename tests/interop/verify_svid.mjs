// Third-party verification of Warden's JWT-SVIDs with the `jose` package:
// the keys come from the running server's JWKS (createRemoteJWKSet) and each
// token is checked with jwtVerify for the expected audience and typ.
// Usage: node verify_svid.mjs JWKS_URL AUDIENCE TOKEN...
// Prints one JSON line per token ({"sub","kid","alg","cnf"}) and exits 1 on
// the first token that does not verify. A token presented for another
// audience must be refused, which is checked too.
import { createRemoteJWKSet, jwtVerify, errors } from 'jose';

const [jwksUrl, audience, ...tokens] = process.argv.slice(2);
if (!jwksUrl || !audience || tokens.length === 0) {
  console.error('usage: verify_svid.mjs JWKS_URL AUDIENCE TOKEN...');
  process.exit(2);
}
const jwks = createRemoteJWKSet(new URL(jwksUrl));
for (const token of tokens) {
  try {
    const { payload, protectedHeader } = await jwtVerify(token, jwks, {
      audience,
      typ: 'JWT',
      algorithms: ['EdDSA', 'ES256'],
      requiredClaims: ['sub', 'exp', 'iat', 'jti'],
    });
    if (!payload.sub.startsWith('spiffe://')) throw new Error(`sub is not a SPIFFE ID: ${payload.sub}`);
    console.log(JSON.stringify({ sub: payload.sub, kid: protectedHeader.kid, alg: protectedHeader.alg,
                                 cnf: payload.cnf ?? null }));
  } catch (e) {
    console.error(`token does not verify: ${e.code ?? ''} ${e.message}`);
    process.exit(1);
  }
  try {
    await jwtVerify(token, jwks, { audience: `${audience}.other` });
    console.error('token verified for an audience it was not issued to');
    process.exit(1);
  } catch (e) {
    if (!(e instanceof errors.JWTClaimValidationFailed)) {
      console.error(`wrong-audience check failed unexpectedly: ${e.message}`);
      process.exit(1);
    }
  }
}
