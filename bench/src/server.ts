/**
 * The Switchboard server under test, as its own process: the built CLI's
 * `serve` command, exactly as an operator runs it, on a fresh database per
 * scenario so that no run sees another's rows.
 */

import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { onCleanup } from './cleanup.js';
import { delay } from './clock.js';

export type Engine = 'sqlite' | 'postgres';

const CLI = fileURLToPath(new URL('../../packages/cli/dist/bin.js', import.meta.url));

export const TEST_KEY = `sk_test_bench${randomBytes(12).toString('hex')}`;

export interface ServerOptions {
  engine: Engine;
  /** PostgreSQL URL without a schema; a fresh `sbbench_<random>` schema is used and dropped after. */
  pgUrl: string;
  /** Passed as SWITCHBOARD_RETRY_SCHEDULE (an environment variable: long schedules make long argument lists). */
  retrySchedule?: string;
  /** Directory for a `--cpu-prof` profile of the server process. */
  cpuProfDir?: string;
  /** SQLite only: where the connection lives (default: the store's own default, a writer thread). */
  sqliteThread?: 'worker' | 'main';
  /** Share another server's database (a second node) instead of a fresh one; it is not dropped by this one. */
  databaseUrl?: string;
  /** More `switchboard serve` flags. */
  extraArgs?: string[];
}

export interface Memory {
  /** Resident set now, kB. */
  rssKb: number;
  /** Highest resident set since the process started, kB (the kernel's own peak, so no sample can miss it). */
  hwmKb: number;
}

/** VmRSS and VmHWM of a process, from /proc (Linux). NaN elsewhere. */
export function memoryOf(pid: number): Memory {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const field = (name: string) =>
      Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
    return { rssKb: field('VmRSS'), hwmKb: field('VmHWM') };
  } catch {
    return { rssKb: Number.NaN, hwmKb: Number.NaN };
  }
}

/**
 * CPU time a process has used so far (user + system, every thread), in ms,
 * from /proc/<pid>/stat (Linux; clock ticks of 1/100 s). NaN elsewhere.
 */
export function cpuTimeOf(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name, which is in parentheses and may hold spaces.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return Number.NaN;
  }
}

export class ServerProcess {
  /** Where `--cpu-prof` writes the profile when the process exits (profiled runs only). */
  profilePath: string | null = null;

  private constructor(
    private readonly child: ChildProcess,
    readonly url: string,
    readonly databaseUrl: string,
    readonly engine: Engine,
    private readonly errors: { lines: number; tail: string[] },
    private readonly dropData: () => Promise<void>,
  ) {}

  get pid(): number {
    return this.child.pid ?? -1;
  }

  memory(): Memory {
    return memoryOf(this.pid);
  }

  /** CPU time used so far, every thread (the SQLite writer's too), ms. */
  cpuMs(): number {
    return cpuTimeOf(this.pid);
  }

  /**
   * What the server logged (it logs errors only) for the report, or null:
   * a run whose server was failing is not a measurement of its speed.
   */
  errorNote(): string | null {
    if (this.errors.lines === 0) return null;
    return `server logged ${this.errors.lines} error line(s), last: ${this.errors.tail.at(-1)}`;
  }

  static async start(options: ServerOptions): Promise<ServerProcess> {
    const { databaseUrl, drop } = options.databaseUrl
      ? { databaseUrl: options.databaseUrl, drop: async () => {} }
      : await freshDatabase(options);
    const profileName = `server-${Date.now()}-${randomBytes(3).toString('hex')}.cpuprofile`;
    const nodeArgs = options.cpuProfDir
      ? ['--cpu-prof', '--cpu-prof-dir', options.cpuProfDir, '--cpu-prof-name', profileName]
      : [];
    const child = spawn(
      process.execPath,
      [
        ...nodeArgs,
        CLI,
        'serve',
        '--port',
        '0',
        '--database',
        databaseUrl,
        '--test-key',
        TEST_KEY,
        '--allow-private-targets',
        ...(options.extraArgs ?? []),
      ],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
        env: {
          ...process.env,
          ...(options.retrySchedule ? { SWITCHBOARD_RETRY_SCHEDULE: options.retrySchedule } : {}),
        },
      },
    );
    const unregister = onCleanup(async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await drop();
    });
    // Collected from the first byte: a server that fails to start says why on stderr.
    const errors = { lines: 0, tail: [] as string[] };
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (chunk: string) => {
      for (const line of chunk.split('\n')) {
        if (line.trim() === '') continue;
        errors.lines++;
        errors.tail.push(line.slice(0, 300));
        if (errors.tail.length > 5) errors.tail.shift();
      }
    });
    let out = '';
    let url: string;
    try {
      url = await new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('server did not start within 30 s')), 30_000);
        child.stdout?.setEncoding('utf8');
        child.stdout?.on('data', (chunk: string) => {
          out += chunk;
          const match = /listening on (http:\/\/\S+)/.exec(out);
          if (match) {
            clearTimeout(timer);
            resolve(match[1]!);
          }
        });
        child.once('exit', (code) => {
          clearTimeout(timer);
          reject(new Error(`server exited with ${code} during start`));
        });
      });
    } catch (error) {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      unregister();
      await drop().catch(() => {});
      throw new Error(`${(error as Error).message}: ${errors.tail.join(' / ') || out}`);
    }
    const server = new ServerProcess(child, url, databaseUrl, options.engine, errors, async () => {
      unregister();
      await drop();
    });
    if (options.cpuProfDir) server.profilePath = join(options.cpuProfDir, profileName);
    return server;
  }

  /**
   * Stop gracefully (SIGTERM: the server finishes and records what is in
   * flight, and a `--cpu-prof` profile is written on exit), then remove the
   * database. Receivers that hang must be stopped first, or the server waits
   * for their attempts to time out.
   */
  async stop(): Promise<void> {
    const child = this.child;
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill('SIGTERM');
      await Promise.race([exited, delay(60_000)]);
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGKILL');
        await exited;
      }
    }
    await this.dropData();
  }
}

/** A database no other run has touched: a temporary SQLite file, or a new PostgreSQL schema. */
export async function freshDatabase(
  options: Pick<ServerOptions, 'engine' | 'pgUrl' | 'sqliteThread'>,
): Promise<{ databaseUrl: string; drop: () => Promise<void> }> {
  if (options.engine === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'sbbench-'));
    return {
      // No ?synchronous: the durable default (WAL, synchronous=FULL) is what is measured.
      databaseUrl: `sqlite:${join(dir, 'switchboard.db')}${options.sqliteThread ? `?thread=${options.sqliteThread}` : ''}`,
      drop: async () => rmSync(dir, { recursive: true, force: true }),
    };
  }
  const schema = `sbbench_${randomBytes(6).toString('hex')}`;
  const url = new URL(options.pgUrl);
  url.searchParams.set('schema', schema);
  let dropped = false;
  return {
    databaseUrl: url.toString(),
    drop: async () => {
      if (dropped) return;
      dropped = true;
      const client = new pg.Client({ connectionString: options.pgUrl });
      await client.connect();
      try {
        await client.query(`DROP SCHEMA IF EXISTS ${pg.escapeIdentifier(schema)} CASCADE`);
      } finally {
        await client.end();
      }
    },
  };
}

/** Whether PostgreSQL answers at `url`; the reason when it does not. */
export async function postgresReachable(url: string): Promise<string | null> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
    return null;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  } finally {
    await client.end().catch(() => {});
  }
}
