/**
 * Typed access to request parameters (form-encoded or JSON), with Stripe's
 * errors naming the parameter. Form values arrive as strings, JSON values as
 * themselves: both are accepted wherever a value has an obvious reading.
 */

import { invalidParam, missingParam, unknownParam } from './errors.js';

export type RawParams = Record<string, unknown>;

/** Parameters every endpoint accepts and ignores (sent by the official SDKs). */
const ALWAYS_ALLOWED = new Set(['expand']);

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** A metadata change: Stripe merges keys, '' unsets one key, an empty value for the whole hash unsets all. */
export interface MetadataUpdate {
  unsetAll: boolean;
  set: Record<string, string>;
  unset: string[];
}

export class Params {
  /**
   * @param prefix for a nested hash (`created`), so errors name `created[gt]`.
   */
  constructor(
    readonly raw: RawParams,
    allowed: readonly string[],
    private readonly prefix = '',
  ) {
    for (const key of Object.keys(raw)) {
      if (!allowed.includes(key) && !(prefix === '' && ALWAYS_ALLOWED.has(key)))
        throw unknownParam(this.path(key));
    }
  }

  /** The parameter's full name, as errors report it. */
  path(name: string): string {
    return this.prefix ? `${this.prefix}[${name}]` : name;
  }

  has(name: string): boolean {
    return this.raw[name] !== undefined;
  }

  /** A string; '' is returned as '' (callers decide whether it unsets). */
  string(name: string, opts: { required?: boolean; maxLength?: number } = {}): string | undefined {
    const v = this.raw[name];
    if (v === undefined || v === null) {
      if (opts.required) throw missingParam(this.path(name));
      return undefined;
    }
    if (typeof v === 'number' || typeof v === 'boolean') return String(v);
    if (typeof v !== 'string')
      throw invalidParam(this.path(name), `Invalid string: ${name} must be a string.`);
    if (opts.required && v === '') throw missingParam(this.path(name));
    if (opts.maxLength !== undefined && v.length > opts.maxLength) {
      throw invalidParam(
        this.path(name),
        `Invalid string: ${this.path(name)} must be at most ${opts.maxLength} characters.`,
        'parameter_invalid_string_too_long',
      );
    }
    return v;
  }

  bool(name: string): boolean | undefined {
    const v = this.raw[name];
    if (v === undefined) return undefined;
    if (v === true || v === 'true') return true;
    if (v === false || v === 'false') return false;
    throw invalidParam(this.path(name), `Invalid boolean: ${String(v)}`, 'parameter_invalid_boolean');
  }

  int(name: string, opts: { min?: number; max?: number } = {}): number | undefined {
    const v = this.raw[name];
    if (v === undefined || v === '') return undefined;
    const n = typeof v === 'number' ? v : typeof v === 'string' && /^-?\d+$/.test(v) ? Number(v) : Number.NaN;
    if (!Number.isSafeInteger(n))
      throw invalidParam(this.path(name), `Invalid integer: ${String(v)}`, 'parameter_invalid_integer');
    if (opts.min !== undefined && n < opts.min) {
      throw invalidParam(
        this.path(name),
        `Invalid integer: ${name} must be at least ${opts.min}.`,
        'parameter_invalid_integer',
      );
    }
    if (opts.max !== undefined && n > opts.max) {
      throw invalidParam(
        this.path(name),
        `Invalid integer: ${name} must be at most ${opts.max}.`,
        'parameter_invalid_integer',
      );
    }
    return n;
  }

  /** An array of strings, from `x[0]=a&x[1]=b`, `x[]=a`, or a JSON array. */
  stringArray(name: string, opts: { required?: boolean } = {}): string[] | undefined {
    const v = this.raw[name];
    if (v === undefined || v === '') {
      if (opts.required) throw missingParam(this.path(name));
      return undefined;
    }
    if (!Array.isArray(v))
      throw invalidParam(
        this.path(name),
        `Invalid array: ${name} must be an array.`,
        'parameter_invalid_array',
      );
    return v.map((item, i) => {
      if (typeof item !== 'string') {
        throw invalidParam(this.path(`${name}[${i}]`), `Invalid string: ${name}[${i}] must be a string.`);
      }
      return item;
    });
  }

  /** One of a fixed set of strings (Stripe's enums): anything else is a 400 naming the parameter. */
  choice<T extends string>(
    name: string,
    values: readonly T[],
    opts: { required?: boolean } = {},
  ): T | undefined {
    const v = this.string(name, opts);
    if (v === undefined || v === '') {
      if (opts.required) throw missingParam(this.path(name));
      return undefined;
    }
    if (!(values as readonly string[]).includes(v)) {
      throw invalidParam(this.path(name), `Invalid ${this.path(name)}: must be one of ${values.join(', ')}.`);
    }
    return v as T;
  }

  /** A hash (nested params or a JSON object). */
  object(name: string, opts: { required?: boolean } = {}): Record<string, unknown> | undefined {
    const v = this.raw[name];
    if (v === undefined) {
      if (opts.required) throw missingParam(this.path(name));
      return undefined;
    }
    if (!isPlainObject(v))
      throw invalidParam(
        this.path(name),
        `Invalid hash: ${name} must be an object.`,
        'parameter_invalid_hash',
      );
    return v;
  }

  /** Metadata with Stripe's limits: ≤ 50 keys, keys ≤ 40 characters, values ≤ 500. */
  metadata(name = 'metadata'): MetadataUpdate | undefined {
    const v = this.raw[name];
    if (v === undefined) return undefined;
    if (v === '' || v === null) return { unsetAll: true, set: {}, unset: [] };
    if (!isPlainObject(v))
      throw invalidParam(this.path(name), 'Invalid hash: metadata must be a hash of strings.');
    const update: MetadataUpdate = { unsetAll: false, set: {}, unset: [] };
    for (const [key, value] of Object.entries(v)) {
      const param = this.path(`${name}[${key}]`);
      if (key.length > 40) throw invalidParam(param, 'Metadata keys must be at most 40 characters.');
      if (value === '' || value === null) update.unset.push(key);
      else if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') {
        const s = String(value);
        if (s.length > 500) throw invalidParam(param, 'Metadata values must be at most 500 characters.');
        update.set[key] = s;
      } else throw invalidParam(param, 'Metadata values must be strings.');
    }
    return update;
  }
}

/** Apply a metadata update to existing metadata, enforcing the 50-key limit on the result. */
export function applyMetadata(
  current: Record<string, string>,
  update: MetadataUpdate | undefined,
  param = 'metadata',
): Record<string, string> {
  if (!update) return current;
  const next: Record<string, string> = update.unsetAll ? {} : { ...current };
  for (const key of update.unset) delete next[key];
  Object.assign(next, update.set);
  if (Object.keys(next).length > 50) throw invalidParam(param, 'Metadata can have at most 50 keys.');
  return next;
}
