/** Table rendering, colour rules and flag parsing of the resource commands (pure). */

import { describe, expect, it } from 'vitest';
import { paramsFromAssignments } from '../src/commands/accounts.js';
import { boolFlag, intFlag, listFlag } from '../src/commands/common.js';
import { attemptRows } from '../src/commands/deliveries.js';
import {
  colorEnabled,
  formatTime,
  palette,
  printable,
  renderFields,
  renderTable,
  stripAnsi,
  visibleLength,
} from '../src/output.js';

describe('colour', () => {
  it('only on a terminal, and never with NO_COLOR set', () => {
    expect(colorEnabled({ isTTY: true }, {})).toBe(true);
    expect(colorEnabled({ isTTY: false }, {})).toBe(false);
    expect(colorEnabled({}, {})).toBe(false);
    expect(colorEnabled({ isTTY: true }, { NO_COLOR: '1' })).toBe(false);
    expect(colorEnabled({ isTTY: true }, { NO_COLOR: '' })).toBe(false);
  });

  it('leaves text alone when off', () => {
    expect(palette(false).red('x')).toBe('x');
    expect(palette(true).red('x')).toBe('\u001b[31mx\u001b[39m');
    expect(visibleLength(palette(true).green('200'))).toBe(3);
  });
});

describe('tables', () => {
  it('pad columns to the widest cell, ignoring colour codes, and do not pad the last', () => {
    const c = palette(true);
    const text = renderTable(
      ['ID', 'STATUS', 'ERROR'],
      [
        ['we_1', c.green('200'), '-'],
        ['we_22', c.red('500'), 'http_500'],
      ],
    );
    const plain = stripAnsi(text);
    expect(plain.split('\n')).toEqual([
      'ID     STATUS  ERROR',
      'we_1   200     -',
      'we_22  500     http_500',
    ]);
  });

  it('align field labels', () => {
    expect(
      renderFields([
        ['ID', 'we_1'],
        ['Status', 'enabled'],
      ]),
    ).toBe('ID:      we_1\nStatus:  enabled');
  });

  it('show times as local YYYY-MM-DD HH:MM:SS, from seconds or milliseconds', () => {
    expect(formatTime(1_764_324_000)).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
    expect(formatTime(1_764_324_000_123, 'ms')).toBe(formatTime(1_764_324_000));
  });

  it('render the attempt log from either side', () => {
    const attempt = {
      id: 'wa_1',
      object: 'delivery_attempt' as const,
      event: 'evt_1',
      webhook_endpoint: 'we_1',
      created: 1_764_324_000,
      attempted_at_ms: 1_764_324_000_000,
      duration_ms: 12,
      status_code: null,
      error: 'timeout',
      response_body: null,
      manual: true,
      succeeded: false,
    };
    expect(attemptRows([attempt], 'event')[0]!.slice(1)).toEqual(['we_1', '-', '12 ms', 'manual', 'timeout']);
    expect(attemptRows([{ ...attempt, status_code: 204, succeeded: true }], 'endpoint')[0]!.slice(1)).toEqual(
      ['evt_1', '204', '12 ms', 'manual', '-'],
    );
  });
});

describe('flags', () => {
  it('parse numbers, booleans and lists with one-line errors', () => {
    expect(intFlag('--limit', '20', 1, 100)).toBe(20);
    expect(intFlag('--limit', undefined)).toBeUndefined();
    expect(() => intFlag('--limit', '0', 1, 100)).toThrow(
      "--limit must be a whole number from 1 to 100, got '0'.",
    );
    expect(() => intFlag('--limit', '1.5')).toThrow(/whole number/);
    expect(boolFlag('--disabled', 'false')).toBe(false);
    expect(() => boolFlag('--disabled', 'maybe')).toThrow("--disabled must be true or false, got 'maybe'.");
    expect(listFlag('a, b,,c')).toEqual(['a', 'b', 'c']);
  });

  it('turn --set assignments into nested parameters', () => {
    expect(
      paramsFromAssignments([
        'charges_enabled=true',
        'business_profile.name=Rosen Ceramics',
        'requirements[currently_due]=[]',
        'metadata.seller="42"',
      ]),
    ).toEqual({
      charges_enabled: true,
      business_profile: { name: 'Rosen Ceramics' },
      requirements: { currently_due: [] },
      metadata: { seller: '42' },
    });
  });
});

describe('printable', () => {
  it.each([
    ['plain text', 'acct_1 ok', 'acct_1 ok'],
    ['a cursor move', 'a\u001b[2Jb', 'a\\x1b[2Jb'],
    ['a window title (OSC)', '\u001b]0;pwned\u0007', '\\x1b]0;pwned\\x07'],
    ['carriage return and newline', 'x\r\ny', 'x\\x0d\\x0ay'],
    ['a C1 control', 'a\u009bb', 'a\\x9bb'],
    ['the palette’s own colours pass', '\u001b[32mok\u001b[39m', '\u001b[32mok\u001b[39m'],
  ])('%s', (_name, input, expected) => {
    expect(printable(input)).toBe(expected);
  });

  it('tables and fields print what the server sent only escaped', () => {
    const table = renderTable(['ID', 'EMAIL'], [['acct_1', 'evil\u001b]0;x\u0007@example.com']]);
    expect(table).not.toContain('\u001b]');
    expect(table).toContain('evil\\x1b]0;x\\x07@example.com');
    expect(renderFields([['Email', 'a\u001b[1Ab']])).toBe('Email:  a\\x1b[1Ab');
  });
});
