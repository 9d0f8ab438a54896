/**
 * How an attempt reaches its destination: an HTTP POST (httpTransport.ts) or
 * a frame on a listen session's websocket (sessions/websocketTransport.ts).
 * The engine signs, sends through one of these, and classifies the answer the
 * same way for both.
 */

export type SendErrorCode =
  | 'timeout'
  | 'connection_refused'
  | 'connection_reset'
  | 'dns_failure'
  | 'private_target'
  | 'invalid_url'
  | 'tls_error'
  | 'network_error';

export interface SendResult {
  /** `null` when no status line arrived. */
  statusCode: number | null;
  headers: Record<string, string | string[] | undefined>;
  /** At most `maxResponseBytes` of the body, decoded as UTF-8; `null` when no response arrived. */
  responseBody: string | null;
  durationMs: number;
  /** Set exactly when `statusCode` is `null`. */
  errorCode: SendErrorCode | null;
  errorMessage: string | null;
}

export interface Transport {
  /** POST `body` to `url`. Never throws: every failure is a `SendResult`. */
  send(url: string, headers: Record<string, string>, body: string): Promise<SendResult>;
  /** Origins with an open pool (the HTTP transport). */
  readonly pools?: number;
  /** Close every connection; later sends fail with `network_error`. */
  close(): Promise<void>;
}
