import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import * as root from '../src/index.js';
import * as web from '../src/web.js';
import { BODY, EVENT, fixedNow, NOW_S, SECRET } from './support.js';

const src = resolve(dirname(fileURLToPath(import.meta.url)), '../src');
const SPECIFIER = /(?:\bfrom\s*|\bimport\s*\(?\s*)['"]([^'"]+)['"]/g;

/** Every module specifier reachable from a source file, following relative imports. */
function importGraph(entry: string): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  const visit = (file: string) => {
    if (graph.has(file)) return;
    // Comments are dropped first: doc examples mention package names that are not imports.
    const code = readFileSync(file, 'utf8')
      .replace(/\/\*[\s\S]*?\*\//g, '')
      .replace(/^\s*\/\/.*$/gm, '');
    const specifiers = [...code.matchAll(SPECIFIER)].map((m) => m[1]!);
    graph.set(file, specifiers);
    for (const s of specifiers) {
      if (s.startsWith('.')) visit(resolve(dirname(file), s.replace(/\.js$/, '.ts')));
    }
  };
  visit(resolve(src, entry));
  return graph;
}

describe('@switchboard/webhooks/web', () => {
  it('imports nothing but its own pure modules', () => {
    const graph = importGraph('web.ts');
    expect([...graph.keys()].map((f) => f.slice(src.length + 1)).sort()).toEqual([
      'adapters/shared.ts',
      'adapters/web.ts',
      'connectEvents.ts',
      'core.ts',
      'errors.ts',
      'events.ts',
      'header.ts',
      'inbox/catchUp.ts',
      'inbox/inbox.ts',
      'inbox/postgres.ts',
      'inbox/sqlite.ts',
      'inbox/storeShared.ts',
      'inbox/types.ts',
      'router.ts',
      'web.ts',
      'webCrypto.ts',
    ]);
    for (const [file, specifiers] of graph) {
      for (const s of specifiers) expect(s.startsWith('.'), `${file} imports ${s}`).toBe(true);
    }
  });

  it('the sync modules do use node:crypto (so the check above means something)', () => {
    const specifiers = [...importGraph('index.ts').values()].flat();
    expect(specifiers).toContain('node:crypto');
  });

  it('the core entry point pulls in no framework, and each adapter only node builtins', () => {
    for (const entry of ['index.ts', 'adapters/node.ts', 'adapters/express.ts', 'adapters/fastify.ts']) {
      const external = [...importGraph(entry).values()].flat().filter((s) => !s.startsWith('.'));
      for (const specifier of external) expect(specifier, `${entry} imports ${specifier}`).toMatch(/^node:/);
    }
  });

  it('exposes the async API, errors and header helpers', () => {
    for (const name of [
      'constructEventAsync',
      'verifySignatureAsync',
      'computeSignatureAsync',
      'buildSignatureHeaderAsync',
      'generateTestHeaderAsync',
      'handleWebhookRequest',
      'createWebhookRequestHandler',
      'createWebhookRouter',
      'isEventType',
      'parseSignatureHeader',
      'formatSignatureHeader',
      'v1Signatures',
      'WebhookSignatureError',
      'createInbox',
      'createSqliteInbox',
      'createPostgresInbox',
      'catchUp',
    ]) {
      expect(typeof (web as Record<string, unknown>)[name], name).toBe('function');
    }
    expect(root.constructEventAsync).toBe(web.constructEventAsync);
    expect(root.WebhookSignatureError).toBe(web.WebhookSignatureError);
    expect(root.createInbox).toBe(web.createInbox);
  });

  it('generateTestHeaderAsync matches generateTestHeader', async () => {
    const options = { payload: BODY, secret: SECRET, timestamp: NOW_S };
    const header = await web.generateTestHeaderAsync(options);
    expect(header).toBe(root.generateTestHeader(options));
    await expect(web.constructEventAsync(BODY, header, SECRET, { now: fixedNow })).resolves.toEqual(EVENT);
  });

  it('constantTimeEqual compares bytes', async () => {
    const { constantTimeEqual } = await import('../src/core.js');
    expect(constantTimeEqual(new Uint8Array([1, 2, 3]), new Uint8Array([1, 2, 3]))).toBe(true);
    expect(constantTimeEqual(new Uint8Array([1, 2, 3]), new Uint8Array([1, 2, 4]))).toBe(false);
    expect(constantTimeEqual(new Uint8Array([1, 2]), new Uint8Array([1, 2, 3]))).toBe(false);
    expect(constantTimeEqual(new Uint8Array(0), new Uint8Array(0))).toBe(true);
  });
});
