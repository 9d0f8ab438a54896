/** Terminal output helpers: colour only on a TTY and never with NO_COLOR. */

export function useColour(
  stream: NodeJS.WriteStream = process.stdout,
  env: NodeJS.ProcessEnv = process.env,
): boolean {
  return Boolean(stream.isTTY) && env['NO_COLOR'] === undefined && env['TERM'] !== 'dumb';
}

const codes = { bold: 1, dim: 2, red: 31, green: 32, yellow: 33, cyan: 36 } as const;
export type Style = keyof typeof codes;

/** Wrap text in an ANSI style when `on`. */
export function paint(on: boolean, style: Style, text: string): string {
  return on ? `\u001b[${codes[style]}m${text}\u001b[0m` : text;
}

/** `2026-11-28 10:00:00` in local time, as the Stripe CLI prints it. */
export function timestamp(date: Date = new Date()): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${date.getFullYear()}-${p(date.getMonth() + 1)}-${p(date.getDate())} ${p(date.getHours())}:${p(date.getMinutes())}:${p(date.getSeconds())}`;
}
