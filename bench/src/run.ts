/**
 * `npm run bench`: every scenario on every engine, each compared with a
 * baseline measured in the same run, written as one Markdown table to
 * bench/results/latest.md (and printed). See docs/performance.md.
 */

import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { installSignalCleanup, runCleanups } from './cleanup.js';
import { type Context, createContext } from './context.js';
import { machine } from './machine.js';
import { KNOBS, type KnobName, parseOptions, type Scenario } from './options.js';
import { type CpuProfile, summarize, summaryMarkdown } from './profileSummary.js';
import { failedRow, markdownTable, type Row } from './results.js';
import { backlog } from './scenarios/backlog.js';
import { eventsList } from './scenarios/eventsList.js';
import { isolation } from './scenarios/isolation.js';
import { latency } from './scenarios/latency.js';
import { pickup } from './scenarios/pickup.js';
import { publishApi } from './scenarios/publishApi.js';
import { throughput } from './scenarios/throughput.js';
import { verification } from './scenarios/verify.js';
import { type Engine, postgresReachable } from './server.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

async function guarded(
  ctx: Context,
  rows: Row[],
  scenario: string,
  engine: string,
  run: () => Promise<Row | Row[]>,
): Promise<void> {
  try {
    const result = await run();
    rows.push(...(Array.isArray(result) ? result : [result]));
  } catch (error) {
    ctx.log(`${scenario} (${engine}) failed: ${error instanceof Error ? error.stack : String(error)}`);
    rows.push(failedRow(scenario, engine, error));
  }
}

async function profiledThroughput(ctx: Context, rows: Row[]): Promise<string | null> {
  const dir = join(ROOT, 'bench/results/profiles');
  mkdirSync(dir, { recursive: true });
  let section: string | null = null;
  await guarded(ctx, rows, 'throughput, profiled', 'sqlite', async () => {
    const run = await throughput(ctx, 'sqlite', 1, ctx.knob('BENCH_THROUGHPUT_EVENTS'), { cpuProfDir: dir });
    if (!run.profilePath || !existsSync(run.profilePath))
      throw new Error('the server wrote no CPU profile (it did not exit normally)');
    const profile = JSON.parse(readFileSync(run.profilePath, 'utf8')) as CpuProfile;
    section = [
      '## CPU profile of the server (throughput, 1 endpoint, SQLite)',
      '',
      `Profile: \`${run.profilePath.slice(ROOT.length)}\`. Summarise again with \`node bench/dist/profileSummary.js <file> --deliveries=${run.deliveries}\`.`,
      '',
      summaryMarkdown(summarize(profile, 25), run.deliveries),
    ].join('\n');
    writeFileSync(join(ROOT, 'bench/results/profile.md'), `${section}\n`);
    return run.row;
  });
  return section;
}

async function main(): Promise<void> {
  installSignalCleanup();
  const options = parseOptions(process.argv.slice(2), process.env);
  const ctx = createContext(options);
  const host = machine();
  if (!existsSync(join(ROOT, 'packages/cli/dist/bin.js')))
    throw new Error('packages/cli/dist/bin.js is missing: run `npm run build` first (npm run bench does).');

  const scenarios = new Set<Scenario>(options.scenarios);
  // Isolation is judged against the latency scenario's p99 of the same run.
  if (scenarios.has('isolation') && !scenarios.has('latency')) {
    scenarios.add('latency');
    ctx.remarks.push('The latency scenario ran too: isolation is judged against its p99.');
  }
  const engines: Engine[] = [];
  for (const engine of options.engines) {
    if (engine === 'postgres') {
      const problem = await postgresReachable(options.pgUrl);
      if (problem) {
        ctx.remarks.push(`PostgreSQL skipped: ${options.pgUrl} did not answer (${problem}).`);
        continue;
      }
    }
    engines.push(engine);
  }
  const started = new Date();
  ctx.log(
    `${options.quick ? 'quick smoke run' : 'full run'}: ${[...scenarios].join(', ')} on ${engines.join(', ') || 'no engine'}`,
  );

  const rows: Row[] = [];
  let profileSection: string | null = null;
  const serverScenarios = ['throughput', 'latency', 'isolation', 'backlog', 'publish', 'list'] as const;
  for (const engine of engines) {
    for (const scenario of serverScenarios) {
      if (!scenarios.has(scenario)) continue;
      if (scenario === 'throughput') {
        await guarded(ctx, rows, 'throughput, 1 endpoint', engine, async () => {
          return (await throughput(ctx, engine, 1, ctx.knob('BENCH_THROUGHPUT_EVENTS'))).row;
        });
        if (engine === 'sqlite')
          await guarded(
            ctx,
            rows,
            'throughput, 1 endpoint, SQLite on the server thread',
            engine,
            async () => {
              const events = ctx.knob('BENCH_THROUGHPUT_EVENTS');
              return (await throughput(ctx, engine, 1, events, { sqliteThread: 'main' })).row;
            },
          );
        await guarded(ctx, rows, 'throughput, fan-out', engine, async () => {
          const endpoints = ctx.knob('BENCH_FANOUT_ENDPOINTS');
          return (await throughput(ctx, engine, endpoints, ctx.knob('BENCH_FANOUT_EVENTS'))).row;
        });
        if (options.profile && engine === 'sqlite') profileSection = await profiledThroughput(ctx, rows);
      } else if (scenario === 'latency')
        await guarded(ctx, rows, 'latency', engine, () => latency(ctx, engine));
      else if (scenario === 'isolation')
        await guarded(ctx, rows, 'isolation', engine, () => isolation(ctx, engine));
      else if (scenario === 'backlog')
        await guarded(ctx, rows, 'backlog', engine, () => backlog(ctx, engine));
      else if (scenario === 'list')
        await guarded(ctx, rows, 'events list', engine, () => eventsList(ctx, engine));
      else await guarded(ctx, rows, 'publish API', engine, () => publishApi(ctx, engine));
    }
  }
  // After the latency scenario, whose PostgreSQL p99 is its baseline.
  if (scenarios.has('pickup') && engines.includes('postgres'))
    await guarded(ctx, rows, 'pickup by another node', 'postgres', () => pickup(ctx));
  if (options.profile && !(scenarios.has('throughput') && engines.includes('sqlite')))
    profileSection = await profiledThroughput(ctx, rows);
  if (scenarios.has('verify')) await guarded(ctx, rows, 'verify', '—', () => verification(ctx));

  const knobs = (Object.keys(KNOBS) as KnobName[])
    .map((k) => `${k}=${options.values[k]}${options.overridden.includes(k) ? ' (set)' : ''}`)
    .join(', ');
  const report = [
    '# Switchboard benchmark results',
    '',
    options.quick
      ? '**Quick smoke run** (`--quick`): short scenarios that check the benchmarks work. Its numbers are not the server’s performance.'
      : options.overridden.length
        ? '**Full sizes, except the knobs marked (set).**'
        : '**Full run.**',
    '',
    `- Started ${started.toISOString()}, took ${((Date.now() - started.getTime()) / 1000).toFixed(0)} s`,
    `- Machine: ${host.cpu}, nproc ${host.nproc}, memory ${host.memory}, Linux ${host.kernel}, load average at start ${host.load}`,
    `- Code: ${host.revision}`,
    `- Node.js ${host.node}; engines: ${engines.join(', ') || 'none'}; PostgreSQL ${options.pgUrl} (a fresh schema per scenario)`,
    `- Knobs: ${knobs}`,
    '',
    markdownTable(rows),
    '',
    ...(ctx.remarks.length ? [...ctx.remarks.map((r) => `- ${r}`), ''] : []),
    ...(profileSection ? [profileSection, ''] : []),
  ].join('\n');
  const output = resolve(ROOT, options.output);
  mkdirSync(dirname(output), { recursive: true });
  writeFileSync(output, report);
  process.stdout.write(`${report}\n`);
  ctx.log(`written to ${output}`);
  if (rows.some((r) => r.measure === 'error')) process.exitCode = 1;
}

main()
  .catch((error: unknown) => {
    process.stderr.write(`bench: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  })
  .finally(() => runCleanups());
