/**
 * The event id at the start of a serialized event (`{"id":"evt_…",…}`).
 * The server writes `id` first; scanning for the first `"id":"` avoids a full
 * JSON.parse per request, which would make the receiver, not the server,
 * the bottleneck at high rates.
 */
export function eventIdOf(text: string): string | null {
  const start = text.indexOf('"id":"');
  if (start < 0) return null;
  const end = text.indexOf('"', start + 6);
  return end < 0 ? null : text.slice(start + 6, end);
}
