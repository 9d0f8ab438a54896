import { describe, expect, it } from 'vitest';
import { checkTargetUrl, isLoopbackHostname, isPrivateAddress } from '../src/delivery/targetGuard.js';

describe('isPrivateAddress', () => {
  it.each([
    // IPv4 blocked ranges, at both edges where it matters
    ['0.0.0.0', true],
    ['0.255.255.255', true],
    ['10.0.0.1', true],
    ['10.255.255.255', true],
    ['100.64.0.1', true],
    ['100.127.255.255', true],
    ['127.0.0.1', true],
    ['127.255.255.254', true],
    ['169.254.169.254', true],
    ['172.16.0.1', true],
    ['172.31.255.255', true],
    ['192.0.0.8', true],
    ['192.168.1.1', true],
    ['198.18.0.1', true],
    ['198.19.255.255', true],
    ['224.0.0.1', true],
    ['239.255.255.250', true],
    ['240.0.0.1', true],
    ['255.255.255.255', true],
    // IPv4 public, just outside the blocked ranges
    ['1.1.1.1', false],
    ['8.8.8.8', false],
    ['9.255.255.255', false],
    ['11.0.0.0', false],
    ['100.63.255.255', false],
    ['100.128.0.0', false],
    ['172.15.255.255', false],
    ['172.32.0.0', false],
    ['192.0.1.1', false],
    ['192.169.0.1', false],
    ['198.17.255.255', false],
    ['198.20.0.0', false],
    // documentation ranges (TEST-NET-1, -2, -3)
    ['192.0.2.1', true],
    ['198.51.100.1', true],
    ['203.0.113.1', true],
    ['223.255.255.255', false],
    // IPv6
    ['::', true],
    ['::1', true],
    ['0:0:0:0:0:0:0:1', true],
    ['fc00::1', true],
    ['fd12:3456:789a::1', true],
    ['fe80::1', true],
    ['fe80::1%eth0', true],
    ['febf:ffff::1', true],
    ['ff02::1', true],
    ['2001:4860:4860::8888', false],
    ['2606:4700:4700::1111', false],
    // Site-local (deprecated, still routed by some stacks), documentation, discard-only: never public.
    ['fec0::1', true],
    ['feff::1', true],
    ['2001:db8::1', true],
    ['100::1', true],
    // Outside global unicast (2000::/3): reserved, whatever it looks like.
    ['fbff::1', true],
    ['::ffff:0:0:7f00:1', true],
    ['1::1', true],
    ['4000::1', true],
    ['5f00::1', true],
    // Special ranges inside it: IETF protocol assignments (benchmarking, ORCHID), documentation.
    ['2001:2::1', true],
    ['2001:10::1', true],
    ['3fff::1', true],
    // IPv4-mapped and NAT64 IPv6, judged by the IPv4 address
    ['::ffff:127.0.0.1', true],
    ['::ffff:7f00:1', true],
    ['::FFFF:7F00:0001', true],
    ['0:0:0:0:0:ffff:a00:1', true],
    ['::ffff:169.254.169.254', true],
    ['::ffff:8.8.8.8', false],
    ['::ffff:808:808', false],
    ['64:ff9b::127.0.0.1', true],
    ['64:ff9b::8.8.8.8', false],
    // IPv4-translated (::ffff:0:0/96), judged by the IPv4 address
    ['::ffff:0:127.0.0.1', true],
    ['::ffff:0:7f00:1', true],
    ['::ffff:0:8.8.8.8', false],
    // Local-use NAT64 (64:ff9b:1::/48): a translator on the local network, whatever it embeds
    ['64:ff9b:1::808:808', true],
    ['64:ff9b:1:ffff::1', true],
    // 6to4 (2002::/16) carries the IPv4 address in bits 16–47
    ['2002:7f00:1::', true],
    ['2002:a9fe:a9fe::1', true],
    ['2002:c0a8:101::1', true],
    ['2002:808:808::1', false],
    // Teredo (2001::/32): the server's IPv4 in bits 32–63, the client's inverted in the last 32
    ['2001:0:4136:e378:8000:63bf:80ff:fffe', true], // client 127.0.0.1
    ['2001:0:a00:1::f7f7:f7f7', true], // server 10.0.0.1
    ['2001:0:4136:e378:8000:63bf:f7f7:f7f7', false], // server 65.54.227.120, client 8.8.8.8
    // IPv4-compatible (deprecated): blocked whatever the IPv4 part
    ['::127.0.0.1', true],
    ['::8.8.8.8', true],
    // not an address: fails closed
    ['example.com', true],
    ['', true],
    ['1.2.3', true],
    ['[::1]', true],
  ] as [string, boolean][])('%s → %s', (ip, expected) => {
    expect(isPrivateAddress(ip)).toBe(expected);
  });
});

describe('isLoopbackHostname', () => {
  it.each([
    ['localhost', true],
    ['LOCALHOST', true],
    ['localhost.', true],
    ['api.localhost', true],
    ['localhost.example.com', false],
    ['notlocalhost', false],
    ['example.com', false],
  ] as [string, boolean][])('%s → %s', (name, expected) => {
    expect(isLoopbackHostname(name)).toBe(expected);
  });
});

describe('checkTargetUrl', () => {
  it.each([
    // [url, allowPrivate, expected: href when ok, or a fragment of the error]
    ['https://hooks.example.com/stripe', false, { href: 'https://hooks.example.com/stripe' }],
    ['http://hooks.example.com:8080/x?y=1', false, { href: 'http://hooks.example.com:8080/x?y=1' }],
    ['HTTPS://Hooks.Example.COM/Path', false, { href: 'https://hooks.example.com/Path' }],
    ['https://8.8.8.8/hook', false, { href: 'https://8.8.8.8/hook' }],
    ['https://[2001:4860:4860::8888]/hook', false, { href: 'https://[2001:4860:4860::8888]/hook' }],
    ['http://127.0.0.1:4242/hook', false, { error: 'private address 127.0.0.1', reason: 'private_target' }],
    ['http://127.0.0.1:4242/hook', true, { href: 'http://127.0.0.1:4242/hook' }],
    ['http://10.0.0.5/', false, { error: 'private address 10.0.0.5', reason: 'private_target' }],
    [
      'http://169.254.169.254/latest/meta-data',
      false,
      { error: 'private address 169.254.169.254', reason: 'private_target' },
    ],
    ['http://0x7f.1/', false, { error: 'private address 127.0.0.1', reason: 'private_target' }],
    ['http://2130706433/', false, { error: 'private address 127.0.0.1', reason: 'private_target' }],
    ['http://0/', false, { error: 'private address 0.0.0.0', reason: 'private_target' }],
    ['http://[::1]:4242/', false, { error: 'private address ::1', reason: 'private_target' }],
    ['http://[::1]:4242/', true, { href: 'http://[::1]:4242/' }],
    [
      'http://[::ffff:127.0.0.1]/',
      false,
      { error: 'private address ::ffff:7f00:1', reason: 'private_target' },
    ],
    ['http://[fe80::1]/', false, { error: 'private address fe80::1', reason: 'private_target' }],
    ['http://localhost:4242/hook', false, { error: 'loopback host localhost', reason: 'private_target' }],
    ['http://LocalHost./', false, { error: 'loopback host localhost.', reason: 'private_target' }],
    ['http://app.localhost/', false, { error: 'loopback host app.localhost', reason: 'private_target' }],
    ['http://localhost:4242/hook', true, { href: 'http://localhost:4242/hook' }],
    ['ftp://example.com/file', false, { error: 'scheme ftp:', reason: 'unsupported_scheme' }],
    ['ftp://example.com/file', true, { error: 'scheme ftp:', reason: 'unsupported_scheme' }],
    ['file:///etc/passwd', true, { error: 'scheme file:', reason: 'unsupported_scheme' }],
    ['javascript:alert(1)', false, { error: 'scheme javascript:', reason: 'unsupported_scheme' }],
    ['https://user:pass@example.com/', false, { error: 'credentials', reason: 'credentials' }],
    ['https://user@example.com/', true, { error: 'credentials', reason: 'credentials' }],
    ['https://:pass@example.com/', false, { error: 'credentials', reason: 'credentials' }],
    ['not a url', false, { error: 'not a valid URL', reason: 'invalid_url' }],
    ['', false, { error: 'not a valid URL', reason: 'invalid_url' }],
    ['/relative/path', false, { error: 'not a valid URL', reason: 'invalid_url' }],
    ['http://[::1/', false, { error: 'not a valid URL', reason: 'invalid_url' }],
  ] as [string, boolean, { href?: string; error?: string; reason?: string }][])(
    '%s (allowPrivate=%s)',
    (url, allowPrivate, expected) => {
      const result = checkTargetUrl(url, allowPrivate);
      if (expected.href !== undefined) {
        expect(result.ok).toBe(true);
        if (result.ok) expect(result.url.href).toBe(expected.href);
      } else {
        expect(result.ok).toBe(false);
        if (!result.ok) {
          expect(result.error).toContain(expected.error);
          expect(result.reason).toBe(expected.reason);
        }
      }
    },
  );
});
