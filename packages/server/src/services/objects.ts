/** The emulated objects a caller owns, its account's in its key's mode: read, and made into records to store. */

import { noSuch } from '../api/errors.js';
import type { JsonObject, ObjectRecord, ObjectStore } from '../store/types.js';

/** Stripe's interfaces have no index signature; the objects are plain JSON. */
export const asJson = (o: object): JsonObject => o as unknown as JsonObject;

export interface RecordOptions {
  /** The kind it is stored as (default its `object`: external accounts are one kind for two). */
  kind?: string;
  /** What its list filters on (objects/…'s lookup key), or null. */
  lookupKey?: string | null;
  deleted?: boolean;
  /** For an object with no `created` of its own (an external account). */
  createdUnix?: number;
}

/** The record that stores an emulated object whole, in its owner's account and mode. */
export function objectRecord(
  owner: { accountId: string; livemode: boolean },
  object: { id: string; object: string; created?: number },
  options: RecordOptions = {},
): ObjectRecord {
  return {
    id: object.id,
    kind: options.kind ?? object.object,
    accountId: owner.accountId,
    livemode: owner.livemode,
    createdUnix: object.created ?? options.createdUnix ?? 0,
    object: asJson(object),
    deleted: options.deleted ?? false,
    lookupKey: options.lookupKey ?? null,
  };
}

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
