/**
 * Every size and duration of the benchmarks, with the full values as
 * defaults and short ones under `--quick` (smoke runs that check the
 * benchmarks work, not the server's speed).
 *
 * Each knob is an environment variable, or the same name as a flag:
 * `BENCH_BACKLOG_EVENTS=50000` and `--backlog-events=50000` are the same.
 * An explicit value wins over `--quick`.
 */

export const SCENARIOS = [
  'throughput',
  'latency',
  'isolation',
  'backlog',
  'publish',
  'pickup',
  'list',
  'verify',
] as const;
export type Scenario = (typeof SCENARIOS)[number];

interface Knob {
  full: number;
  quick: number;
  help: string;
}

export const KNOBS = {
  BENCH_THROUGHPUT_EVENTS: {
    full: 150_000,
    quick: 3_000,
    help: 'events published to one endpoint in the throughput scenario',
  },
  BENCH_FANOUT_EVENTS: {
    full: 15_000,
    quick: 400,
    help: 'events published in the fan-out throughput scenario (each goes to every endpoint)',
  },
  BENCH_FANOUT_ENDPOINTS: { full: 10, quick: 10, help: 'endpoints in the fan-out scenario' },
  BENCH_PUBLISH_CONCURRENCY: {
    full: 64,
    quick: 64,
    help: 'POST /v1/events requests in flight (throughput, backlog, publish API)',
  },
  BENCH_BASELINE_IN_FLIGHT: { full: 32, quick: 32, help: 'requests in flight of the direct-POST baseline' },
  BENCH_EVENT_BYTES: { full: 1024, quick: 1024, help: 'size of each serialized event' },
  BENCH_LATENCY_RATE: { full: 500, quick: 500, help: 'events/s published in the latency scenario' },
  BENCH_LATENCY_SECONDS: { full: 20, quick: 3, help: 'duration of the latency scenario' },
  BENCH_ISOLATION_RATE: {
    full: 500,
    quick: 500,
    help: 'events/s in the isolation scenario (each to the dead endpoint and one healthy one)',
  },
  BENCH_ISOLATION_SECONDS: { full: 20, quick: 3, help: 'duration of the isolation scenario' },
  BENCH_WARMUP_SECONDS: {
    full: 5,
    quick: 2,
    help: 'latency and isolation: publish at the rate for this long, unmeasured, before measuring',
  },
  BENCH_BACKLOG_EVENTS: {
    full: 1_000_000,
    quick: 20_000,
    help: 'events published while the receiver is down',
  },
  BENCH_BACKLOG_RETRY_ENTRIES: {
    full: 3600,
    quick: 3600,
    help: 'entries of the 1 s retry schedule of the backlog server (must outlast the outage)',
  },
  BENCH_LIST_EVENTS: {
    full: 1_000_000,
    quick: 100_000,
    help: 'events stored before the Events API list filters are timed',
  },
  BENCH_PUBLISH_SECONDS: { full: 20, quick: 3, help: 'measured duration of the publish API scenario' },
  BENCH_VERIFY_SECONDS: { full: 2, quick: 0.25, help: 'measured time per verification cell' },
  BENCH_MAX_WAIT_SECONDS: {
    full: 1800,
    quick: 600,
    help: 'stop waiting for deliveries (throughput, drain) after this long and report the rate so far',
  },
  BENCH_STALL_SECONDS: {
    full: 60,
    quick: 30,
    help: 'give up a scenario when the receiver sees nothing new for this long',
  },
} satisfies Record<string, Knob>;

export type KnobName = keyof typeof KNOBS;

export interface BenchOptions {
  quick: boolean;
  profile: boolean;
  scenarios: Scenario[];
  engines: Array<'sqlite' | 'postgres'>;
  pgUrl: string;
  output: string;
  values: Record<KnobName, number>;
  /** Knobs given explicitly (shown in the results header). */
  overridden: KnobName[];
}

export const USAGE = `Usage: npm run bench -- [--quick] [--only=throughput,latency,…] [--engines=sqlite,postgres]
                        [--profile] [--pg-url=postgres://…] [--output=bench/results/latest.md] [--<knob>=<n>]

Scenarios: ${SCENARIOS.join(', ')}
--quick      short smoke run of every scenario (checks that the benchmarks work, not the numbers)
--profile    also run the one-endpoint SQLite throughput scenario with the server under --cpu-prof
             and summarise where its CPU time goes (bench/results/profile.md)
Knobs (environment variable, or the flag spelled --throughput-events=…; full / --quick default):
${Object.entries(KNOBS)
  .map(
    ([name, k]) =>
      `  ${name.padEnd(28)} ${String(k.full).padStart(9)} / ${String(k.quick).padEnd(7)} ${k.help}`,
  )
  .join('\n')}
  BENCH_PG_URL                 postgres://postgres@127.0.0.1:5432/test (a fresh schema per scenario, dropped after)
  BENCH_ENGINES                sqlite,postgres
`;

export function parseOptions(argv: readonly string[], env: NodeJS.ProcessEnv): BenchOptions {
  const flags = new Map<string, string>();
  for (const arg of argv) {
    const match = /^--([a-z][a-z0-9-]*)(?:=(.*))?$/.exec(arg);
    if (!match) throw new Error(`Unexpected argument ${arg}\n\n${USAGE}`);
    flags.set(match[1]!, match[2] ?? 'true');
  }
  const take = (name: string): string | undefined => {
    const v = flags.get(name);
    flags.delete(name);
    return v;
  };
  if (take('help') !== undefined) {
    process.stdout.write(USAGE);
    process.exit(0);
  }
  const quick = take('quick') !== undefined;
  const profile = take('profile') !== undefined;
  const only = take('only');
  const scenarios = only ? only.split(',').map((s) => s.trim()) : [...SCENARIOS];
  for (const s of scenarios) {
    if (!(SCENARIOS as readonly string[]).includes(s))
      throw new Error(`Unknown scenario ${s}; choose from ${SCENARIOS.join(', ')}`);
  }
  const engines = (take('engines') ?? env['BENCH_ENGINES'] ?? 'sqlite,postgres')
    .split(',')
    .map((e) => e.trim());
  for (const e of engines) {
    if (e !== 'sqlite' && e !== 'postgres') throw new Error(`Unknown engine ${e}; choose sqlite, postgres`);
  }
  const pgUrl = take('pg-url') ?? env['BENCH_PG_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test';
  const output = take('output') ?? 'bench/results/latest.md';

  const values = {} as Record<KnobName, number>;
  const overridden: KnobName[] = [];
  for (const [name, knob] of Object.entries(KNOBS) as Array<[KnobName, Knob]>) {
    const flagName = name.slice('BENCH_'.length).toLowerCase().replace(/_/g, '-');
    const raw = take(flagName) ?? env[name];
    if (raw === undefined || raw === '') {
      values[name] = quick ? knob.quick : knob.full;
      continue;
    }
    const n = Number(raw.replace(/_/g, ''));
    if (!Number.isFinite(n) || n <= 0) throw new Error(`${name} must be a positive number, got ${raw}`);
    values[name] = n;
    overridden.push(name);
  }
  const left = [...flags.keys()];
  if (left.length) throw new Error(`Unknown flag --${left[0]}\n\n${USAGE}`);
  return {
    quick,
    profile,
    scenarios: scenarios as Scenario[],
    engines: engines as Array<'sqlite' | 'postgres'>,
    pgUrl,
    output,
    values,
    overridden,
  };
}
