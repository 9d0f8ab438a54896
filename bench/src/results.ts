/** The rows every scenario adds, and the Markdown table they end up in. */

export interface Row {
  scenario: string;
  engine: string;
  measure: string;
  value: string;
  /** The comparison measured in the same run. */
  baseline: string;
  ratio: string;
  target: string;
  /** true met, false missed, null no target. */
  met: boolean | null;
  notes: string;
}

export const row = (r: Partial<Row> & Pick<Row, 'scenario' | 'measure' | 'value'>): Row => ({
  engine: '—',
  baseline: '—',
  ratio: '—',
  target: '—',
  met: null,
  notes: '',
  ...r,
});

/** A scenario that could not run or broke: still one row, so the table shows what is missing. */
export const failedRow = (scenario: string, engine: string, error: unknown): Row =>
  row({
    scenario,
    engine,
    measure: 'error',
    value: 'failed',
    met: false,
    notes: (error instanceof Error ? error.message : String(error)).split('\n')[0]!.slice(0, 300),
  });

const cell = (text: string) => text.replace(/\|/g, '\\|').replace(/\n/g, ' ');

export function markdownTable(rows: readonly Row[]): string {
  const header = [
    'Scenario',
    'Engine',
    'Measure',
    'Switchboard',
    'Baseline (same run)',
    'Ratio',
    'Target',
    'Met',
    'Notes',
  ];
  const lines = [
    `| ${header.join(' | ')} |`,
    `| ${header.map(() => '---').join(' | ')} |`,
    ...rows.map(
      (r) =>
        `| ${[
          r.scenario,
          r.engine,
          r.measure,
          r.value,
          r.baseline,
          r.ratio,
          r.target,
          r.met === null ? '' : r.met ? 'yes' : 'no',
          r.notes,
        ]
          .map(cell)
          .join(' | ')} |`,
    ),
  ];
  return lines.join('\n');
}
