/**
 * What a store reports that a caller is expected to handle:
 * - `cursor_not_found`: `startingAfter` / `endingBefore` names no object of the list (API: 400).
 * - `invalid_page`: both cursors given at once.
 * - `duplicate`: an object with this id (or key) already exists.
 * - `in_use`: another server owns this SQLite database.
 * - `unavailable`: the database cannot be reached or cannot write now (down,
 *   restarting, disk full, locked); the operation may succeed if retried
 *   (API: 503). The driver's error is the `cause`.
 */
export type StoreErrorCode = 'cursor_not_found' | 'invalid_page' | 'duplicate' | 'in_use' | 'unavailable';

/** An error with a stable code, for the errors a caller turns into a response. */
export class StoreError extends Error {
  readonly code: StoreErrorCode;

  constructor(code: StoreErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StoreError';
    this.code = code;
  }
}

/**
 * The same store, with every operation's driver errors that mean "unavailable"
 * (as `isUnavailable`, one per engine, tells) turned into a StoreError of that
 * code, so callers handle one error type whatever the engine.
 */
export function withTypedErrors<T extends object>(store: T, isUnavailable: (error: unknown) => boolean): T {
  const typed = (error: unknown): unknown =>
    !(error instanceof StoreError) && isUnavailable(error)
      ? new StoreError('unavailable', `database unavailable: ${String(error)}`, { cause: error })
      : error;
  // By function, not by name: a property set later (a test's spy) is wrapped afresh.
  const wrapped = new WeakMap<object, unknown>();
  return new Proxy(store, {
    get(target, key, receiver) {
      const value = Reflect.get(target, key, receiver);
      if (typeof value !== 'function') return value;
      let fn = wrapped.get(value);
      if (fn === undefined) {
        fn = function (this: unknown, ...args: unknown[]) {
          try {
            const out = (value as (...a: unknown[]) => unknown).apply(target, args);
            return out instanceof Promise ? out.catch((error: unknown) => Promise.reject(typed(error))) : out;
          } catch (error) {
            throw typed(error);
          }
        };
        wrapped.set(value, fn);
      }
      return fn;
    },
  });
}
