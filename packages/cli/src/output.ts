/** Rendering for the resource commands: aligned tables, key/value blocks, times and colour. Pure except `out`. */

import type { GlobalFlags } from './globals.js';

export interface Palette {
  green(s: string): string;
  red(s: string): string;
  yellow(s: string): string;
  dim(s: string): string;
  bold(s: string): string;
}

/** Colour only on a terminal, and never when NO_COLOR is set (to anything). */
export function colorEnabled(stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv = process.env): boolean {
  return stream.isTTY === true && env['NO_COLOR'] === undefined;
}

const sgr = (open: number, close: number) => (s: string) => `\u001b[${open}m${s}\u001b[${close}m`;

/** ANSI colours when `enabled`, otherwise the text unchanged. */
export function palette(enabled: boolean): Palette {
  if (!enabled) {
    const plain = (s: string) => s;
    return { green: plain, red: plain, yellow: plain, dim: plain, bold: plain };
  }
  return { green: sgr(32, 39), red: sgr(31, 39), yellow: sgr(33, 39), dim: sgr(2, 22), bold: sgr(1, 22) };
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: matching ANSI escape sequences is the point.
const ANSI_RE = /\u001b\[[0-9;]*m/g;

// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point.
const CONTROL_RE = /\u001b\[(?:1|2|22|31|32|33|39)m|[\u0000-\u001f\u007f-\u009f]/g;

/**
 * Text safe to print on a terminal: every control character (escape
 * sequences, carriage returns, bells, newlines…) from what the server sent
 * shown as a visible `\xNN` instead, so no value can move the cursor, retitle
 * the window or hide text. The palette's own colour codes pass.
 */
export const printable = (s: string): string =>
  s.replace(CONTROL_RE, (m) => (m.length > 1 ? m : `\\x${m.charCodeAt(0).toString(16).padStart(2, '0')}`));

/** The text without colour codes. */
export const stripAnsi = (s: string): string => s.replace(ANSI_RE, '');

/** Display width, ignoring colour codes. */
export const visibleLength = (s: string): number => stripAnsi(s).length;

/** A table with a header row, columns padded to their widest cell; the last column is not padded. */
export function renderTable(headers: readonly string[], unsafeRows: readonly (readonly string[])[]): string {
  const rows = unsafeRows.map((r) => r.map(printable));
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => visibleLength(r[i] ?? ''))));
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, i) => (i === cells.length - 1 ? cell : cell + ' '.repeat(widths[i]! - visibleLength(cell))))
      .join('  ')
      .trimEnd();
  return [line(headers), ...rows.map(line)].join('\n');
}

/** `Label:  value` lines, labels aligned. */
export function renderFields(fields: readonly (readonly [string, string])[]): string {
  const width = Math.max(...fields.map(([k]) => k.length)) + 1;
  return fields.map(([k, v]) => `${`${k}:`.padEnd(width)}  ${printable(v)}`).join('\n');
}

const pad2 = (n: number) => String(n).padStart(2, '0');

/** `2026-11-28 10:00:00` in local time, from unix seconds (or milliseconds with `ms`). */
export function formatTime(value: number, unit: 's' | 'ms' = 's'): string {
  const d = new Date(unit === 's' ? value * 1000 : value);
  return `${d.getFullYear()}-${pad2(d.getMonth() + 1)}-${pad2(d.getDate())} ${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())}`;
}

/** A cell for a possibly missing value. */
export const cell = (value: unknown): string =>
  value === null || value === undefined || value === '' ? '-' : String(value);

/** `--format`: text (the default) or json; anything else is an error. */
export function wantsJsonOutput(flags: GlobalFlags): boolean {
  const format = (flags.format ?? 'text').toLowerCase();
  if (format !== 'text' && format !== 'json')
    throw new Error(`--format must be text or json, got '${flags.format}'.`);
  return format === 'json';
}

/** Write lines to stdout. */
export function out(text: string): void {
  process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
}

/** Print a value as indented JSON (what `--format json` shows: the API's response as is). */
export const outJson = (value: unknown): void => out(JSON.stringify(value, null, 2));

/** A command's result: the API's JSON with `--format json`, else its human rendering. */
export function outResult<T>(json: boolean, value: T, render: (value: T) => string): void {
  if (json) outJson(value);
  else out(render(value));
}

/** The palette for stdout. */
export const stdoutPalette = (): Palette => palette(colorEnabled(process.stdout));
