// A real `ecp serve` for the SDK's tests: a temp copy of the repo's presets/ and tenants/ in a
// fresh git repo, compiled, served on a free loopback port. When the CLI can mint tokens
// (`ecp token create`), the server runs with auth and the tests get an admin token; before that
// it runs without. ECP_BIN names the `ecp` executable (default: the repo's .venv, then PATH).

import { execFileSync, spawn } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../../../..');
const STARTUP_TIMEOUT_MS = 60_000;

export function ecpBinary() {
  if (process.env.ECP_BIN) return process.env.ECP_BIN;
  const venv = join(REPO, '.venv', 'bin', 'ecp');
  return existsSync(venv) ? venv : 'ecp';
}

function cleanEnv() {
  // ECP_* settings from the developer's shell would change the server; the tests pin defaults.
  return Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('ECP_')));
}

function run(cmd, args, cwd) {
  return execFileSync(cmd, args, { cwd, env: cleanEnv(), encoding: 'utf8', stdio: 'pipe' });
}

function freePort() {
  return new Promise((done, fail) => {
    const server = createServer();
    server.once('error', fail);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => done(port));
    });
  });
}

/** A token for the server if this version of the CLI has `ecp token create`, else undefined. */
function mintToken(ecp, root) {
  try {
    const out = run(ecp, ['--root', root, 'token', 'create', '--name', 'sdk-tests', '--role', 'admin', '--format', 'json']);
    return JSON.parse(out).token;
  } catch {
    return undefined;
  }
}

export function makeWorkspace() {
  const root = mkdtempSync(join(tmpdir(), 'ecp-js-sdk-'));
  cpSync(join(REPO, 'presets'), join(root, 'presets'), { recursive: true });
  cpSync(join(REPO, 'tenants'), join(root, 'tenants'), { recursive: true });
  writeFileSync(join(root, '.gitignore'), 'output/\n.ecp/\n');
  run('git', ['init', '--quiet', '--initial-branch=main'], root);
  run('git', ['add', '--all'], root);
  run('git', ['-c', 'user.name=test', '-c', 'user.email=test@localhost', 'commit', '-qm', 'seed'], root);
  run(ecpBinary(), ['--root', root, 'compile', '--all'], root);
  return root;
}

function spawnServe(ecp, root, port) {
  const log = openSync(join(root, 'server.log'), 'a');
  return spawn(
    ecp,
    ['--root', root, 'serve', '--host', '127.0.0.1', '--port', String(port), '--log-level', 'warning'],
    { cwd: root, env: cleanEnv(), stdio: ['ignore', log, log] },
  );
}

async function kill(child) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((done) => child.once('exit', done));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  await exited;
  clearTimeout(timer);
}

async function waitUp(child, url, root) {
  const deadline = Date.now() + STARTUP_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`ecp serve exited with ${child.exitCode}; see ${root}/server.log`);
    try {
      if ((await fetch(`${url}/health`)).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('ecp serve did not start in time');
}

/** Starts a server on a fresh workspace: { baseUrl, url, port, token, root, restart(), stop() }. */
export async function startServer() {
  const ecp = ecpBinary();
  const root = makeWorkspace();
  const token = mintToken(ecp, root);
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  let child = spawnServe(ecp, root, port);
  const server = {
    root,
    port,
    url,
    baseUrl: `${url}/api/v1`,
    token,
    /** Stops the server and starts it again on the same port and workspace. */
    async restart() {
      await kill(child);
      child = spawnServe(ecp, root, port);
      await waitUp(child, url, root);
    },
    async stop() {
      await kill(child);
      rmSync(root, { recursive: true, force: true });
    },
  };
  try {
    await waitUp(child, url, root);
  } catch (error) {
    await kill(child);
    throw error;
  }
  return server;
}

/** Resolves with the next value `register` hands to its callback (or rejects after `ms`). */
export function nextValue(register, ms = 20_000) {
  return new Promise((done, fail) => {
    const timer = setTimeout(() => fail(new Error(`nothing within ${ms} ms`)), ms);
    register((value) => {
      clearTimeout(timer);
      done(value);
    });
  });
}
