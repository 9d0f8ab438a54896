import Database from 'better-sqlite3';
import { StoreError } from '../errors.js';

export type Stmt = Database.Statement<unknown[], unknown>;

/** Past this many distinct SQL texts the oldest prepared statement is dropped. */
const STATEMENT_CACHE_SIZE = 256;

/** A better-sqlite3 connection with its prepared statements cached by SQL text. */
export class SqliteConn {
  readonly db: Database.Database;
  private readonly statements = new Map<string, Stmt>();

  constructor(
    path: string,
    private readonly synchronous: 'FULL' | 'NORMAL',
  ) {
    this.db = new Database(path);
    // One server owns the file: the lock is taken now and held until the process ends (the OS drops it
    // when the process dies, even by SIGKILL), so a start knows every lease in the file is its own to
    // release, and a second server is refused at once instead of sharing the queue.
    this.db.pragma('busy_timeout = 0');
    this.db.pragma('locking_mode = EXCLUSIVE');
    try {
      // WAL (in exclusive mode, without shared memory); FULL also syncs the WAL on every commit.
      this.db.pragma('journal_mode = WAL');
      this.db.exec('BEGIN IMMEDIATE; COMMIT');
    } catch (error) {
      this.db.close();
      if ((error as { code?: string }).code?.startsWith('SQLITE_BUSY')) {
        throw new StoreError(
          'in_use',
          `Another Switchboard server is using ${path}: one server owns a SQLite database (several servers share a PostgreSQL one).`,
        );
      }
      throw error;
    }
    this.db.pragma(`synchronous = ${synchronous}`);
    this.db.pragma('foreign_keys = ON');
    // Statement journals in memory. A statement inside a transaction (each append of a publish group, each
    // result of a batch) journals the pages it changes; past 64 KiB that journal spills to a temporary
    // file, which in exclusive locking mode stays open, so every later statement wrote its pages there
    // too: about 12 extra writes per published event.
    this.db.pragma('temp_store = MEMORY');
  }

  /** The prepared statement for this SQL, prepared once. */
  stmt(sql: string): Stmt {
    let statement = this.statements.get(sql);
    if (statement === undefined) {
      statement = this.db.prepare(sql);
      if (this.statements.size >= STATEMENT_CACHE_SIZE) {
        const oldest = this.statements.keys().next().value;
        if (oldest !== undefined) this.statements.delete(oldest);
      }
      this.statements.set(sql, statement);
    }
    return statement;
  }

  /** Run `fn` in a `BEGIN IMMEDIATE` transaction (a savepoint when already in one). */
  write<T>(fn: () => T): T {
    return this.db.transaction(fn).immediate();
  }

  /**
   * A write whose commit does not wait for the disk: for claims and attempt
   * results, which a power loss may only turn into a repeated delivery
   * (at-least-once), never into a lost event. A killed process loses nothing
   * either way: in WAL mode the commit is in the OS's hands once written, and
   * the next synced commit (every publish) makes it durable too. Publishes stay
   * on the configured `synchronous` level: they are what a 200 promises.
   */
  writeRelaxed<T>(fn: () => T): T {
    if (this.db.inTransaction) return this.write(fn);
    this.stmt('PRAGMA synchronous = OFF').run();
    try {
      return this.write(fn);
    } finally {
      this.stmt(`PRAGMA synchronous = ${this.synchronous}`).run();
    }
  }
}

/** The database cannot write now: locked by another process, an IO error, the disk full. */
export function isSqliteUnavailable(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return (
    typeof code === 'string' &&
    (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_IOERR') || code === 'SQLITE_FULL')
  );
}

/** better-sqlite3's error for a violated PRIMARY KEY or UNIQUE constraint. */
export function isUniqueViolation(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return code === 'SQLITE_CONSTRAINT_PRIMARYKEY' || code === 'SQLITE_CONSTRAINT_UNIQUE';
}

/** Unique violations become `duplicate` StoreErrors; anything else passes through. */
export function mapWriteError(err: unknown, what: string): unknown {
  return isUniqueViolation(err) ? new StoreError('duplicate', `${what} already exists`) : err;
}

export const bit = (v: boolean): number => (v ? 1 : 0);
