/** Reading the emulated objects a caller owns: its account's, in its key's mode. */

import { noSuch } from '../api/errors.js';
import type { ObjectStore } from '../store/types.js';

/** An object of the caller's account and mode, or the 404 Stripe gives. */
export async function ownObject<T>(
  store: Pick<ObjectStore, 'getObject'>,
  caller: { accountId: string; livemode: boolean },
  kind: string,
  name: string,
  id: string,
  param = 'id',
): Promise<T> {
  const found = await store.getObject(id);
  if (
    !found ||
    found.kind !== kind ||
    found.accountId !== caller.accountId ||
    found.livemode !== caller.livemode ||
    found.deleted
  )
    throw noSuch(name, id, param);
  return found.object as T;
}
