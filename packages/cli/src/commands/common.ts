/** Small pieces the resource commands share. */

import { Command } from 'commander';
import { withApiFlags } from '../globals.js';

/** Commander's accumulator for a repeatable option (`--set a=1 --set b=2`). */
export const collect = (value: string, previous: string[] = []): string[] => [...previous, value];

/** A command with the shared API flags and an Examples section in its help. */
export function apiCommand(name: string, description: string, examples: readonly string[]): Command {
  return withApiFlags(new Command(name).description(description)).addHelpText(
    'after',
    `\nExamples:\n${examples.map((e) => `  $ ${e}`).join('\n')}`,
  );
}

/** A command grouping subcommands, its help listing their examples. */
export function groupCommand(name: string, description: string, examples: readonly string[]): Command {
  return new Command(name)
    .description(description)
    .addHelpText('after', `\nExamples:\n${examples.map((e) => `  $ ${e}`).join('\n')}`);
}

/** A positive integer flag such as `--limit`. */
export function intFlag(
  name: string,
  value: string | undefined,
  min = 0,
  max = Number.MAX_SAFE_INTEGER,
): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < min || n > max) {
    throw new Error(`${name} must be a whole number from ${min} to ${max}, got '${value}'.`);
  }
  return n;
}

/** `true`/`false` for flags that take one (`--disabled false`). */
export function boolFlag(name: string, value: string | undefined): boolean | undefined {
  if (value === undefined) return undefined;
  if (value === 'true') return true;
  if (value === 'false') return false;
  throw new Error(`${name} must be true or false, got '${value}'.`);
}

/** `a,b , c` → `['a', 'b', 'c']`. */
export const listFlag = (value: string): string[] =>
  value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
