import type { AccountChanges, JsonObject } from '../types.js';
import { bit, type SqliteConn } from './db.js';

/** Replace an account's object, and its connection modes or deauthorization when given. */
export function updateAccount(
  conn: SqliteConn,
  id: string,
  object: JsonObject,
  changes: AccountChanges = {},
): void {
  const sets = ['object = ?'];
  const params: unknown[] = [JSON.stringify(object)];
  if (changes.connectedModes) {
    sets.push('connected_test = ?', 'connected_live = ?');
    params.push(bit(changes.connectedModes.test), bit(changes.connectedModes.live));
  }
  if (changes.deauthorizedAt !== undefined) {
    sets.push('deauthorized_at = ?');
    params.push(changes.deauthorizedAt);
  }
  conn.stmt(`UPDATE accounts SET ${sets.join(', ')} WHERE id = ?`).run(...params, id);
}
