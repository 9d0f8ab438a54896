/**
 * What a store reports that a caller is expected to handle:
 * - `cursor_not_found`: `startingAfter` / `endingBefore` names no object of the list (API: 400).
 * - `invalid_page`: both cursors given at once.
 * - `duplicate`: an object with this id (or key) already exists.
 * - `in_use`: another server owns this SQLite database.
 */
export type StoreErrorCode = 'cursor_not_found' | 'invalid_page' | 'duplicate' | 'in_use';

/** An error with a stable code, for the errors a caller turns into a response. */
export class StoreError extends Error {
  readonly code: StoreErrorCode;

  constructor(code: StoreErrorCode, message: string) {
    super(message);
    this.name = 'StoreError';
    this.code = code;
  }
}
