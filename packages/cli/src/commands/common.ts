/** Small pieces the resource commands share. */

import { Command } from 'commander';
import { clientFrom, type GlobalFlags, withApiFlags } from '../globals.js';
import { outResult, wantsJsonOutput } from '../output.js';

/** Commander's accumulator for a repeatable option (`--set a=1 --set b=2`). */
export const collect = (value: string, previous: string[] = []): string[] => [...previous, value];

const examplesHelp = (examples: readonly string[]): string =>
  `\nExamples:\n${examples.map((e) => `  $ ${e}`).join('\n')}`;

/** A command with the shared API flags and an Examples section in its help. */
export function apiCommand(name: string, description: string, examples: readonly string[]): Command {
  return withApiFlags(new Command(name).description(description)).addHelpText(
    'after',
    examplesHelp(examples),
  );
}

/** A command grouping subcommands, its help listing their examples. */
export function groupCommand(name: string, description: string, examples: readonly string[]): Command {
  return new Command(name).description(description).addHelpText('after', examplesHelp(examples));
}

/**
 * `<group> retrieve <id>`: GET one object and show it (its fields, or the JSON with `--format json`).
 *
 * @example
 * retrieveCommand('Show one event.', [example], 'event id (evt_…)', (id) => `/v1/events/${id}`, eventFields)
 */
export function retrieveCommand<T>(
  description: string,
  examples: readonly string[],
  idDescription: string,
  pathOf: (id: string) => string,
  render: (value: T) => string,
): Command {
  return apiCommand('retrieve', description, examples)
    .argument('<id>', idDescription)
    .action(async (id: string, flags: GlobalFlags) => {
      const json = wantsJsonOutput(flags);
      outResult(json, await clientFrom(flags).request<T>('GET', pathOf(id)), render);
    });
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
