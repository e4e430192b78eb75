#!/usr/bin/env node
// The demo upstream behind the Warden gateway: a real MCP server ("helpdesk")
// built with the MCP TypeScript SDK, serving the Streamable HTTP transport
// with stateful sessions at http://127.0.0.1:PORT/mcp.
//
//   node examples/mcp-demo/server.mjs [PORT]     (or HELPDESK_PORT; default 8391; 0: any)
//
// Tools: read_ticket {id}, delete_ticket {id}, issue_refund {ticket_id,
// amount, currency}. The data is fake and deterministic (it is a demo): the
// same ticket id always reads the same. It listens on loopback only and has
// no authentication of its own: Warden's gateway is the only intended
// caller. Prints "helpdesk MCP server listening on URL" once ready.
import http from 'node:http';
import { randomUUID } from 'node:crypto';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { isInitializeRequest } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';

const MAX_BODY_BYTES = 1 << 20;
const portText = process.argv[2] ?? process.env.HELPDESK_PORT ?? '8391';
const port = Number(portText);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error(`helpdesk: invalid port ${JSON.stringify(portText)}`);
  process.exit(2);
}

const SUBJECTS = [
  'Cannot log in after password reset',
  'Charged twice for the same order',
  'Parcel arrived damaged',
  'Invoice shows the wrong address',
  'Subscription renewed after cancellation',
];
const CUSTOMERS = ['ada@example.com', 'grace@example.com', 'alan@example.com', 'edsger@example.com'];
const deleted = new Set();  // ticket ids deleted in this process's lifetime

// The fake ticket with this id: a pure function of the id.
function ticket(id) {
  const n = [...id].reduce((h, c) => (h * 31 + c.charCodeAt(0)) >>> 0, 7);
  return {
    id,
    subject: SUBJECTS[n % SUBJECTS.length],
    customer: CUSTOMERS[n % CUSTOMERS.length],
    status: deleted.has(id) ? 'deleted' : ['open', 'pending', 'solved'][n % 3],
    order: `ord_${(n % 90000) + 10000}`,
    amount_paid: { amount: ((n % 20000) / 100 + 10).toFixed(2), currency: 'EUR' },
  };
}

const text = (value) => ({ content: [{ type: 'text', text: JSON.stringify(value) }] });
const ticketId = z.string().regex(/^[A-Za-z0-9-]{1,32}$/).describe('Ticket id, e.g. T-1001');

// One McpServer per session: the SDK binds a server to one transport.
function helpdeskServer() {
  const server = new McpServer({ name: 'helpdesk', version: '1.0.0' });
  server.registerTool('read_ticket', {
    description: 'Read a support ticket: subject, customer, status, order and amount paid.',
    inputSchema: { id: ticketId },
    annotations: { readOnlyHint: true },
  }, async ({ id }) => text(ticket(id)));
  server.registerTool('delete_ticket', {
    description: 'Delete a support ticket permanently.',
    inputSchema: { id: ticketId },
    annotations: { destructiveHint: true },
  }, async ({ id }) => {
    deleted.add(id);
    return text({ id, deleted: true });
  });
  server.registerTool('issue_refund', {
    description: 'Refund money to the customer of a ticket.',
    inputSchema: {
      ticket_id: ticketId,
      amount: z.number().positive().max(100000).describe('Amount to refund'),
      currency: z.string().regex(/^[A-Z]{3}$/).describe('ISO 4217 code, e.g. EUR'),
    },
    annotations: { destructiveHint: true },
  }, async ({ ticket_id, amount, currency }) => {
    const cents = Math.round(amount * 100);
    return text({
      refund_id: `rf_${ticket_id}_${cents}`,
      ticket_id,
      amount: (cents / 100).toFixed(2),
      currency,
      status: 'issued',
    });
  });
  return server;
}

const transports = new Map();  // Mcp-Session-Id -> transport

function rpcError(res, status, message) {
  res.writeHead(status, { 'Content-Type': 'application/json' });
  res.end(JSON.stringify({ jsonrpc: '2.0', error: { code: -32000, message }, id: null }));
}

function readJson(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    let size = 0;
    req.on('data', (chunk) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        reject(new Error('request body too large'));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      try {
        resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')));
      } catch {
        reject(new Error('request body is not JSON'));
      }
    });
    req.on('error', reject);
  });
}

async function handle(req, res) {
  const url = new URL(req.url, 'http://localhost');
  if (url.pathname !== '/mcp') return rpcError(res, 404, 'not found: the MCP endpoint is /mcp');
  const sessionId = req.headers['mcp-session-id'];
  if (req.method === 'POST') {
    let body;
    try {
      body = await readJson(req);
    } catch (e) {
      return rpcError(res, 400, e.message);
    }
    let transport = sessionId ? transports.get(sessionId) : undefined;
    if (!transport) {
      if (sessionId) return rpcError(res, 404, 'unknown or ended session');
      if (!isInitializeRequest(body)) {
        return rpcError(res, 400, 'no session: send initialize first');
      }
      transport = new StreamableHTTPServerTransport({
        sessionIdGenerator: () => randomUUID(),
        onsessioninitialized: (id) => transports.set(id, transport),
      });
      transport.onclose = () => {
        if (transport.sessionId) transports.delete(transport.sessionId);
      };
      await helpdeskServer().connect(transport);
    }
    return transport.handleRequest(req, res, body);
  }
  if (req.method === 'GET' || req.method === 'DELETE') {
    const transport = sessionId ? transports.get(sessionId) : undefined;
    if (!transport) return rpcError(res, sessionId ? 404 : 400, 'unknown or missing session');
    return transport.handleRequest(req, res);
  }
  res.writeHead(405, { Allow: 'GET, POST, DELETE' }).end();
}

const httpServer = http.createServer((req, res) => {
  handle(req, res).catch((e) => {
    console.error('helpdesk: request failed:', e);
    if (!res.headersSent) rpcError(res, 500, 'internal error');
  });
});

httpServer.listen(port, '127.0.0.1', () => {
  const { port: bound } = httpServer.address();
  console.log(`helpdesk MCP server listening on http://127.0.0.1:${bound}/mcp`);
});

function stop() {
  for (const transport of transports.values()) transport.close().catch(() => {});
  httpServer.close(() => process.exit(0));
  httpServer.closeAllConnections();
  setTimeout(() => process.exit(0), 2000).unref();
}
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
