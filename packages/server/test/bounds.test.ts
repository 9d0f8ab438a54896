/**
 * Every input is bounded: nesting of any body (form or JSON), so that no
 * hostile event can be stored and poison the lists that would serve it.
 */

import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MAX_PARAM_DEPTH, tooDeep } from '../src/api/formBody.js';
import { type Harness, startHarness, TEST_KEY } from './helpers/switchboard.js';

const nested = (levels: number): unknown => {
  let v: unknown = 1;
  for (let i = 0; i < levels; i++) v = { a: v };
  return v;
};

describe('tooDeep', () => {
  it.each<[string, unknown, string | null]>([
    ['a scalar', 1, null],
    // As deep as a form body may be: the name, then 20 brackets.
    ['at the limit', nested(MAX_PARAM_DEPTH + 1), null],
    ['one level more', nested(MAX_PARAM_DEPTH + 2), `a${'[a]'.repeat(MAX_PARAM_DEPTH + 1)}`],
    [
      'arrays count as levels',
      { x: JSON.parse(`${'['.repeat(21)}1${']'.repeat(21)}`) },
      `x${'[0]'.repeat(MAX_PARAM_DEPTH + 1)}`,
    ],
    ['4,100 levels', nested(4100), `a${'[a]'.repeat(MAX_PARAM_DEPTH + 1)}`],
  ])('%s', (_name, value, expected) => {
    expect(tooDeep(value)).toBe(expected);
  });
});

describe('body bounds', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await startHarness('sqlite');
  });
  afterEach(async (ctx) => {
    await h.close(ctx.task.result?.state === 'fail');
  });

  it('an event nested thousands of levels is refused, naming the parameter, and nothing is stored', async () => {
    const json = await h.api('POST', '/v1/events', {
      type: 'customer.created',
      data: { object: nested(4100) },
    });
    expect(json.status).toBe(400);
    expect(json.body.error.param).toMatch(/^data\[object\]\[a\]/);
    expect(json.body.error.message).toMatch(/nested too deeply \(at most 20 levels\)/);
    const form = await fetch(`${h.url}/v1/events`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TEST_KEY}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: `type=customer.created&data[object]${'[a]'.repeat(4100)}=1`,
    });
    expect(form.status).toBe(400);
    expect(((await form.json()) as { error: { message: string } }).error.message).toMatch(
      /nested too deeply/,
    );
    // The lists that would serve such an event still work, and hold nothing.
    const list = await h.api('GET', '/v1/events');
    expect(list.status).toBe(200);
    expect(list.body.data).toEqual([]);
  });

  it('an event at the limit is stored and served', async () => {
    const ok = await h.api('POST', '/v1/events', {
      type: 'customer.created',
      data: { object: nested(MAX_PARAM_DEPTH - 1) },
    });
    expect(ok.status, JSON.stringify(ok.body)).toBe(200);
    expect((await h.api('GET', '/v1/events')).body.data).toHaveLength(1);
  });
});
