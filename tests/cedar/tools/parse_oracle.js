#!/usr/bin/env node
// Reference oracle for the Cedar parser tests: asks @cedar-policy/cedar-wasm whether
// policy texts parse. Usage:
//   node parse_oracle.js FILE...        one JSON line per file: {file, ok, count, errors}
//   node parse_oracle.js --expr TEXT    parses `permit(principal,action,resource) when { TEXT };`
//   node parse_oracle.js --format FILE  prints cedar-wasm's formatting of FILE
// Run from the repository root (node_modules is resolved from there).
'use strict';
const fs = require('fs');
const path = require('path');
const cedar = require(path.join(process.cwd(), 'node_modules/@cedar-policy/cedar-wasm/nodejs'));

function check(text) {
  const r = cedar.checkParsePolicySet({ staticPolicies: text });
  if (r.type === 'success') {
    const parts = cedar.policySetTextToParts(text);
    const count = parts.type === 'success' ? parts.policies.length + parts.policy_templates.length : -1;
    return { ok: true, count };
  }
  return {
    ok: false,
    errors: r.errors.map((e) => ({
      message: e.message,
      help: e.help,
      start: e.sourceLocations && e.sourceLocations.length ? e.sourceLocations[0].start : null,
    })),
  };
}

const args = process.argv.slice(2);
if (args[0] === '--expr') {
  console.log(JSON.stringify(check(`permit(principal,action,resource) when { ${args[1]} };`)));
} else if (args[0] === '--policy') {
  console.log(JSON.stringify(check(args[1])));
} else if (args[0] === '--format') {
  const r = cedar.formatPolicies({ policyText: fs.readFileSync(args[1], 'utf8'), lineWidth: 80, indentWidth: 2 });
  console.log(r.type === 'success' ? r.formatted_policy : JSON.stringify(r.errors));
} else {
  for (const file of args) {
    console.log(JSON.stringify({ file, ...check(fs.readFileSync(file, 'utf8')) }));
  }
}
