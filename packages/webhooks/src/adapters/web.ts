// Fetch-style handler (Request in, Response out) for Hono, Next.js route
// handlers, Bun, Deno and edge workers. Web Crypto only: no node: imports
// may be reachable from here.
import { constructEventAsync } from '../webCrypto.js';
import {
  type AdapterResponse,
  errorResponse,
  methodNotAllowedResponse,
  notRawResponse,
  processWebhook,
  type ResolvedAdapterOptions,
  resolveAdapterOptions,
  tooLargeResponse,
  type WebhookAdapterOptions,
} from './shared.js';

export type WebWebhookOptions = WebhookAdapterOptions;

const BODY_USED =
  'The request body was already read (for example by await request.json() or c.req.json()) before the ' +
  'webhook handler ran, so the signed bytes are gone. Pass the handler the unread request, or ' +
  'request.clone() taken before reading it.';

async function readBody(request: Request, limit: number): Promise<Uint8Array | 'too_large'> {
  const declared = request.headers.get('content-length');
  // Refuse before reading a byte when the sender announces too much.
  if (declared !== null && /^\d+$/.test(declared) && Number(declared) > limit) return 'too_large';
  if (request.body === null) return new Uint8Array(0);
  // Read chunk by chunk rather than arrayBuffer(), so a chunked body cannot
  // grow past the limit in memory.
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.length;
    if (size > limit) {
      await reader.cancel().catch(() => {});
      return 'too_large';
    }
    chunks.push(value);
  }
  const body = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    body.set(chunk, offset);
    offset += chunk.length;
  }
  return body;
}

async function answer(config: ResolvedAdapterOptions, request: Request): Promise<AdapterResponse> {
  if (request.method !== 'POST') return methodNotAllowedResponse();
  if (request.bodyUsed) return notRawResponse(config, BODY_USED);
  let body: Uint8Array | 'too_large';
  try {
    body = await readBody(request, config.maxBodyBytes);
  } catch (error) {
    config.report(error, { status: 400, code: 'body_unreadable' });
    return errorResponse(400, 'body_unreadable', 'The request body could not be read.');
  }
  if (body === 'too_large') return tooLargeResponse(config);
  return processWebhook(
    config,
    body,
    request.headers.get('stripe-signature') ?? undefined,
    constructEventAsync,
  );
}

function toResponse(response: AdapterResponse): Response {
  return new Response(response.body, { status: response.status, headers: response.headers });
}

/**
 * A `(request) => Promise<Response>` webhook handler: verifies the raw body
 * with Web Crypto and calls `onEvent` or the router. 400 with the error
 * code when the signature does not verify, 200 once the handler resolved,
 * 500 if it threw, 413 over `maxBodyBytes` (default 1 MiB).
 *
 * @example
 * // app/api/webhooks/route.ts (Next.js)
 * import { createWebhookRequestHandler } from '@switchboard/webhooks/web';
 * export const POST = createWebhookRequestHandler({ secret: process.env.WEBHOOK_SECRET!, router });
 *
 * // Hono
 * app.post('/webhooks', (c) => handler(c.req.raw));
 */
export function createWebhookRequestHandler(
  options: WebWebhookOptions,
): (request: Request) => Promise<Response> {
  const config = resolveAdapterOptions(options, 'createWebhookRequestHandler()');
  return async (request) => toResponse(await answer(config, request));
}

/**
 * One-off form of {@link createWebhookRequestHandler}: handles a single
 * request. Prefer the factory, which checks the options once at startup.
 *
 * @example
 * export default { fetch: (request: Request) => handleWebhookRequest(request, { secret, onEvent }) };
 */
export async function handleWebhookRequest(request: Request, options: WebWebhookOptions): Promise<Response> {
  const config = resolveAdapterOptions(options, 'handleWebhookRequest()');
  return toResponse(await answer(config, request));
}
