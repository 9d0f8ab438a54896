// Raw-body capture and response writing for node:http requests, shared by
// the node and Express adapters (an Express request is an IncomingMessage).
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { WebhookPayload } from '../core.js';
import type { AdapterResponse } from './shared.js';

/** A node request, possibly with a body a framework's parser already put on it. */
export type NodeWebhookRequest = IncomingMessage & {
  body?: unknown;
  // Set by body-parser (and so by express.json/raw/text) once it has read the stream.
  _body?: boolean;
};

export type BodyOutcome =
  | { kind: 'raw'; payload: WebhookPayload }
  | { kind: 'too_large' }
  | { kind: 'not_raw'; message: string };

export interface NotRawMessages {
  /** For a body a parser turned into an object. */
  parsed: string;
  /** For a stream read by something that left no raw copy. */
  consumed: string;
}

function declaredLength(req: IncomingMessage): number | null {
  const value = req.headers['content-length'];
  if (typeof value !== 'string' || !/^\d+$/.test(value)) return null;
  return Number(value);
}

function readStream(req: IncomingMessage, limit: number): Promise<BodyOutcome> {
  const declared = declaredLength(req);
  // Refuse before reading a byte when the sender announces too much.
  if (declared !== null && declared > limit) return Promise.resolve({ kind: 'too_large' });
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const cleanup = () => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
      req.off('close', onClose);
    };
    const onData = (chunk: Buffer | string) => {
      const buffer = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      size += buffer.length;
      if (size > limit) {
        // Stop collecting; the rest is discarded and the connection closed
        // after the 413 (see writeResponse).
        cleanup();
        resolve({ kind: 'too_large' });
        return;
      }
      chunks.push(buffer);
    };
    const onEnd = () => {
      cleanup();
      resolve({ kind: 'raw', payload: Buffer.concat(chunks, size) });
    };
    const onError = (error: Error) => {
      cleanup();
      reject(error);
    };
    const onClose = () => {
      cleanup();
      reject(new Error('The request was aborted before its body was complete.'));
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
    req.on('close', onClose);
  });
}

/**
 * The raw body of a request: from `req.body` when a raw parser already put a
 * Buffer or string there, otherwise read from the stream. A body that was
 * parsed into an object cannot be verified any more and is reported with
 * the given messages.
 */
export async function rawBodyOf(
  req: NodeWebhookRequest,
  limit: number,
  messages: NotRawMessages,
): Promise<BodyOutcome> {
  const { body } = req;
  if (body instanceof Uint8Array) {
    return body.length > limit ? { kind: 'too_large' } : { kind: 'raw', payload: body };
  }
  if (typeof body === 'string') {
    return Buffer.byteLength(body) > limit ? { kind: 'too_large' } : { kind: 'raw', payload: body };
  }
  const consumed = req.readableEnded || req._body === true;
  if (!consumed) return readStream(req, limit);
  return {
    kind: 'not_raw',
    message: body === undefined || body === null ? messages.consumed : messages.parsed,
  };
}

/** Writes an adapter response with node's own API, which Express responses share. */
export function writeResponse(res: ServerResponse, response: AdapterResponse): void {
  if (res.headersSent) {
    // Something else already answered; finishing the response is all that is left.
    if (!res.writableEnded) res.end();
    return;
  }
  res.statusCode = response.status;
  for (const [name, value] of Object.entries(response.headers)) res.setHeader(name, value);
  // After a 413 the rest of the body is never read: closing the connection
  // stops the sender from streaming it into a socket nobody reads.
  if (response.status === 413) res.setHeader('connection', 'close');
  res.end(response.body);
}
