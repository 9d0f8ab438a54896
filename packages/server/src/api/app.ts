/**
 * The HTTP API as a Hono app over Web Request/Response: tests call
 * `app.request()` without a socket; `serve` puts it on node:http.
 */

import { Hono } from 'hono';
import { StoreError } from '../store/errors.js';
import { createAuthThrottle, DEFAULT_AUTH_THROTTLE } from './authThrottle.js';
import type { ApiEnv, Runtime } from './context.js';
import { ApiError, internalError, invalid, unavailable, unrecognizedUrl } from './errors.js';
import { authenticate, idempotency, params, requestId } from './middleware.js';
import { accountRoutes, ownAccountRoutes } from './routes/accounts.js';
import { apiKeyRoutes } from './routes/apiKeys.js';
import { balanceRoutes, balanceTransactionRoutes } from './routes/balance.js';
import { capabilityRoutes } from './routes/capabilities.js';
import { chargeRoutes } from './routes/charges.js';
import { customerRoutes } from './routes/customers.js';
import { eventRoutes } from './routes/events.js';
import { externalAccountRoutes } from './routes/externalAccounts.js';
import { paymentIntentRoutes } from './routes/paymentIntents.js';
import { paymentMethodRoutes } from './routes/paymentMethods.js';
import { payoutRoutes } from './routes/payouts.js';
import { personRoutes } from './routes/persons.js';
import { refundRoutes } from './routes/refunds.js';
import { testHelperRoutes } from './routes/testHelpers.js';
import { webhookEndpointRoutes } from './routes/webhookEndpoints.js';

export interface ApiOptions {
  /** Largest request body accepted, in bytes (default 1 MiB); larger gets 413. */
  maxBodyBytes?: number;
  /** More authenticated routes under /v1 (listen sessions), by path prefix. */
  extraRoutes?: Record<string, Hono<ApiEnv>>;
}

export function createApi(rt: Runtime, options: ApiOptions = {}): Hono<ApiEnv> {
  const app = new Hono<ApiEnv>();
  const maxBodyBytes = options.maxBodyBytes ?? 1024 * 1024;

  app.use('*', requestId());

  app.get('/healthz', async (c) => {
    try {
      await rt.store.ping();
      return c.json({ status: 'ok', engine: rt.store.engine });
    } catch {
      return c.json({ status: 'unavailable', engine: rt.store.engine }, 503);
    }
  });

  app.use('/v1/*', authenticate(rt, createAuthThrottle({ ...DEFAULT_AUTH_THROTTLE, clock: rt.clock })));
  app.use('/v1/*', params({ maxBodyBytes }));
  app.use('/v1/*', idempotency(rt));

  app.route('/v1/webhook_endpoints', webhookEndpointRoutes(rt));
  app.route('/v1/events', eventRoutes(rt));
  app.route('/v1/accounts/:account/external_accounts', externalAccountRoutes(rt));
  app.route('/v1/accounts/:account/persons', personRoutes(rt));
  app.route('/v1/accounts/:account/capabilities', capabilityRoutes(rt));
  app.route('/v1/accounts', accountRoutes(rt));
  app.route('/v1/account', ownAccountRoutes(rt));
  app.route('/v1/api_keys', apiKeyRoutes(rt));
  app.route('/v1/customers', customerRoutes(rt));
  app.route('/v1/payment_intents', paymentIntentRoutes(rt));
  app.route('/v1/payment_methods', paymentMethodRoutes(rt));
  app.route('/v1/charges', chargeRoutes(rt));
  app.route('/v1/refunds', refundRoutes(rt));
  app.route('/v1/payouts', payoutRoutes(rt));
  app.route('/v1/test_helpers', testHelperRoutes(rt));
  app.route('/v1/balance', balanceRoutes(rt));
  app.route('/v1/balance_transactions', balanceTransactionRoutes(rt));
  for (const [prefix, routes] of Object.entries(options.extraRoutes ?? {})) app.route(prefix, routes);

  app.notFound((c) => {
    const error = unrecognizedUrl(c.req.method, c.req.path);
    return c.json(error.toJSON(), 404);
  });

  app.onError((err, c) => {
    let error: ApiError;
    if (err instanceof ApiError) error = err;
    else if (err instanceof StoreError && err.code === 'cursor_not_found') {
      error = invalid(err.message, 'resource_missing', 'starting_after');
    } else if (err instanceof StoreError && err.code === 'unavailable') {
      // The database is unreachable: 503 so clients retry, never a false 200.
      rt.log.error('database unavailable', { requestId: c.get('requestId'), error: String(err) });
      error = unavailable();
    } else {
      // Never leak internals: the client gets the request id, the log gets the error.
      rt.log.error('unhandled error', {
        requestId: c.get('requestId'),
        error: err instanceof Error ? (err.stack ?? err.message) : String(err),
      });
      error = internalError(c.get('requestId') ?? 'unknown');
    }
    for (const [name, value] of Object.entries(error.headers)) c.header(name, value);
    return c.json(error.toJSON(), error.status as 400);
  });

  return app;
}
