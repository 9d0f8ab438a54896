/**
 * `POST /v1/test_helpers/advance_time` (**extension**, test mode only): what
 * Stripe does later for the caller's account (funds becoming available, a
 * payout being paid or failing) happens now, as if `seconds` had passed for
 * that account (or, with `subject`, for that one object). Only scheduled steps move: the server's own clock does
 * not, so event timestamps and webhook signatures stay true.
 */

import { Hono } from 'hono';
import type { ApiEnv, Runtime } from '../context.js';
import { ApiError, missingParam } from '../errors.js';
import { Params } from '../params.js';

/** At most thirty days at a time. */
const MAX_SECONDS = 30 * 24 * 3600;

export function testHelperRoutes(rt: Runtime): Hono<ApiEnv> {
  const app = new Hono<ApiEnv>();
  app.post('/advance_time', async (c) => {
    const caller = c.get('caller');
    if (caller.livemode)
      throw new ApiError(
        400,
        'invalid_request_error',
        'Test helpers work in test mode only: use a test key (sk_test_…).',
        'livemode_mismatch',
      );
    const p = new Params(c.get('params'), ['seconds', 'subject']);
    const seconds = p.int('seconds', { min: 1, max: MAX_SECONDS });
    if (seconds === undefined) throw missingParam('seconds');
    const dueBy = rt.clock() + seconds * 1000;
    // `subject`: only what is scheduled for that object (a payout), not the account's other steps.
    const subject = p.string('subject', { maxLength: 255 });
    const scope = {
      accountId: caller.accountId,
      livemode: false,
      ...(subject ? { subjectId: subject } : {}),
    };
    let ran = 0;
    // A step may set another within the window (none do yet): run until nothing is due by then.
    for (let pass = 0; pass < 100; pass++) {
      // The events the steps cause record this request: it is why they happened now.
      const n = await rt.runScheduledSteps(
        { dueBy, scope },
        { requestId: c.get('requestId'), idempotencyKey: c.req.header('idempotency-key') ?? null },
      );
      ran += n;
      if (n === 0) break;
    }
    return c.json({
      object: 'test_helpers.advance_time',
      account: caller.accountId,
      seconds,
      steps_run: ran,
    });
  });
  return app;
}
