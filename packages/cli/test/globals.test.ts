import { describe, expect, it } from 'vitest';
import { DEFAULT_PORT as SERVER_PORT } from '../../server/src/server.js';
import { clientFrom, DEFAULT_API_BASE, DEFAULT_PORT } from '../src/globals.js';

describe('CLI defaults', () => {
  it('talks to the port the server listens on by default', () => {
    expect(DEFAULT_PORT).toBe(SERVER_PORT);
    expect(clientFrom({}, { SWITCHBOARD_API_KEY: 'sk_test_x' }).apiBase).toBe(DEFAULT_API_BASE);
  });

  it.each([
    [{}, {}, /No API key/],
    [{ live: true }, { SWITCHBOARD_API_KEY: 'sk_test_abc' }, /--live needs a live key/],
  ])('refuses %j with one clear line', (flags, env, message) => {
    expect(() => clientFrom(flags, env)).toThrow(message);
  });

  it('prefers flags over the environment', () => {
    const c = clientFrom(
      { apiKey: 'sk_test_flag', apiBase: 'http://h:1/' },
      { SWITCHBOARD_API_KEY: 'sk_test_env' },
    );
    expect(c.apiKey).toBe('sk_test_flag');
    expect(c.apiBase).toBe('http://h:1');
  });
});
