// @ecp-ai/orchestrator-client: the JavaScript SDK of the ECP-AI Orchestrator API (reference v1.51).
//   import { ECPClient } from '@ecp-ai/orchestrator-client';
//   const client = new ECPClient({ baseUrl: 'http://localhost:8001/api/v1', isDemo: false, token });
// Plain ES modules with no runtime dependency in browsers; Node >= 20 (the optional `ws` package
// for WebSocket streams where Node has no global WebSocket). Never imports the server.

export { ECPClient, DEFAULT_BASE_URL, DEFAULT_TIMEOUT_MS } from './client.js';
export * from './errors.js';
