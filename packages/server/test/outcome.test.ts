import { describe, expect, it } from 'vitest';
import { classifyOutcome, type Outcome, type OutcomeInput, parseHttpDate } from '../src/delivery/outcome.js';

const now = Date.UTC(2026, 10, 28, 10, 0, 0); // Sat, 28 Nov 2026 10:00:00 GMT
const H24 = 24 * 60 * 60 * 1000;

type Row = [string, Omit<OutcomeInput, 'now'>, Outcome];
const fail = (error: string, retryAfterMs: number | null = null): Outcome => ({
  success: false,
  error,
  retryAfterMs,
});
const success: Outcome = { success: true, error: null, retryAfterMs: null };

const rows: Row[] = [
  ['200', { statusCode: 200, errorCode: null }, success],
  ['201', { statusCode: 201, errorCode: null }, success],
  ['204', { statusCode: 204, errorCode: null }, success],
  ['299', { statusCode: 299, errorCode: null }, success],
  ['2xx whose body then timed out', { statusCode: 200, errorCode: 'timeout' }, success],
  [
    '2xx ignores Retry-After',
    { statusCode: 200, errorCode: null, headers: { 'retry-after': '60' } },
    success,
  ],
  ['101', { statusCode: 101, errorCode: null }, fail('http_101')],
  [
    '302 with Location',
    { statusCode: 302, errorCode: null, headers: { location: 'https://elsewhere.test/hook' } },
    fail('redirect_not_followed (302 → Location https://elsewhere.test/hook)'),
  ],
  [
    '301 with Location as an array',
    { statusCode: 301, errorCode: null, headers: { Location: ['/moved', '/ignored'] } },
    fail('redirect_not_followed (301 → Location /moved)'),
  ],
  ['304 without Location', { statusCode: 304, errorCode: null }, fail('redirect_not_followed (304)')],
  [
    '307 with a very long Location',
    { statusCode: 307, errorCode: null, headers: { location: `/${'x'.repeat(500)}` } },
    fail(`redirect_not_followed (307 → Location /${'x'.repeat(199)}…)`),
  ],
  ['400', { statusCode: 400, errorCode: null }, fail('http_400')],
  ['404', { statusCode: 404, errorCode: null }, fail('http_404')],
  ['410', { statusCode: 410, errorCode: null }, fail('http_410')],
  ['500', { statusCode: 500, errorCode: null }, fail('http_500')],
  ['502', { statusCode: 502, errorCode: null }, fail('http_502')],
  ['429 without Retry-After', { statusCode: 429, errorCode: null }, fail('http_429')],
  [
    '429 delta-seconds',
    { statusCode: 429, errorCode: null, headers: { 'retry-after': '120' } },
    fail('http_429', 120_000),
  ],
  [
    '503 delta-seconds',
    { statusCode: 503, errorCode: null, headers: { 'retry-after': ' 5 ' } },
    fail('http_503', 5000),
  ],
  ['503 zero', { statusCode: 503, errorCode: null, headers: { 'retry-after': '0' } }, fail('http_503', 0)],
  [
    'header name in any case',
    { statusCode: 503, errorCode: null, headers: { 'Retry-After': '7' } },
    fail('http_503', 7000),
  ],
  [
    'array header: first value',
    { statusCode: 429, errorCode: null, headers: { 'retry-after': ['3', '9'] } },
    fail('http_429', 3000),
  ],
  [
    '503 HTTP-date',
    { statusCode: 503, errorCode: null, headers: { 'retry-after': 'Sat, 28 Nov 2026 10:05:00 GMT' } },
    fail('http_503', 300_000),
  ],
  [
    '503 HTTP-date, RFC 850 form',
    { statusCode: 503, errorCode: null, headers: { 'retry-after': 'Saturday, 28-Nov-26 10:01:00 GMT' } },
    fail('http_503', 60_000),
  ],
  [
    '503 HTTP-date, asctime form',
    { statusCode: 503, errorCode: null, headers: { 'retry-after': 'Sat Nov 28 10:00:30 2026' } },
    fail('http_503', 30_000),
  ],
  [
    'HTTP-date equal to now',
    { statusCode: 503, errorCode: null, headers: { 'retry-after': 'Sat, 28 Nov 2026 10:00:00 GMT' } },
    fail('http_503', 0),
  ],
  [
    'HTTP-date in the past ignored',
    { statusCode: 503, errorCode: null, headers: { 'retry-after': 'Sat, 28 Nov 2026 09:59:59 GMT' } },
    fail('http_503'),
  ],
  [
    'HTTP-date capped at 24 h',
    { statusCode: 429, errorCode: null, headers: { 'retry-after': 'Fri, 01 Jan 2027 00:00:00 GMT' } },
    fail('http_429', H24),
  ],
  [
    'delta-seconds capped at 24 h',
    { statusCode: 429, errorCode: null, headers: { 'retry-after': '999999999999' } },
    fail('http_429', H24),
  ],
  [
    'negative ignored',
    { statusCode: 429, errorCode: null, headers: { 'retry-after': '-5' } },
    fail('http_429'),
  ],
  [
    'fraction ignored',
    { statusCode: 429, errorCode: null, headers: { 'retry-after': '1.5' } },
    fail('http_429'),
  ],
  [
    'garbage ignored',
    { statusCode: 503, errorCode: null, headers: { 'retry-after': 'soon' } },
    fail('http_503'),
  ],
  ['empty ignored', { statusCode: 503, errorCode: null, headers: { 'retry-after': '' } }, fail('http_503')],
  [
    'non-HTTP date format ignored',
    { statusCode: 503, errorCode: null, headers: { 'retry-after': '2026-11-28T10:05:00Z' } },
    fail('http_503'),
  ],
  [
    'impossible date ignored',
    { statusCode: 503, errorCode: null, headers: { 'retry-after': 'Mon, 31 Feb 2027 00:00:00 GMT' } },
    fail('http_503'),
  ],
  [
    'Retry-After ignored on 500',
    { statusCode: 500, errorCode: null, headers: { 'retry-after': '60' } },
    fail('http_500'),
  ],
  [
    'Retry-After ignored on 302',
    { statusCode: 302, errorCode: null, headers: { 'retry-after': '60' } },
    fail('redirect_not_followed (302)'),
  ],
  ['timeout', { statusCode: null, errorCode: 'timeout' }, fail('timeout')],
  ['connection refused', { statusCode: null, errorCode: 'connection_refused' }, fail('connection_refused')],
  ['private target', { statusCode: null, errorCode: 'private_target' }, fail('private_target')],
  ['no status and no code', { statusCode: null, errorCode: null }, fail('network_error')],
];

describe('classifyOutcome', () => {
  it.each(rows)('%s', (_name, input, expected) => {
    expect(classifyOutcome({ ...input, now })).toEqual(expected);
  });
});

describe('parseHttpDate', () => {
  it.each([
    ['Sun, 06 Nov 1994 08:49:37 GMT', Date.UTC(1994, 10, 6, 8, 49, 37)],
    ['Sunday, 06-Nov-94 08:49:37 GMT', Date.UTC(1994, 10, 6, 8, 49, 37)],
    ['Sun Nov  6 08:49:37 1994', Date.UTC(1994, 10, 6, 8, 49, 37)],
    ['Thu, 01 Jan 2065 00:00:00 GMT', Date.UTC(2065, 0, 1)],
    ['Sun, 06 Nov 1994 08:49:37 UTC', null],
    ['Sun, 06 Nov 1994 25:49:37 GMT', null],
    ['Sun, 6 Nov 1994 08:49:37 GMT', null],
    ['Sun, 06 Nov 0094 08:49:37 GMT', null],
    ['1', null],
  ] as [string, number | null][])('%j → %s', (text, expected) => {
    expect(parseHttpDate(text)).toBe(expected);
  });
});
