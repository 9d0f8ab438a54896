import { createPostgresStore } from './postgres/index.js';
import { createSqliteStore } from './sqlite/index.js';
import type { Store } from './types.js';

/**
 * A store for a URL:
 * - `sqlite:<path>` (also `sqlite://<path>`), `sqlite::memory:`; `?synchronous=NORMAL` relaxes syncing;
 * - `postgres://…` or `postgresql://…`, with an optional `?schema=name` (default `public`).
 */
export function openStore(url: string): Store {
  if (url.startsWith('sqlite:')) {
    let rest = url.slice('sqlite:'.length);
    let synchronous: 'FULL' | 'NORMAL' | undefined;
    const query = /\?synchronous=(FULL|NORMAL)$/i.exec(rest);
    if (query) {
      synchronous = query[1]!.toUpperCase() as 'FULL' | 'NORMAL';
      rest = rest.slice(0, query.index);
    }
    const path = rest.startsWith('//') ? rest.slice(2) : rest;
    if (path === '')
      throw new Error('Store URL sqlite: needs a path, e.g. sqlite:./switchboard.db or sqlite::memory:');
    return createSqliteStore({ path, ...(synchronous ? { synchronous } : {}) });
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
