/** Small numeric helpers for the result table. */

/** Nearest-rank percentile of already sorted values (`p` in 0–100). */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]!;
}

export interface Distribution {
  count: number;
  p50: number;
  p99: number;
  max: number;
}

export function distribution(values: readonly number[]): Distribution {
  const sorted = Float64Array.from(values).sort();
  const list = Array.from(sorted);
  return {
    count: list.length,
    p50: percentile(list, 50),
    p99: percentile(list, 99),
    max: list.length ? list[list.length - 1]! : Number.NaN,
  };
}

export function median(values: readonly number[]): number {
  return percentile(
    [...values].sort((a, b) => a - b),
    50,
  );
}

const grouped = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });

/** 12,345 */
export const int = (n: number): string => (Number.isFinite(n) ? grouped.format(n) : 'n/a');

/** Fixed decimals, `n/a` for NaN. */
export const fixed = (n: number, digits = 1): string =>
  // A value that rounds to zero is shown as 0, not -0.
  Number.isFinite(n) ? n.toFixed(digits).replace(/^-(0(\.0+)?)$/, '$1') : 'n/a';

/** Milliseconds with a precision that suits their size. */
export const ms = (n: number): string =>
  Number.isFinite(n)
    ? Math.abs(n) < 10
      ? n.toFixed(2)
      : Math.abs(n) < 100
        ? n.toFixed(1)
        : n.toFixed(0)
    : 'n/a';

export const mb = (kb: number): string => (Number.isFinite(kb) ? `${(kb / 1024).toFixed(0)} MB` : 'n/a');

export const dist = (d: Distribution): string => `${ms(d.p50)} / ${ms(d.p99)} / ${ms(d.max)}`;
