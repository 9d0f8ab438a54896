/**
 * Where a process spends its CPU, from a V8 `.cpuprofile` (`node --cpu-prof`):
 * self time per function, time per component (SQLite driver, undici, Hono,
 * Switchboard's own modules, Node internals, GC), and inclusive time of
 * Switchboard's own functions, which maps onto the stages of a delivery.
 *
 *   node bench/dist/profileSummary.js <file.cpuprofile> [--top=25] [--deliveries=N]
 */

import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { fixed } from './stats.js';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
  columnNumber: number;
}

interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}

export interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples?: number[];
  timeDeltas?: number[];
}

/** The component a frame belongs to, from its script URL. */
export function componentOf(frame: CallFrame): string {
  const { url, functionName } = frame;
  if (url === '') {
    if (functionName.startsWith('(')) return functionName; // (garbage collector), (idle), (program)
    return 'V8 built-ins and native bindings';
  }
  if (url.startsWith('node:')) return 'Node.js internals';
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url);
  if (pkg) return pkg[1]!;
  const own = /\/packages\/([^/]+)\//.exec(url);
  if (own) return `@switchboard/${own[1]}`;
  return 'other';
}

function shortLocation(frame: CallFrame): string {
  if (frame.url === '') return '';
  const path = frame.url
    .replace(/^file:\/\//, '')
    .replace(/^.*\/node_modules\//, '')
    .replace(/^.*\/packages\//, 'packages/');
  return `${path}:${frame.lineNumber + 1}`;
}

const keyOf = (frame: CallFrame) => `${frame.functionName || '(anonymous)'}\u0000${shortLocation(frame)}`;

export interface ProfileSummary {
  totalMs: number;
  idleMs: number;
  busyMs: number;
  components: Array<{ name: string; ms: number }>;
  self: Array<{ fn: string; location: string; component: string; ms: number }>;
  /** Switchboard's own functions by time including what they call. */
  inclusive: Array<{ fn: string; location: string; ms: number }>;
}

export function summarize(profile: CpuProfile, top = 25): ProfileSummary {
  const byId = new Map<number, ProfileNode>();
  const parent = new Map<number, number>();
  for (const node of profile.nodes) {
    byId.set(node.id, node);
    for (const child of node.children ?? []) parent.set(child, node.id);
  }
  const samples = profile.samples ?? [];
  const deltas = profile.timeDeltas ?? [];
  const self = new Map<string, { frame: CallFrame; us: number }>();
  const components = new Map<string, number>();
  const inclusive = new Map<string, { frame: CallFrame; us: number }>();
  let totalUs = 0;
  let idleUs = 0;
  for (let i = 0; i < samples.length; i++) {
    // A sample stands for the time until the next one (the last gets the mean interval).
    const us =
      deltas[i + 1] ?? (samples.length > 1 ? (profile.endTime - profile.startTime) / samples.length : 0);
    const node = byId.get(samples[i]!);
    if (!node || us <= 0) continue;
    totalUs += us;
    if (node.callFrame.functionName === '(idle)') {
      idleUs += us;
      continue;
    }
    const key = keyOf(node.callFrame);
    const s = self.get(key) ?? { frame: node.callFrame, us: 0 };
    s.us += us;
    self.set(key, s);
    const component = componentOf(node.callFrame);
    components.set(component, (components.get(component) ?? 0) + us);
    // Each function once per sample, however often it recurs on the stack.
    const seen = new Set<string>();
    for (let id: number | undefined = node.id; id !== undefined; id = parent.get(id)) {
      const frame = byId.get(id)!.callFrame;
      if (!frame.url.includes('/packages/')) continue;
      const k = keyOf(frame);
      if (seen.has(k)) continue;
      seen.add(k);
      const e = inclusive.get(k) ?? { frame, us: 0 };
      e.us += us;
      inclusive.set(k, e);
    }
  }
  const toMs = (us: number) => us / 1000;
  return {
    totalMs: toMs(totalUs),
    idleMs: toMs(idleUs),
    busyMs: toMs(totalUs - idleUs),
    components: [...components].map(([name, us]) => ({ name, ms: toMs(us) })).sort((a, b) => b.ms - a.ms),
    self: [...self.values()]
      .sort((a, b) => b.us - a.us)
      .slice(0, top)
      .map((e) => ({
        fn: e.frame.functionName || '(anonymous)',
        location: shortLocation(e.frame),
        component: componentOf(e.frame),
        ms: toMs(e.us),
      })),
    inclusive: [...inclusive.values()]
      .sort((a, b) => b.us - a.us)
      .slice(0, top)
      .map((e) => ({
        fn: e.frame.functionName || '(anonymous)',
        location: shortLocation(e.frame),
        ms: toMs(e.us),
      })),
  };
}

/** The summary as Markdown; with `deliveries`, also CPU time per delivery. */
export function summaryMarkdown(s: ProfileSummary, deliveries?: number): string {
  const pct = (ms: number) => `${fixed((100 * ms) / s.busyMs, 1)} %`;
  const lines = [
    `Profiled ${fixed(s.totalMs / 1000, 1)} s: busy ${fixed(s.busyMs / 1000, 1)} s, idle ${fixed(s.idleMs / 1000, 1)} s.` +
      (deliveries
        ? ` Busy CPU per delivery: ${fixed((s.busyMs * 1000) / deliveries, 0)} µs over ${deliveries} deliveries.`
        : ''),
    '',
    '| Component | Self time | Share of busy |',
    '| --- | --- | --- |',
    ...s.components.map((c) => `| ${c.name} | ${fixed(c.ms, 0)} ms | ${pct(c.ms)} |`),
    '',
    '| Function (self time) | Where | Component | Self time | Share of busy |',
    '| --- | --- | --- | --- | --- |',
    ...s.self.map(
      (f) => `| \`${f.fn}\` | ${f.location} | ${f.component} | ${fixed(f.ms, 0)} ms | ${pct(f.ms)} |`,
    ),
    '',
    '| Switchboard function (inclusive) | Where | Total time | Share of busy |',
    '| --- | --- | --- | --- |',
    ...s.inclusive.map((f) => `| \`${f.fn}\` | ${f.location} | ${fixed(f.ms, 0)} ms | ${pct(f.ms)} |`),
  ];
  return lines.join('\n');
}

function main(argv: string[]): void {
  const files = argv.filter((a) => !a.startsWith('--'));
  const flag = (name: string) => argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1];
  if (files.length === 0) {
    process.stderr.write(
      'usage: node bench/dist/profileSummary.js <file.cpuprofile> [--top=25] [--deliveries=N]\n',
    );
    process.exitCode = 2;
    return;
  }
  const top = Number(flag('top') ?? 25);
  const deliveries = flag('deliveries') ? Number(flag('deliveries')) : undefined;
  for (const file of files) {
    const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
    process.stdout.write(`## ${file}\n\n${summaryMarkdown(summarize(profile, top), deliveries)}\n\n`);
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) main(process.argv.slice(2));
