/** What the numbers were measured on, read at run time (they mean little without it). */

import { execFileSync } from 'node:child_process';
import { cpus, loadavg, release } from 'node:os';

export interface Machine {
  /** The code measured: commit, and whether packages/ had uncommitted changes. */
  revision: string;
  cpu: string;
  nproc: string;
  memory: string;
  node: string;
  kernel: string;
  load: string;
}

function run(cmd: string, args: string[]): string | null {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8' }).trim();
  } catch {
    return null;
  }
}

export function machine(): Machine {
  // `free -h`: the Mem line says what the processes under test could use.
  const free = run('free', ['-h']);
  const memLine = free?.split('\n').find((l) => l.startsWith('Mem:'));
  const [total, used, , , , available] = memLine?.split(/\s+/).slice(1) ?? [];
  const commit = run('git', ['rev-parse', '--short', 'HEAD']);
  const dirty = run('git', ['status', '--porcelain', '--', 'packages']);
  return {
    revision: commit ? `${commit}${dirty ? ' with uncommitted changes in packages/' : ''}` : 'unknown',
    cpu: cpus()[0]?.model ?? 'unknown',
    nproc: run('nproc', []) ?? String(cpus().length),
    memory: memLine ? `${total} total, ${used} used, ${available} available` : 'unknown',
    node: process.version,
    kernel: release(),
    load: loadavg()
      .map((l) => l.toFixed(2))
      .join(' '),
  };
}
