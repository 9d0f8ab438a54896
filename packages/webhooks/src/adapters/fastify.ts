// Fastify support without depending on fastify: the few members used are
// typed structurally below, and Fastify's own types are assignable to them.
import type { WebhookPayload } from '../core.js';
import { constructEvent } from '../verify.js';
import {
  type AdapterResponse,
  errorResponse,
  notRawResponse,
  processWebhook,
  type ResolvedAdapterOptions,
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

/** The parts of a Fastify request the handler reads. */
export interface FastifyWebhookRequest {
  method: string;
  headers: Record<string, string | string[] | undefined>;
  body?: unknown;
  /** Set by raw-body plugins such as fastify-raw-body; used when present. */
  rawBody?: unknown;
}

/** The parts of a Fastify reply the handler uses. */
export interface FastifyWebhookReply {
  code(statusCode: number): unknown;
  header(name: string, value: string): unknown;
  send(payload?: string): unknown;
}

type ParserDone = (error: Error | null, body?: unknown) => void;

/** The parts of a Fastify instance the plugin uses. */
export interface FastifyWebhookInstance {
  removeAllContentTypeParsers(): void;
  addContentTypeParser(
    contentType: string,
    options: { parseAs: 'buffer'; bodyLimit?: number },
    parser: (request: unknown, body: Buffer, done: ParserDone) => void,
  ): void;
  route(options: {
    method: 'POST';
    url: string;
    bodyLimit?: number;
    handler: (request: FastifyWebhookRequest, reply: FastifyWebhookReply) => Promise<unknown>;
  }): unknown;
}

export type FastifyWebhookPluginOptions = WebhookAdapterOptions & {
  /** The route's path, relative to the plugin's prefix, e.g. `/webhooks`. */
  path: string;
};

const NOT_RAW =
  "The request body was parsed before the webhook handler ran (Fastify's JSON parser turned it into an object), " +
  'so the signed bytes are gone. Register the route with fastifyWebhookPlugin(), which keeps the raw body for ' +
  "that route only, or add a content-type parser with { parseAs: 'buffer' } in the route's plugin scope " +
  '(or use a plugin that sets request.rawBody).';

function byteLength(payload: WebhookPayload): number {
  return typeof payload === 'string' ? Buffer.byteLength(payload) : payload.length;
}

async function answer(
  config: ResolvedAdapterOptions,
  request: FastifyWebhookRequest,
): Promise<AdapterResponse> {
  const { rawBody, body } = request;
  let payload: WebhookPayload;
  if (typeof rawBody === 'string' || rawBody instanceof Uint8Array) payload = rawBody;
  else if (typeof body === 'string' || body instanceof Uint8Array) payload = body;
  // Fastify leaves the body undefined when the request had none.
  else if (body === undefined || body === null) payload = '';
  else return notRawResponse(config, NOT_RAW);
  if (byteLength(payload) > config.maxBodyBytes) return tooLargeResponse(config);
  return processWebhook(config, payload, request.headers['stripe-signature'], constructEvent);
}

function send(reply: FastifyWebhookReply, response: AdapterResponse): unknown {
  reply.code(response.status);
  for (const [name, value] of Object.entries(response.headers)) reply.header(name, value);
  return reply.send(response.body);
}

function handlerFor(config: ResolvedAdapterOptions) {
  return async (request: FastifyWebhookRequest, reply: FastifyWebhookReply): Promise<unknown> => {
    if (request.method !== 'POST') {
      return send(
        reply,
        errorResponse(405, 'method_not_allowed', 'Webhooks are delivered with POST.', { allow: 'POST' }),
      );
    }
    return send(reply, await answer(config, request));
  };
}

/**
 * A route handler for a route whose body is already raw: a Buffer or
 * string in `request.body` (a `parseAs: 'buffer'` parser) or
 * `request.rawBody`. With Fastify's default JSON parser it answers 400
 * `payload_not_raw` naming the fix; {@link fastifyWebhookPlugin} sets
 * everything up instead.
 *
 * @example
 * app.post('/webhooks', { config: { rawBody: true } }, createFastifyWebhookHandler({ secret, router }));
 */
export function createFastifyWebhookHandler(
  options: WebhookAdapterOptions,
): (request: FastifyWebhookRequest, reply: FastifyWebhookReply) => Promise<unknown> {
  return handlerFor(resolveAdapterOptions(options, 'createFastifyWebhookHandler()'));
}

/**
 * A Fastify plugin that adds the webhook route. Inside its own scope it
 * replaces the content-type parsers with one that keeps the raw bytes, so
 * the rest of the app keeps parsing JSON as usual.
 *
 * @example
 * import { fastifyWebhookPlugin } from '@switchboard/webhooks/fastify';
 *
 * await app.register(fastifyWebhookPlugin({ path: '/webhooks', secret: process.env.WEBHOOK_SECRET!, router }));
 */
export function fastifyWebhookPlugin(
  options: FastifyWebhookPluginOptions,
): (instance: FastifyWebhookInstance, pluginOptions?: unknown) => Promise<void> {
  const path = (options as { path?: unknown } | null)?.path;
  if (typeof path !== 'string' || path === '') {
    throw new TypeError("fastifyWebhookPlugin() needs a path for the route, e.g. { path: '/webhooks' }.");
  }
  const config = resolveAdapterOptions(options, 'fastifyWebhookPlugin()');
  // Fastify answers 413 itself when the limit is passed to it; without one
  // its server-wide default would apply instead of "no limit".
  const bodyLimit = Number.isFinite(config.maxBodyBytes) ? config.maxBodyBytes : Number.MAX_SAFE_INTEGER;
  return async (instance) => {
    instance.removeAllContentTypeParsers();
    instance.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit }, (_request, body, done) =>
      done(null, body),
    );
    instance.route({ method: 'POST', url: path, bodyLimit, handler: handlerFor(config) });
  };
}
