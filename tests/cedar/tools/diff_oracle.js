#!/usr/bin/env node
// Differential helper: reads a file of policy texts separated by lines "----" and
// prints, per text, "ok N" or "err MESSAGE" according to cedar-wasm. Compare with
// the same cases run through Warden's parser. Run from the repository root.
'use strict';
const fs = require('fs');
const path = require('path');
const cedar = require(path.join(process.cwd(), 'node_modules/@cedar-policy/cedar-wasm/nodejs'));
const texts = fs.readFileSync(process.argv[2], 'utf8').split('\n----\n');
for (const text of texts) {
  const r = cedar.checkParsePolicySet({ staticPolicies: text });
  if (r.type === 'success') {
    console.log(`ok ${cedar.policySetTextToParts(text).policies.length}`);
  } else if (r.errors[0].message === 'static policy set includes a template') {
    const parts = cedar.policySetTextToParts(text);
    console.log(`ok ${parts.type === 'success' ? parts.policies.length + parts.policy_templates.length : '?'}`);
  } else {
    const loc = r.errors[0].sourceLocations && r.errors[0].sourceLocations[0];
    console.log(`err @${loc ? loc.start : "?"} ${JSON.stringify(r.errors[0].message)}`);
  }
}
