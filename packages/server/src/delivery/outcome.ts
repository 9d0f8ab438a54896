/**
 * What one delivery attempt amounted to: delivered or not, a short stable
 * error text for the attempt log, and how long the endpoint asked us to wait.
 */

export interface OutcomeInput {
  /** `null` when no response status arrived (connection error, timeout, refused target). */
  statusCode: number | null;
  /** The transport error code when there was no status, e.g. `timeout` or `connection_refused`. */
  errorCode: string | null;
  headers?: Record<string, string | string[] | undefined>;
  /** The time of classification; an HTTP-date `Retry-After` is measured from it. */
  now: number;
}

export interface Outcome {
  success: boolean;
  /** `null` on success; otherwise e.g. `http_500`, `timeout`, `redirect_not_followed (302 → Location /x)`. */
  error: string | null;
  /** Only from `Retry-After` on 429 or 503; at most 24 h. */
  retryAfterMs: number | null;
}

/** Longest wait a `Retry-After` can ask for; beyond this the header is clipped. */
export const MAX_RETRY_AFTER_MS = 24 * 60 * 60 * 1000;

// Long enough to identify where a redirect pointed, short enough for a log line.
const MAX_LOCATION_CHARS = 200;

/**
 * Classify an attempt. Any 2xx is success and nothing else is: redirects are
 * never followed, so a 3xx is a failure like a 4xx or 5xx. A status that
 * arrived wins over a transport error code that came later (a 2xx whose body
 * then timed out was still received by the endpoint).
 *
 * @example classifyOutcome({ statusCode: 503, errorCode: null, headers: { 'retry-after': '120' }, now })
 * // { success: false, error: 'http_503', retryAfterMs: 120000 }
 */
export function classifyOutcome(input: OutcomeInput): Outcome {
  const { statusCode } = input;
  if (statusCode === null) {
    return { success: false, error: input.errorCode ?? 'network_error', retryAfterMs: null };
  }
  if (statusCode >= 200 && statusCode <= 299) return { success: true, error: null, retryAfterMs: null };
  if (statusCode >= 300 && statusCode <= 399) {
    const location = header(input.headers, 'location');
    const where = location ? ` → Location ${truncate(location, MAX_LOCATION_CHARS)}` : '';
    return { success: false, error: `redirect_not_followed (${statusCode}${where})`, retryAfterMs: null };
  }
  const retryAfterMs =
    statusCode === 429 || statusCode === 503
      ? parseRetryAfter(header(input.headers, 'retry-after'), input.now)
      : null;
  return { success: false, error: `http_${statusCode}`, retryAfterMs };
}

function header(headers: OutcomeInput['headers'], name: string): string | undefined {
  if (!headers) return undefined;
  for (const [key, value] of Object.entries(headers)) {
    if (key.toLowerCase() !== name) continue;
    return Array.isArray(value) ? value[0] : value;
  }
  return undefined;
}

function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max)}…`;
}

/**
 * A `Retry-After` value in milliseconds from `now`: delta-seconds (`120`) or
 * an HTTP-date. `null` when absent, malformed or in the past.
 */
export function parseRetryAfter(value: string | undefined, now: number): number | null {
  if (value === undefined) return null;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Math.min(Number(text) * 1000, MAX_RETRY_AFTER_MS);
  const at = parseHttpDate(text);
  if (at === null) return null;
  const delta = at - now;
  return delta < 0 ? null : Math.min(delta, MAX_RETRY_AFTER_MS);
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const MONTH = MONTHS.join('|');
const DAY = 'Mon|Tue|Wed|Thu|Fri|Sat|Sun';
const LONG_DAY = 'Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday';
const TIME = '(\\d{2}):(\\d{2}):(\\d{2})';
// The three forms HTTP allows (RFC 9110 §5.6.7). They are read by hand because
// `Date.parse` accepts far more than HTTP-dates and reads asctime as local time.
const IMF_FIXDATE = new RegExp(`^(?:${DAY}), (\\d{2}) (${MONTH}) (\\d{4}) ${TIME} GMT$`);
const RFC850 = new RegExp(`^(?:${LONG_DAY}), (\\d{2})-(${MONTH})-(\\d{2}) ${TIME} GMT$`);
const ASCTIME = new RegExp(`^(?:${DAY}) (${MONTH}) ( \\d|\\d{2}) ${TIME} (\\d{4})$`);

/** An HTTP-date as epoch milliseconds, or `null` if `text` is not one. */
export function parseHttpDate(text: string): number | null {
  const parts = httpDateParts(text);
  if (!parts) return null;
  const [day, month, year, h, m, s] = parts;
  const monthIndex = MONTHS.indexOf(month);
  const ms = Date.UTC(year, monthIndex, day, h, m, s);
  // Reject what Date.UTC would quietly roll over (31 Feb, 25:00:00) or remap (years below 100).
  const back = new Date(ms);
  const same =
    back.getUTCFullYear() === year &&
    back.getUTCMonth() === monthIndex &&
    back.getUTCDate() === day &&
    back.getUTCHours() === h &&
    back.getUTCMinutes() === m &&
    back.getUTCSeconds() === s;
  return same ? ms : null;
}

type DateParts = [day: number, month: string, year: number, h: number, m: number, s: number];

function httpDateParts(text: string): DateParts | null {
  const imf = IMF_FIXDATE.exec(text);
  if (imf) return [Number(imf[1]), imf[2]!, Number(imf[3]), Number(imf[4]), Number(imf[5]), Number(imf[6])];
  const rfc850 = RFC850.exec(text);
  if (rfc850) {
    // Two-digit years: 70–99 are 19xx, the rest 20xx.
    const yy = Number(rfc850[3]);
    const year = yy >= 70 ? 1900 + yy : 2000 + yy;
    return [Number(rfc850[1]), rfc850[2]!, year, Number(rfc850[4]), Number(rfc850[5]), Number(rfc850[6])];
  }
  const asc = ASCTIME.exec(text);
  if (asc)
    return [Number(asc[2]!.trim()), asc[1]!, Number(asc[6]), Number(asc[3]), Number(asc[4]), Number(asc[5])];
  return null;
}
