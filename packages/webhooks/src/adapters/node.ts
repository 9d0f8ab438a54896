import type { ServerResponse } from 'node:http';
import { constructEvent } from '../verify.js';
import { type NodeWebhookRequest, rawBodyOf, writeResponse } from './nodeHttp.js';
import {
  type AdapterResponse,
  errorResponse,
  methodNotAllowedResponse,
  notRawResponse,
  processWebhook,
  resolveAdapterOptions,
  tooLargeResponse,
  type WebhookAdapterOptions,
} from './shared.js';

export type { LivemodePolicy, WebhookContext, WebhookRouter } from '../router.js';
export type { NodeWebhookRequest } from './nodeHttp.js';
export {
  DEFAULT_MAX_BODY_BYTES,
  type WebhookAdapterOptions,
  type WebhookErrorInfo,
} from './shared.js';

const MESSAGES = {
  parsed:
    'The request body was parsed before the webhook handler ran (req.body is an object), so the signed bytes ' +
    'are gone. Pass the handler the unread request; in a Next.js API route, export ' +
    'const config = { api: { bodyParser: false } }.',
  consumed:
    'The request body was read before the webhook handler ran and no raw copy was kept, so it cannot be ' +
    'verified. Pass the handler the unread request.',
};

/**
 * A `(req, res)` handler for node:http that reads the raw body itself (up
 * to `maxBodyBytes`, default 1 MiB, else 413), verifies it and calls
 * `onEvent` or the router: 400 with the error code when the signature does
 * not verify, 200 once the handler resolved, 500 if it threw.
 *
 * @example
 * import { createServer } from 'node:http';
 * import { createNodeWebhookHandler } from '@switchboard/webhooks/node';
 *
 * const handle = createNodeWebhookHandler({ secret: process.env.WEBHOOK_SECRET!, router });
 * createServer((req, res) => (req.url === '/webhooks' ? handle(req, res) : res.writeHead(404).end())).listen(4242);
 */
export function createNodeWebhookHandler(
  options: WebhookAdapterOptions,
): (req: NodeWebhookRequest, res: ServerResponse) => Promise<void> {
  const config = resolveAdapterOptions(options, 'createNodeWebhookHandler()');
  return async (req, res) => {
    let response: AdapterResponse;
    try {
      response = await respond(req);
    } catch (error) {
      config.report(error, { status: 400, code: 'body_unreadable' });
      response = errorResponse(400, 'body_unreadable', 'The request body could not be read.');
    }
    writeResponse(res, response);
  };

  async function respond(req: NodeWebhookRequest): Promise<AdapterResponse> {
    if (req.method !== 'POST') return methodNotAllowedResponse();
    const body = await rawBodyOf(req, config.maxBodyBytes, MESSAGES);
    if (body.kind === 'too_large') return tooLargeResponse(config);
    if (body.kind === 'not_raw') return notRawResponse(config, body.message);
    return processWebhook(config, body.payload, req.headers['stripe-signature'], constructEvent);
  }
}
