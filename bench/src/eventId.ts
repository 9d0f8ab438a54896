/**
 * The event id at the start of a serialized event: `{\n  "id": "evt_…",` as
 * the server sends webhooks (pretty-printed, as Stripe does), or compact
 * `{"id":"evt_…"`. The server writes `id` first; scanning for it avoids a
 * full JSON.parse per request, which would make the receiver, not the server,
 * the bottleneck at high rates.
 */
export function eventIdOf(text: string): string | null {
  const match = /"id":\s*"/.exec(text.slice(0, 64));
  if (!match) return null;
  const start = match.index + match[0].length;
  const end = text.indexOf('"', start);
  return end < 0 ? null : text.slice(start, end);
}
