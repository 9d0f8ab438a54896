/**
 * Fetch the latest state of what an event names, as the guide says: "these
 * objects belong to other accounts, you must make the API requests as the
 * corresponding connected account". The event's copy may be old by the time
 * it is handled (events arrive late, twice, out of order); the API's is not.
 */

/** Where to fetch from: a Switchboard (or Stripe) API and the platform's secret key. */
export interface ApiSource {
  apiBase: string;
  apiKey: string;
}

/** Fetches the latest copy of an event's object, as the connected account it belongs to. */
export type Refetch = <T extends { object: string }>(object: T, account: string) => Promise<T>;

/** The path an object is fetched at; null for what has none (a deauthorized application). */
function pathOf(object: { object: string; id?: string }, account: string): string | null {
  const id = object.id ? encodeURIComponent(object.id) : '';
  switch (object.object) {
    case 'account':
      return `/v1/accounts/${id}`;
    case 'person':
      return `/v1/accounts/${encodeURIComponent(account)}/persons/${id}`;
    case 'bank_account':
    case 'card':
      return `/v1/accounts/${encodeURIComponent(account)}/external_accounts/${id}`;
    case 'payout':
      return `/v1/payouts/${id}`;
    case 'payment_intent':
      return `/v1/payment_intents/${id}`;
    case 'balance':
      return '/v1/balance';
    default:
      return null;
  }
}

export function createRefetch(source: ApiSource): Refetch {
  return async (object, account) => {
    const path = pathOf(object as { object: string; id?: string }, account);
    if (path === null) return object;
    const res = await fetch(`${source.apiBase}${path}`, {
      headers: { authorization: `Bearer ${source.apiKey}`, 'stripe-account': account },
    });
    // A failure is thrown: the inbox retries the event later rather than act on a stale copy.
    if (!res.ok) throw new Error(`fetching ${object.object} ${path} as ${account}: HTTP ${res.status}`);
    return (await res.json()) as typeof object;
  };
}
