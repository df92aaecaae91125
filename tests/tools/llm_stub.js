// llm_stub.js — a tiny OpenAI-compatible chat-completions server for
// tests/unit/sync/test_categorize_llm.c. Built-in `http` only.
//
// Listens on 127.0.0.1 (port from argv[2], default 0 = any free port) and
// prints "PORT <n>" on stdout once listening. Every POST is checked like a
// real server would: Authorization must be "Bearer <argv[3]>" (401 if not),
// the body must be JSON with "model" and a system + user message (400 if
// not), and the user message must hold a "Subject: " line. The path
// picks the answer:
//   /good      {"category":"Meeting Booked","confidence":0.87}
//   /fenced    ```json fenced answer, lower-case category, confidence 3
//   /garbage   200 with a body that is not JSON
//   /badcat    a category that does not exist
//   /nocontent {"choices":[]}
//   /slow      answers /good after 5 s (longer than the test's timeout)
//   /500       HTTP 500
//   /huge      a 1 MiB answer
'use strict';
const http = require('http');

const port = Number(process.argv[2] || 0);
const key = process.argv[3] || 'test-key';

function chat(content) {
  return JSON.stringify({
    id: 'chatcmpl-stub', object: 'chat.completion', model: 'stub',
    choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: 'stop' }],
  });
}

function send(res, status, body) {
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

const server = http.createServer((req, res) => {
  const chunks = [];
  let size = 0;
  req.on('data', (c) => {
    size += c.length;
    if (size > 1 << 20) { req.destroy(); return; }
    chunks.push(c);
  });
  req.on('end', () => {
    if (req.method !== 'POST') return send(res, 405, '{"error":"POST only"}');
    if (req.headers.authorization !== `Bearer ${key}`) return send(res, 401, '{"error":"bad key"}');
    let body;
    try { body = JSON.parse(Buffer.concat(chunks).toString('utf8')); } catch (e) {
      return send(res, 400, '{"error":"body is not JSON"}');
    }
    const msgs = body.messages;
    if (typeof body.model !== 'string' || !Array.isArray(msgs) || msgs.length !== 2 ||
        msgs[0].role !== 'system' || msgs[1].role !== 'user' || typeof msgs[1].content !== 'string') {
      return send(res, 400, '{"error":"bad request shape"}');
    }
    if (!msgs[1].content.includes('Subject: ')) return send(res, 400, '{"error":"no subject line"}');
    switch (req.url) {
      case '/good': return send(res, 200, chat('{"category": "Meeting Booked", "confidence": 0.87}'));
      case '/fenced': return send(res, 200, chat('```json\n{"category": "interested", "confidence": 3}\n```'));
      case '/garbage': return send(res, 200, 'this is <b>not</b> json at all');
      case '/badcat': return send(res, 200, chat('{"category": "Hot Lead", "confidence": 0.9}'));
      case '/nocontent': return send(res, 200, '{"choices":[]}');
      case '/slow':
        setTimeout(() => send(res, 200, chat('{"category": "Spam", "confidence": 0.9}')), 5000);
        return undefined;
      case '/500': return send(res, 500, '{"error":{"message":"internal error"}}');
      case '/huge': return send(res, 200, chat('x'.repeat(1 << 20)));
      default: return send(res, 404, '{"error":"no such path"}');
    }
  });
});

server.listen(port, '127.0.0.1', () => {
  process.stdout.write(`PORT ${server.address().port}\n`);
});
process.on('SIGTERM', () => process.exit(0));
