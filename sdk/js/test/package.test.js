// The package as a user gets it: `npm pack` makes a tarball holding the sources, types and
// README; installed into a fresh project it runs the reference's JavaScript SDK snippet as
// written (only the server address changed, and a token added when the server wants one).

import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';

import { ECPClient } from '../src/index.js';
import { REPO, startServer } from './support/ecp-server.js';

const PACKAGE_DIR = join(dirname(fileURLToPath(import.meta.url)), '..');
const SNIPPET = join(PACKAGE_DIR, 'test', 'fixtures', 'reference-sdk-snippet.js');
const REFERENCES = [
  join(REPO, '..', 'shared', 'reference', 'ecp-orchestrator-api-v1.51.md'),
  '/work/shared/reference/ecp-orchestrator-api-v1.51.md',
];

let server;
let project;
let tarball;

before(async () => {
  server = await startServer();
  project = mkdtempSync(join(tmpdir(), 'ecp-js-consumer-'));
  const packed = JSON.parse(
    execFileSync('npm', ['pack', '--json', '--pack-destination', project], { cwd: PACKAGE_DIR, encoding: 'utf8' }),
  );
  tarball = packed[0];
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }));
  execFileSync('npm', ['install', '--offline', '--no-audit', '--no-fund', join(project, tarball.filename)], {
    cwd: project,
    encoding: 'utf8',
  });
  // Node 20 has no global WebSocket: the optional peer `ws`, as a user would add it.
  if (typeof globalThis.WebSocket !== 'function') {
    symlinkSync(join(PACKAGE_DIR, 'node_modules', 'ws'), join(project, 'node_modules', 'ws'));
  }
});
after(async () => {
  await server?.stop();
  if (project) rmSync(project, { recursive: true, force: true });
});

test('npm pack ships the sources, the types and the README, and no tests', () => {
  const files = tarball.files.map((f) => f.path).sort();
  assert.deepEqual(files, [
    'README.md',
    'package.json',
    'src/client.js',
    'src/errors.js',
    'src/index.d.ts',
    'src/index.js',
    'src/streams.js',
    'src/transport.js',
  ]);
  assert.equal(tarball.name, '@ecp-ai/orchestrator-client');
  const pyproject = readFileSync(join(REPO, 'pyproject.toml'), 'utf8');
  assert.equal(tarball.version, /^version = "(.+)"$/m.exec(pyproject)[1]);
  const installed = join(project, 'node_modules', '@ecp-ai', 'orchestrator-client');
  assert.equal(readFileSync(join(installed, 'README.md'), 'utf8'), readFileSync(join(PACKAGE_DIR, 'README.md'), 'utf8'));
});

test('the snippet is the reference\'s JavaScript SDK block verbatim', (t) => {
  const reference = REFERENCES.find((p) => existsSync(p));
  if (!reference) return t.skip('the API reference is not at hand');
  const text = readFileSync(reference, 'utf8');
  const section = text.slice(text.indexOf('### JavaScript SDK'), text.indexOf('### Go SDK'));
  const block = /```javascript\n([\s\S]*?)```/.exec(section)[1];
  assert.equal(readFileSync(SNIPPET, 'utf8'), block);
});

test("the reference's JavaScript SDK snippet runs against the installed package", async () => {
  const client = new ECPClient({ baseUrl: server.baseUrl, token: server.token });
  await client.createTenant({ tenant_id: 'my-service', name: '내 서비스', preset: 'medium', service_requirements: { chatbot: 100 } });
  await client.sendMetrics('my-service', { cpu: 65.5, memory: 78.2 });

  let code = readFileSync(SNIPPET, 'utf8').replace('http://localhost:8001/api/v1', server.baseUrl);
  if (server.token) code = code.replace('isDemo: false', `isDemo: false, token: ${JSON.stringify(server.token)}`);
  writeFileSync(join(project, 'snippet.mjs'), code);

  const child = spawn(process.execPath, ['snippet.mjs'], { cwd: project, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const line = await new Promise((done, fail) => {
    const timer = setTimeout(() => fail(new Error(`no update; stderr: ${stderr}`)), 20_000);
    child.stdout.on('data', (d) => {
      stdout += d;
      if (stdout.includes('}')) {
        clearTimeout(timer);
        done(stdout);
      }
    });
    child.on('exit', (c) => fail(new Error(`snippet exited ${c}: ${stderr}`)));
  });
  child.kill();
  assert.match(line, /^메트릭 업데이트: \{/);
  assert.match(line, /tenant_id: 'my-service'/);
  assert.match(line, /cpu: 65\.5/);
});
