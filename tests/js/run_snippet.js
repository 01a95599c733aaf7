// Runs one of the API reference's WebSocket snippets, byte for byte, against a test server.
//
// Usage: node [--experimental-websocket] run_snippet.js SNIPPET.js PORT
// The snippets hard-code ws://localhost:8001; the only thing prepended is a WebSocket subclass
// that routes that address to the test server's port (sending $ECP_TOKEN) and reports what the snippet's socket sees
// as JSON lines on stdout: {"event": "open"}, {"event": "message", "data": ...},
// {"event": "close", "code": N}. The process ends on close, or is ended by the test.
'use strict';

const fs = require('fs');
const vm = require('vm');

const [snippetPath, port] = process.argv.slice(2);
const Native = globalThis.WebSocket;
if (typeof Native !== 'function') {
  console.log(JSON.stringify({ event: 'unsupported' }));
  process.exit(3);
}

function report(event) {
  process.stdout.write(JSON.stringify(event) + '\n');
}

// A browser cannot set headers on a WebSocket: the token travels as the "bearer" subprotocol.
const token = process.env.ECP_TOKEN;

class RoutedWebSocket extends Native {
  constructor(url, protocols) {
    const routed = String(url).replace('ws://localhost:8001', `ws://127.0.0.1:${port}`);
    super(routed, protocols === undefined && token ? ['bearer', token] : protocols);
    this.addEventListener('open', () => report({ event: 'open' }));
    this.addEventListener('message', (event) => report({ event: 'message', data: JSON.parse(event.data) }));
    this.addEventListener('close', (event) => {
      report({ event: 'close', code: event.code });
      setImmediate(() => process.exit(0));
    });
  }
}

globalThis.WebSocket = RoutedWebSocket;
vm.runInThisContext(fs.readFileSync(snippetPath, 'utf8'), { filename: snippetPath });
setTimeout(() => { report({ event: 'timeout' }); process.exit(1); }, 20000);
