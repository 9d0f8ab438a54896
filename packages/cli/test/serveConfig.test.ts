/** `switchboard serve` flags and environment, turned into the server's config. */

import { describe, expect, it } from 'vitest';
import { type ServeFlags, serveConfig } from '../src/commands/serve.js';

const base: ServeFlags = {
  port: '0',
  host: '127.0.0.1',
  database: 'sqlite::memory:',
  timeout: '30000',
  retentionDays: '30',
};

describe('--no-deliver', () => {
  const rows: [
    name: string,
    flags: Partial<ServeFlags>,
    env: NodeJS.ProcessEnv,
    deliver: boolean | undefined,
  ][] = [
    ['by default the node delivers', {}, {}, undefined],
    ['--no-deliver: an API node', { deliver: false }, {}, false],
    ['SWITCHBOARD_DELIVER=false', {}, { SWITCHBOARD_DELIVER: 'false' }, false],
    ['SWITCHBOARD_DELIVER=0', {}, { SWITCHBOARD_DELIVER: '0' }, false],
    ['SWITCHBOARD_DELIVER=true', {}, { SWITCHBOARD_DELIVER: 'true' }, undefined],
  ];
  it.each(rows)('%s', async (_name, flags, env, deliver) => {
    const config = await serveConfig({ ...base, ...flags }, env);
    expect(config.deliver).toBe(deliver);
  });
});
