/**
 * Form-encoded bodies and query strings with Stripe's bracket syntax
 * (`enabled_events[0]=a&metadata[k]=v`), parsed into nested values.
 */

export type FormValue = string | FormValue[] | { [k: string]: FormValue };
export type FormParams = { [k: string]: FormValue };

export type FormParseResult =
  | { ok: true; params: FormParams }
  | { ok: false; param: string; message: string };

/**
 * Deepest nesting of any body, form (`a[1]…[20]`) or JSON (the same depth of
 * keys): Stripe's objects
 * need fewer than 20 levels, and a bound keeps a hostile body (thousands of
 * levels in a few KB) from ever being stored.
 */
export const MAX_PARAM_DEPTH = 20;

/**
 * The path of the first value of a parsed JSON body nested deeper than a
 * form body may be (`MAX_PARAM_DEPTH` brackets after the name), as a
 * parameter name (`data[object][a]…`), or null. Iterative: the depth it
 * checks is the one a recursive walk would overflow on.
 */
export function tooDeep(value: unknown): string | null {
  // Each entry links to its parent: the path is built only for the one that is too deep, not for every value.
  interface Node {
    value: unknown;
    key: string;
    depth: number;
    parent: Node | null;
  }
  const stack: Node[] = [{ value, key: '', depth: 0, parent: null }];
  while (stack.length > 0) {
    const node = stack.pop()!;
    if (node.depth > MAX_PARAM_DEPTH + 1) {
      const path: string[] = [];
      for (let n: Node | null = node; n !== null && n.depth > 0; n = n.parent) path.unshift(n.key);
      return paramPath(path.slice(0, MAX_PARAM_DEPTH + 2));
    }
    const v = node.value;
    if (typeof v !== 'object' || v === null) continue;
    if (Array.isArray(v)) {
      v.forEach((child, i) => {
        stack.push({ value: child, key: String(i), depth: node.depth + 1, parent: node });
      });
    } else {
      for (const [k, child] of Object.entries(v))
        stack.push({ value: child, key: k, depth: node.depth + 1, parent: node });
    }
  }
  return null;
}

/** Largest array index accepted; bounds the work a sparse `a[999999]` could ask for. */
export const MAX_PARAM_INDEX = 1000;

/**
 * The display form of a parameter path, as Stripe names params in errors.
 *
 * @example paramPath(['data', 'object', 'id']) // 'data[object][id]'
 * @example paramPath(['items', 0, 'price'])    // 'items[0][price]'
 */
/** A parameter name as errors show it: at most 200 characters. */
const clipped = (name: string): string => (name.length > 200 ? `${name.slice(0, 200)}…` : name);

export function paramPath(segments: readonly (string | number)[]): string {
  let out = '';
  segments.forEach((segment, i) => {
    out += i === 0 ? String(segment) : `[${segment}]`;
  });
  return out;
}

// Values are collected in a tree of Maps first, so no key (not even
// `__proto__`) ever touches an object prototype while parsing, and the
// array-or-object decision is made once every key has been seen.
type Node = Leaf | ArrayNode | ObjectNode;
interface Leaf {
  kind: 'string';
  value: string;
}
interface ArrayNode {
  kind: 'array';
  items: Map<number, Node>;
  next: number;
}
interface ObjectNode {
  kind: 'object';
  entries: Map<string, Node>;
}

/** A bracket segment: an array index, an append (`[]`) or an object key. */
type Segment = { kind: 'index'; index: number } | { kind: 'append' } | { kind: 'key'; key: string };

class FormError extends Error {
  constructor(
    readonly param: string,
    message: string,
  ) {
    super(message);
  }
}

// `__proto__` is refused outright: as an own key of a returned plain object it
// would turn into a prototype change as soon as a caller copied it with
// `Object.assign` or a plain assignment. `constructor` and `prototype` are
// kept: as own data properties they shadow nothing that can be exploited.
const FORBIDDEN_KEYS = new Set(['__proto__']);

const NAME_AND_BRACKETS = /^([^[\]]+)((?:\[[^[\]]*\])*)$/;
const BRACKET = /\[([^[\]]*)\]/g;
const DIGITS = /^\d+$/;

function decode(text: string): string | null {
  try {
    return decodeURIComponent(text.replace(/\+/g, ' '));
  } catch {
    return null;
  }
}

function parseKey(key: string): { name: string; segments: Segment[]; display: (string | number)[] } {
  const match = NAME_AND_BRACKETS.exec(key);
  if (!match)
    throw new FormError(
      clipped(key),
      `Invalid parameter name: ${clipped(key)}. Brackets must be balanced, as in a[b][0].`,
    );
  const name = match[1]!;
  const segments: Segment[] = [];
  const display: (string | number)[] = [name];
  for (const [, inner = ''] of match[2]!.matchAll(BRACKET)) {
    if (inner === '') {
      segments.push({ kind: 'append' });
      display.push('');
    } else if (DIGITS.test(inner)) {
      const index = Number(inner);
      // The text as sent, so an error names what the client wrote.
      display.push(inner);
      if (index > MAX_PARAM_INDEX) {
        throw new FormError(
          paramPath(display),
          `Invalid array index in ${paramPath(display)}: at most ${MAX_PARAM_INDEX}.`,
        );
      }
      segments.push({ kind: 'index', index });
    } else {
      segments.push({ kind: 'key', key: inner });
      display.push(inner);
    }
  }
  if (segments.length > MAX_PARAM_DEPTH) {
    // Named as deep as the limit and one more: the rest of a hostile name would only swell the answer.
    const shown = paramPath(display.slice(0, MAX_PARAM_DEPTH + 2));
    throw new FormError(
      shown,
      `Parameter ${shown} is nested too deeply (at most ${MAX_PARAM_DEPTH} levels).`,
    );
  }
  for (const part of [name, ...segments.map((s) => (s.kind === 'key' ? s.key : ''))]) {
    if (FORBIDDEN_KEYS.has(part)) throw new FormError(key, `Invalid parameter name: ${key}.`);
  }
  // `[]` creates a new element each time, so `items[][a]=1&items[][b]=2` would
  // silently make two elements; explicit indices say what is meant.
  if (segments.slice(0, -1).some((s) => s.kind === 'append')) {
    throw new FormError(
      key,
      `Invalid parameter name: ${key}. [] may only end a name; use indices (a[0][b]).`,
    );
  }
  return { name, segments, display };
}

const describe = (node: Node): string =>
  node.kind === 'string' ? 'a value' : node.kind === 'array' ? 'an array' : 'an object';

function conflict(path: string, existing: Node, wanted: string): FormError {
  return new FormError(
    path,
    `Invalid parameter ${path}: it is used as ${wanted}, but another parameter already made it ${describe(existing)}.`,
  );
}

function containerFor(segment: Segment): Node {
  return segment.kind === 'key'
    ? { kind: 'object', entries: new Map() }
    : { kind: 'array', items: new Map(), next: 0 };
}

/** Store `value` at `segments` below `root`. `path` names the whole parameter for errors. */
function assign(root: ObjectNode, name: string, segments: Segment[], value: string, path: string): void {
  // The slot being filled: a container plus the position inside it.
  let parent: ObjectNode | ArrayNode = root;
  let slot: Segment = { kind: 'key', key: name };
  for (const next of segments) {
    const existing = read(parent, slot);
    const wanted = next.kind === 'key' ? 'object' : 'array';
    let child: Node;
    if (existing === undefined) {
      child = containerFor(next);
      write(parent, slot, child);
    } else if (existing.kind !== wanted) {
      throw conflict(path, existing, wanted === 'object' ? 'an object' : 'an array');
    } else {
      child = existing;
    }
    parent = child as ObjectNode | ArrayNode;
    slot = next;
  }
  const existing = read(parent, slot);
  if (existing !== undefined && existing.kind !== 'string') throw conflict(path, existing, 'a value');
  // A repeated plain value (`a=1&a=2`) is not an error: the last one wins,
  // as with most form parsers, and `a[]`/`a[n]` is how to send a list.
  write(parent, slot, { kind: 'string', value });
}

function read(parent: ObjectNode | ArrayNode, slot: Segment): Node | undefined {
  if (parent.kind === 'object') return slot.kind === 'key' ? parent.entries.get(slot.key) : undefined;
  if (slot.kind === 'index') return parent.items.get(slot.index);
  return undefined;
}

// `assign` only pairs objects with key slots and arrays with index or append
// slots, since containers are created from the kind of the segment that follows.
function write(parent: ObjectNode | ArrayNode, slot: Segment, node: Node): void {
  if (parent.kind === 'object') {
    if (slot.kind === 'key') parent.entries.set(slot.key, node);
    return;
  }
  if (slot.kind === 'key') return;
  // `[]` takes the index after the largest one used so far, so appends and
  // explicit indices combine predictably (`a[5]=x&a[]=y` → [x, y]).
  const index = slot.kind === 'index' ? slot.index : parent.next;
  if (index > MAX_PARAM_INDEX) throw new FormError('', 'Too many array elements.');
  parent.items.set(index, node);
  parent.next = Math.max(parent.next, index + 1);
}

function toValue(node: Node): FormValue {
  switch (node.kind) {
    case 'string':
      return node.value;
    case 'array':
      // Sparse indices are compacted in index order: a[2]=x&a[7]=y → [x, y].
      return [...node.items.entries()].sort(([a], [b]) => a - b).map(([, child]) => toValue(child));
    case 'object': {
      const out: { [k: string]: FormValue } = {};
      for (const [key, child] of node.entries) out[key] = toValue(child);
      return out;
    }
  }
}

/**
 * Parse an `application/x-www-form-urlencoded` body or a query string (without
 * the leading `?`) with bracket syntax. Never throws.
 *
 * @example
 * parseFormParams('enabled_events[0]=a&enabled_events[1]=b&metadata[k]=v')
 * // { ok: true, params: { enabled_events: ['a', 'b'], metadata: { k: 'v' } } }
 * parseFormParams('a=1&a[b]=2')
 * // { ok: false, param: 'a[b]', message: '…' }
 */
export function parseFormParams(text: string): FormParseResult {
  const root: ObjectNode = { kind: 'object', entries: new Map() };
  try {
    for (const pair of text.split('&')) {
      if (pair === '') continue;
      const eq = pair.indexOf('=');
      const rawKey = eq === -1 ? pair : pair.slice(0, eq);
      const rawValue = eq === -1 ? '' : pair.slice(eq + 1);
      const key = decode(rawKey);
      if (key === null)
        throw new FormError(clipped(rawKey), `Invalid URL encoding in parameter name: ${clipped(rawKey)}.`);
      const { name, segments, display } = parseKey(key);
      const path = paramPath(display);
      const value = decode(rawValue);
      if (value === null) throw new FormError(path, `Invalid URL encoding in the value of ${path}.`);
      try {
        assign(root, name, segments, value, path);
      } catch (error) {
        // Only `write` lacks the path; name the parameter here.
        if (error instanceof FormError && error.param === '') {
          throw new FormError(path, `Invalid array index in ${path}: at most ${MAX_PARAM_INDEX}.`);
        }
        throw error;
      }
    }
  } catch (error) {
    if (error instanceof FormError) return { ok: false, param: error.param, message: error.message };
    throw error;
  }
  return { ok: true, params: toValue(root) as FormParams };
}
