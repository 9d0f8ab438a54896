// Express support without depending on express: its request and response
// extend node's IncomingMessage and ServerResponse, which is all this uses.
import type { ServerResponse } from 'node:http';
import { constructEvent } from '../verify.js';
import { type NodeWebhookRequest, rawBodyOf, writeResponse } from './nodeHttp.js';
import {
  type AdapterResponse,
  errorResponse,
  notRawResponse,
  processWebhook,
  resolveAdapterOptions,
  tooLargeResponse,
  type WebhookAdapterOptions,
} from './shared.js';

export type { LivemodePolicy, WebhookContext, WebhookRouter } from '../router.js';
export {
  DEFAULT_MAX_BODY_BYTES,
  type WebhookAdapterOptions,
  type WebhookErrorInfo,
} from './shared.js';

/** The request as Express hands it over: a node request with `body` set by whatever parser ran. */
export type ExpressWebhookRequest = NodeWebhookRequest;
export type ExpressWebhookResponse = ServerResponse;
export type ExpressNextFunction = (error?: unknown) => void;

const FIX =
  "Mount the webhook route before app.use(express.json()), or give it express.raw({ type: 'application/json' }).";

const MESSAGES = {
  parsed:
    'The request body was already parsed (req.body is an object): a JSON body parser such as express.json() ' +
    'ran before the webhook middleware, so the signed bytes are gone. ' +
    FIX,
  consumed:
    'The request body was already read by a middleware that ran before the webhook middleware and kept no raw ' +
    'copy in req.body. ' +
    FIX,
};

/**
 * Express middleware that verifies the webhook and calls `onEvent` or the
 * router. It works with or without `express.raw()`: a Buffer or string in
 * `req.body` is used as is, an unread stream is read raw. A body that a
 * JSON parser already turned into an object is answered with 400
 * `payload_not_raw` naming the fix. Requests other than POST go to `next()`.
 *
 * @example
 * import { createExpressWebhookMiddleware } from '@switchboard/webhooks/express';
 *
 * app.post('/webhooks', createExpressWebhookMiddleware({ secret: process.env.WEBHOOK_SECRET!, router }));
 * app.use(express.json()); // other routes may parse JSON; mount it after the webhook route
 */
export function createExpressWebhookMiddleware(
  options: WebhookAdapterOptions,
): (req: ExpressWebhookRequest, res: ExpressWebhookResponse, next: ExpressNextFunction) => Promise<void> {
  const config = resolveAdapterOptions(options, 'createExpressWebhookMiddleware()');
  return async (req, res, next) => {
    if (req.method !== 'POST') {
      next();
      return;
    }
    let response: AdapterResponse;
    try {
      const body = await rawBodyOf(req, config.maxBodyBytes, MESSAGES);
      if (body.kind === 'too_large') response = tooLargeResponse(config);
      else if (body.kind === 'not_raw') response = notRawResponse(config, body.message);
      else
        response = await processWebhook(
          config,
          body.payload,
          req.headers['stripe-signature'],
          constructEvent,
        );
    } catch (error) {
      config.report(error, { status: 400, code: 'body_unreadable' });
      response = errorResponse(400, 'body_unreadable', 'The request body could not be read.');
    }
    writeResponse(res, response);
  };
}
