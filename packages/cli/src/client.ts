/**
 * A small client for the Switchboard API, used by every CLI command. JSON
 * bodies (the server accepts them as well as form bodies); query strings with
 * Stripe's brackets.
 */

import { randomUUID } from 'node:crypto';

export interface ApiClientOptions {
  apiBase: string;
  apiKey: string;
  stripeAccount?: string;
  /** For tests. */
  fetch?: typeof fetch;
}

export interface RequestOptions {
  stripeAccount?: string;
  idempotencyKey?: string;
  /** `Stripe-Version`. */
  stripeVersion?: string;
  /** More headers, sent as given (they win over the defaults). */
  headers?: Record<string, string>;
}

/** The API answered with an error (Stripe's shape), or could not be reached. */
export class ApiRequestError extends Error {
  constructor(
    message: string,
    readonly status: number | null,
    readonly type: string | null = null,
    readonly code: string | null = null,
    readonly param: string | null = null,
  ) {
    super(message);
    this.name = 'ApiRequestError';
  }
}

/** `{a: {b: [1]}}` → `a[b][0]=1`. */
export function encodeQuery(params: Record<string, unknown>): string {
  const parts: string[] = [];
  const walk = (prefix: string, value: unknown) => {
    if (value === undefined) return;
    if (Array.isArray(value)) {
      value.forEach((v, i) => {
        walk(`${prefix}[${i}]`, v);
      });
    } else if (value !== null && typeof value === 'object') {
      for (const [k, v] of Object.entries(value)) walk(`${prefix}[${k}]`, v);
    } else
      parts.push(
        `${encodeURIComponent(prefix).replace(/%5B/g, '[').replace(/%5D/g, ']')}=${encodeURIComponent(String(value ?? ''))}`,
      );
  };
  for (const [k, v] of Object.entries(params)) walk(k, v);
  return parts.join('&');
}

export class ApiClient {
  readonly apiBase: string;
  private readonly fetchImpl: typeof fetch;

  constructor(private readonly options: ApiClientOptions) {
    this.apiBase = options.apiBase.replace(/\/+$/, '');
    this.fetchImpl = options.fetch ?? fetch;
  }

  /** The key, for the listen websocket's own authentication. */
  get apiKey(): string {
    return this.options.apiKey;
  }

  get stripeAccount(): string | undefined {
    return this.options.stripeAccount;
  }

  get livemode(): boolean {
    return this.options.apiKey.startsWith('sk_live_');
  }

  async request<T = Record<string, unknown>>(
    method: 'GET' | 'POST' | 'DELETE',
    path: string,
    params: Record<string, unknown> = {},
    opts: RequestOptions = {},
  ): Promise<T> {
    const headers: Record<string, string> = { authorization: `Bearer ${this.options.apiKey}` };
    const account = opts.stripeAccount ?? this.options.stripeAccount;
    if (account) headers['stripe-account'] = account;
    let url = `${this.apiBase}${path}`;
    let body: string | undefined;
    if (method === 'POST') {
      headers['content-type'] = 'application/json';
      headers['idempotency-key'] = opts.idempotencyKey ?? `switchboard-cli-${randomUUID()}`;
      body = JSON.stringify(params);
    } else {
      // A DELETE's key is not replayed, but the events it causes carry it.
      if (method === 'DELETE' && opts.idempotencyKey) headers['idempotency-key'] = opts.idempotencyKey;
      const q = encodeQuery(params);
      if (q) url += `?${q}`;
    }
    if (opts.stripeVersion) headers['stripe-version'] = opts.stripeVersion;
    for (const [name, value] of Object.entries(opts.headers ?? {})) headers[name.toLowerCase()] = value;
    let res: Response;
    try {
      res = await this.fetchImpl(url, { method, headers, ...(body !== undefined ? { body } : {}) });
    } catch (error) {
      const cause = (error as { cause?: { code?: string } }).cause?.code;
      throw new ApiRequestError(
        `Could not reach the Switchboard API at ${this.apiBase}${cause ? ` (${cause})` : ''}. Is \`switchboard serve\` running? Set --api-base or SWITCHBOARD_API_BASE.`,
        null,
      );
    }
    const text = await res.text();
    let json: unknown = null;
    try {
      json = text ? JSON.parse(text) : null;
    } catch {
      throw new ApiRequestError(`Unexpected response from ${url}: HTTP ${res.status}`, res.status);
    }
    if (!res.ok) {
      const err = (
        json as { error?: { message?: string; type?: string; code?: string; param?: string } } | null
      )?.error;
      throw new ApiRequestError(
        err?.message ?? `HTTP ${res.status}`,
        res.status,
        err?.type ?? null,
        err?.code ?? null,
        err?.param ?? null,
      );
    }
    return json as T;
  }
}
