import pg from 'pg';
import { loadMigrations } from '../migrations.js';
import { checkOut } from './pool.js';

const MIGRATIONS_DIR = new URL('../../../migrations/postgres/', import.meta.url);

/**
 * Apply the migrations not yet applied to `schema`, creating it if missing.
 * A session advisory lock (one per schema) makes nodes that start together
 * take turns: the later ones find everything applied.
 */
export async function migrate(pool: pg.Pool, schema: string): Promise<void> {
  const migrations = loadMigrations(MIGRATIONS_DIR);
  const quoted = pg.escapeIdentifier(schema);
  const { client, release } = await checkOut(pool);
  let broken: Error | undefined;
  try {
    await client.query('SELECT pg_advisory_lock(hashtext($1))', [`switchboard.migrate.${schema}`]);
    try {
      await client.query(`CREATE SCHEMA IF NOT EXISTS ${quoted}`);
      // Again, now that the schema exists, so that unqualified names resolve to it.
      await client.query(`SET search_path TO ${quoted}`);
      await client.query(`CREATE TABLE IF NOT EXISTS switchboard_migrations (
        version INTEGER PRIMARY KEY,
        name TEXT NOT NULL,
        applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
      )`);
      const { rows } = await client.query<{ version: number }>('SELECT version FROM switchboard_migrations');
      const applied = new Set(rows.map((r) => r.version));
      for (const m of migrations) {
        if (applied.has(m.version)) continue;
        await client.query('BEGIN');
        try {
          await client.query(m.sql);
          await client.query('INSERT INTO switchboard_migrations (version, name) VALUES ($1, $2)', [
            m.version,
            m.name,
          ]);
          await client.query('COMMIT');
        } catch (err) {
          await client.query('ROLLBACK');
          throw err;
        }
      }
    } finally {
      await client.query('SELECT pg_advisory_unlock(hashtext($1))', [`switchboard.migrate.${schema}`]);
    }
  } catch (err) {
    broken = err as Error;
    throw err;
  } finally {
    // After an error the session may still hold the lock: close it rather than reuse it.
    release(broken);
  }
}
