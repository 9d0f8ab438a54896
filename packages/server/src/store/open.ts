import { createPostgresStore } from './postgres/index.js';
import { createSqliteStore } from './sqlite/index.js';
import type { Store } from './types.js';

/**
 * A store for a URL:
 * - `sqlite:<path>` (also `sqlite://<path>`), `sqlite::memory:`; `?synchronous=NORMAL` relaxes syncing,
 *   `?thread=main` keeps the connection on the server's thread instead of a writer thread;
 * - `postgres://…` or `postgresql://…`, with an optional `?schema=name` (default `public`).
 */
export function openStore(url: string): Store {
  if (url.startsWith('sqlite:')) {
    let rest = url.slice('sqlite:'.length);
    let synchronous: 'FULL' | 'NORMAL' | undefined;
    let thread: 'worker' | 'main' | undefined;
    const q = rest.indexOf('?');
    if (q >= 0) {
      for (const [name, value] of new URLSearchParams(rest.slice(q + 1))) {
        if (name === 'synchronous' && /^(FULL|NORMAL)$/i.test(value))
          synchronous = value.toUpperCase() as 'FULL' | 'NORMAL';
        else if (name === 'thread' && (value === 'worker' || value === 'main')) thread = value;
        else
          throw new Error(
            `Store URL parameter ${name}=${value} is not one of synchronous=FULL|NORMAL, thread=worker|main`,
          );
      }
      rest = rest.slice(0, q);
    }
    const path = rest.startsWith('//') ? rest.slice(2) : rest;
    if (path === '')
      throw new Error('Store URL sqlite: needs a path, e.g. sqlite:./switchboard.db or sqlite::memory:');
    return createSqliteStore({
      path,
      ...(synchronous ? { synchronous } : {}),
      ...(thread ? { thread } : {}),
    });
  }
  if (url.startsWith('postgres://') || url.startsWith('postgresql://')) {
    const parsed = new URL(url);
    const schema = parsed.searchParams.get('schema');
    // pg would pass an unknown parameter on to the server, which refuses it.
    parsed.searchParams.delete('schema');
    return createPostgresStore({
      connectionString: parsed.toString(),
      ...(schema ? { schema } : {}),
    });
  }
  const scheme = /^[a-z][a-z0-9+.-]*:/i.exec(url)?.[0] ?? url.slice(0, 20);
  throw new Error(
    `Unsupported store URL '${scheme}…': use sqlite:<path>, sqlite::memory: or postgres://user@host/db[?schema=name]`,
  );
}
