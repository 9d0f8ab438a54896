/**
 * Storage errors are typed in the store: whatever the engine, a database that
 * cannot be reached or cannot write now is a StoreError `unavailable` (the
 * API answers 503), and other errors pass through unchanged.
 */

import { describe, expect, it } from 'vitest';
import { StoreError, withTypedErrors } from '../src/store/errors.js';
import { createPostgresStore } from '../src/store/postgres/index.js';
import { isPostgresUnavailable } from '../src/store/postgres/pool.js';
import { isSqliteUnavailable } from '../src/store/sqlite/db.js';

const withCode = (code: string) => Object.assign(new Error(code), { code });

describe('what counts as unavailable', () => {
  const rows: [engine: string, isUnavailable: (e: unknown) => boolean, error: unknown, expected: boolean][] =
    [
      ['sqlite', isSqliteUnavailable, withCode('SQLITE_BUSY'), true],
      ['sqlite', isSqliteUnavailable, withCode('SQLITE_BUSY_SNAPSHOT'), true],
      ['sqlite', isSqliteUnavailable, withCode('SQLITE_IOERR_FSYNC'), true],
      ['sqlite', isSqliteUnavailable, withCode('SQLITE_FULL'), true],
      ['sqlite', isSqliteUnavailable, withCode('SQLITE_CONSTRAINT_UNIQUE'), false],
      ['sqlite', isSqliteUnavailable, new TypeError('x is undefined'), false],
      ['postgres', isPostgresUnavailable, withCode('ECONNREFUSED'), true],
      ['postgres', isPostgresUnavailable, withCode('57P01'), true],
      ['postgres', isPostgresUnavailable, withCode('08006'), true],
      ['postgres', isPostgresUnavailable, new Error('Connection terminated unexpectedly'), true],
      ['postgres', isPostgresUnavailable, withCode('23505'), false],
      ['postgres', isPostgresUnavailable, withCode('42P01'), false],
    ];
  it.each(rows)('%s: %s', (_engine, isUnavailable, error, expected) => {
    expect(isUnavailable(error)).toBe(expected);
  });
});

describe('withTypedErrors', () => {
  const store = {
    engine: 'test',
    async down() {
      throw withCode('ECONNREFUSED');
    },
    async bug() {
      throw new TypeError('a bug');
    },
    sync() {
      throw withCode('ECONNREFUSED');
    },
  };
  const typed = withTypedErrors(store, isPostgresUnavailable);

  it('turns an unavailable database into StoreError unavailable, keeping the cause', async () => {
    const error = await typed.down().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StoreError);
    expect(error).toMatchObject({ code: 'unavailable', cause: { code: 'ECONNREFUSED' } });
    expect(() => typed.sync()).toThrow(StoreError);
  });

  it('passes other errors and properties through', async () => {
    await expect(typed.bug()).rejects.toThrow(TypeError);
    expect(typed.engine).toBe('test');
  });
});

describe('a PostgreSQL store whose server refuses connections', () => {
  it('reports unavailable, as a StoreError', async () => {
    // Port 1 on this machine: nothing listens there.
    const store = createPostgresStore({ connectionString: 'postgres://postgres@127.0.0.1:1/test' });
    try {
      const error = await store.ping().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(StoreError);
      expect((error as StoreError).code).toBe('unavailable');
    } finally {
      await store.close();
    }
  });
});
