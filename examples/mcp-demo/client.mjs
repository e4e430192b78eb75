#!/usr/bin/env node
// The quick start's agent: an ordinary MCP client (the MCP TypeScript SDK)
// that launches `warden workload mcp` as its stdio MCP server. That process
// proves who it is on Warden's Workload API socket, obtains a grant for
// examples/mcp-demo/intent.json, and carries every call to the gateway, where
// Cedar decides it. See examples/quickstart.md.
//
//   node examples/mcp-demo/client.mjs
//
// Environment: WARDEN_BIN (default build/release/warden), WARDEN_GATEWAY
// (default http://127.0.0.1:8181), WARDEN_DATA (default .warden: where the
// Workload API socket is).
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const warden = path.resolve(root, process.env.WARDEN_BIN ?? 'build/release/warden');
const gateway = process.env.WARDEN_GATEWAY ?? 'http://127.0.0.1:8181';
const data = path.resolve(root, process.env.WARDEN_DATA ?? '.warden');
// A refund waits for a human for as long as the gateway's approval_wait.
const CALL_TIMEOUT_MS = 10 * 60 * 1000;

const show = (title, value) => console.log(`\n== ${title}\n${value}`);
const textOf = (result) =>
  (result.content ?? []).filter((c) => c.type === 'text').map((c) => c.text).join('\n');

async function call(client, name, args) {
  try {
    const result = await client.callTool({ name, arguments: args }, undefined,
                                         { timeout: CALL_TIMEOUT_MS });
    show(`${name}: allowed`, textOf(result));
  } catch (e) {
    show(`${name}: refused (JSON-RPC error ${e.code})`,
         `${e.message}${e.data ? `\n${JSON.stringify(e.data, null, 2)}` : ''}`);
  }
}

const transport = new StdioClientTransport({
  command: warden,
  args: ['--data', data, 'workload', 'mcp', '--gateway', gateway, '--server', 'helpdesk',
         '--intent', path.join(root, 'examples', 'mcp-demo', 'intent.json')],
  stderr: 'inherit',  // warden's own messages (grant id, errors) go to this terminal
});
const client = new Client({ name: 'warden-quickstart', version: '1.0.0' });
try {
  await client.connect(transport);
  const { tools } = await client.listTools();
  show('tools this grant may call (tools/list, filtered by policy)',
       tools.map((t) => `${t.name}: ${t.description ?? ''}`).join('\n'));

  await call(client, 'read_ticket', { id: 'T-1001' });
  await call(client, 'delete_ticket', { id: 'T-1001' });
  console.log('\n== issue_refund: needs a human. In another terminal:\n' +
              '  build/release/warden approval list\n' +
              '  build/release/warden approval approve apr_... --reason "charged twice" ' +
              '--approver-token-file bob.token');
  await call(client, 'issue_refund', { ticket_id: 'T-1001', amount: 12.5, currency: 'EUR' });
} catch (e) {
  console.error(`client: ${e.message ?? e}`);
  process.exitCode = 1;
} finally {
  // Closing stdin ends the MCP session and completes the grant.
  await client.close().catch(() => {});
}
console.log('\nDone. The evidence chain: build/release/warden audit tail');
