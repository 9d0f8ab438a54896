/**
 * Which webhook targets may be called. Without `--allow-private-targets` a
 * webhook URL must not reach loopback, private, link-local or other
 * non-public addresses: a webhook is a request the server makes on behalf of
 * whoever registered the URL.
 */

import { BlockList, isIP } from 'node:net';

const blocked = new BlockList();
for (const [network, prefix] of [
  ['0.0.0.0', 8], // "this network"
  ['10.0.0.0', 8],
  ['100.64.0.0', 10], // carrier-grade NAT
  ['127.0.0.0', 8],
  ['169.254.0.0', 16], // link-local, incl. cloud metadata services
  ['172.16.0.0', 12],
  ['192.0.0.0', 24], // IETF protocol assignments
  ['192.168.0.0', 16],
  ['192.0.2.0', 24], // documentation (TEST-NET-1)
  ['198.18.0.0', 15], // benchmarking
  ['198.51.100.0', 24], // documentation (TEST-NET-2)
  ['203.0.113.0', 24], // documentation (TEST-NET-3)
  ['224.0.0.0', 3], // multicast, reserved and 255.255.255.255
] as const) {
  blocked.addSubnet(network, prefix, 'ipv4');
}
for (const [network, prefix] of [
  ['::', 96], // unspecified, loopback and the deprecated IPv4-compatible block
  ['64:ff9b:1::', 48], // local-use IPv4/IPv6 translation (RFC 8215): a translator on the local network
  ['100::', 64], // discard-only
  ['2001::', 23], // IETF protocol assignments: benchmarking, ORCHID… (Teredo, in it, is judged by its IPv4 first)
  ['2001:db8::', 32], // documentation
  ['3fff::', 20], // documentation
  ['fc00::', 7], // unique local
  ['fec0::', 10], // site-local (deprecated, still routed by some stacks)
  ['fe80::', 10], // link-local
  ['ff00::', 8], // multicast
] as const) {
  blocked.addSubnet(network, prefix, 'ipv6');
}

/** The sixteen bytes of an IPv6 address in text form, or `null`. */
function ipv6Bytes(text: string): number[] | null {
  let head = text;
  let tail: number[] = [];
  // A dotted IPv4 tail (`::ffff:127.0.0.1`) stands for the last 32 bits.
  const lastColon = head.lastIndexOf(':');
  const maybeV4 = head.slice(lastColon + 1);
  if (maybeV4.includes('.')) {
    if (isIP(maybeV4) !== 4) return null;
    tail = maybeV4.split('.').map(Number);
    head = `${head.slice(0, lastColon + 1)}0:0`;
  }
  const halves = head.split('::');
  if (halves.length > 2) return null;
  const groups = (part: string | undefined) => (part ? part.split(':') : []);
  const left = groups(halves[0]);
  const right = groups(halves[1]);
  const missing = 8 - left.length - right.length;
  if (halves.length === 1 ? missing !== 0 : missing < 0) return null;
  const all = [...left, ...Array<string>(halves.length === 2 ? missing : 0).fill('0'), ...right];
  const bytes: number[] = [];
  for (const group of all) {
    if (!/^[0-9a-f]{1,4}$/i.test(group)) return null;
    const value = Number.parseInt(group, 16);
    bytes.push(value >> 8, value & 0xff);
  }
  if (tail.length === 4) bytes.splice(12, 4, ...tail);
  return bytes;
}

const startsWith = (bytes: readonly number[], prefix: readonly number[]) =>
  prefix.every((b, i) => bytes[i] === b);
const ZEROS_10 = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
const dotted = (four: readonly number[]) => four.join('.');

/**
 * The IPv4 addresses an IPv6 address carries, by the forms that reach them:
 * IPv4-mapped `::ffff:a.b.c.d`, IPv4-translated `::ffff:0:a.b.c.d`, NAT64
 * `64:ff9b::a.b.c.d`, 6to4 `2002:AABB:CCDD::` and Teredo `2001:0::` (its
 * server, and its client stored inverted). Empty when there are none.
 */
export function embeddedIpv4(bytes: readonly number[]): string[] {
  if (startsWith(bytes, [...ZEROS_10, 0xff, 0xff])) return [dotted(bytes.slice(12))];
  if (startsWith(bytes, [0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0])) return [dotted(bytes.slice(12))];
  if (startsWith(bytes, [0, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0])) return [dotted(bytes.slice(12))];
  if (startsWith(bytes, [0x20, 0x02])) return [dotted(bytes.slice(2, 6))];
  if (startsWith(bytes, [0x20, 0x01, 0, 0])) {
    return [dotted(bytes.slice(4, 8)), dotted(bytes.slice(12).map((b) => b ^ 0xff))];
  }
  return [];
}

/**
 * Whether `ip` is an address webhooks must not reach by default: loopback,
 * private, link-local, CGNAT, multicast, reserved or unspecified, in IPv4 or
 * IPv6. An IPv6 address that carries an IPv4 one (mapped, translated, NAT64,
 * 6to4, Teredo) is judged by the IPv4 address it reaches. Anything
 * that is not an IP address counts as private, so a mistake fails closed.
 *
 * @example isPrivateAddress('10.1.2.3')          // true
 * @example isPrivateAddress('::ffff:7f00:1')     // true (127.0.0.1)
 * @example isPrivateAddress('93.184.215.14')     // false
 */
export function isPrivateAddress(ip: string): boolean {
  // A zone (`fe80::1%eth0`) only ever qualifies a link-local address.
  const address = ip.includes('%') ? ip.slice(0, ip.indexOf('%')) : ip;
  const family = isIP(address);
  if (family === 4) return blocked.check(address, 'ipv4');
  if (family !== 6) return true;
  const bytes = ipv6Bytes(address);
  if (!bytes) return true;
  // A translated address is judged by the IPv4 address it reaches.
  const v4 = embeddedIpv4(bytes);
  if (v4.length > 0) return v4.some((a) => blocked.check(a, 'ipv4'));
  // Only global unicast (2000::/3) is public; everything outside it is reserved, local or special.
  if ((bytes[0]! & 0xe0) !== 0x20) return true;
  return blocked.check(address, 'ipv6');
}

/** `localhost` and every name under it resolve to loopback (RFC 6761), whatever DNS says. */
export function isLoopbackHostname(hostname: string): boolean {
  const name = hostname.toLowerCase().replace(/\.$/, '');
  return name === 'localhost' || name.endsWith('.localhost');
}

export type TargetCheckFailure = 'invalid_url' | 'unsupported_scheme' | 'credentials' | 'private_target';

export type TargetCheck = { ok: true; url: URL } | { ok: false; error: string; reason: TargetCheckFailure };

/**
 * Check a webhook URL before it is stored or called: http or https only, no
 * user or password, and unless `allowPrivate` no literal private address and
 * no `localhost`. Names are not resolved here; the sender checks every
 * address a name resolves to when it connects.
 *
 * @example checkTargetUrl('https://hooks.example.com/stripe', false) // { ok: true, url }
 * @example checkTargetUrl('http://[::1]:4242/', false)                // { ok: false, error: 'private address ::1', … }
 */
export function checkTargetUrl(url: string, allowPrivate: boolean): TargetCheck {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return { ok: false, reason: 'invalid_url', error: 'not a valid URL' };
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    return {
      ok: false,
      reason: 'unsupported_scheme',
      error: `scheme ${parsed.protocol} is not allowed (http or https only)`,
    };
  }
  if (parsed.username !== '' || parsed.password !== '') {
    return { ok: false, reason: 'credentials', error: 'credentials in the URL are not allowed' };
  }
  if (allowPrivate) return { ok: true, url: parsed };
  // The URL parser has already normalised hosts such as `0x7f.1` and
  // `2130706433` to dotted IPv4, and IPv6 comes in brackets.
  const host = parsed.hostname.startsWith('[') ? parsed.hostname.slice(1, -1) : parsed.hostname;
  if (isIP(host) !== 0 && isPrivateAddress(host)) {
    return { ok: false, reason: 'private_target', error: `private address ${host}` };
  }
  if (isLoopbackHostname(host)) {
    return { ok: false, reason: 'private_target', error: `loopback host ${host}` };
  }
  return { ok: true, url: parsed };
}
