import { isIP } from 'node:net';

/** What Fastify's `trustProxy` takes: everything, nothing, these proxies, or a per-hop decision. */
export type TrustProxy = boolean | string[] | ((address: string, hop: number) => boolean);

/** proxy-addr's named ranges (loopback, linklocal, uniquelocal) are accepted besides IPs and CIDRs. */
const NAMED_RANGES = new Set(['loopback', 'linklocal', 'uniquelocal']);

/**
 * GANTRY_TRUST_PROXY → Fastify's trustProxy, or an error message:
 * - `false` (default) / `true`: trust no proxy / every hop (the left-most X-Forwarded-For, which a
 *   client chooses, becomes the client IP: only when the gateway cannot be reached but through it);
 * - a number N: trust N hops (the N-th address from the right is the client; as safe as the
 *   promise that every request comes through those N proxies);
 * - a comma-separated list of proxy IPs or CIDRs (or loopback, linklocal, uniquelocal): only these
 *   peers' X-Forwarded-For is read, so a client that reaches the gateway directly cannot spoof it.
 */
export function parseTrustProxy(value: string): TrustProxy | { error: string } {
  const text = value.trim().toLowerCase();
  if (text === 'false' || text === 'no' || text === 'off') return false;
  if (text === 'true' || text === 'yes' || text === 'on') return true;
  if (/^\d+$/.test(text)) {
    const hops = Number(text);
    // Fastify 5 ignores a bare hop count (it cannot vouch for the peer): the same rule as a function.
    return hops === 0 ? false : (_address: string, hop: number) => hop < hops;
  }
  const entries = text.split(',').map((entry) => entry.trim()).filter(Boolean);
  const bad = entries.filter((entry) => !isProxyEntry(entry));
  if (entries.length === 0 || bad.length > 0) return { error: `not a boolean, a hop count or a list of IPs/CIDRs: ${bad.join(', ') || value}` };
  return entries;
}

function isProxyEntry(entry: string): boolean {
  if (NAMED_RANGES.has(entry)) return true;
  const [address, prefix, ...rest] = entry.split('/');
  const family = isIP(address);
  if (family === 0 || rest.length > 0) return false;
  if (prefix === undefined) return true;
  return /^\d{1,3}$/.test(prefix) && Number(prefix) <= (family === 4 ? 32 : 128);
}

/**
 * The key a client IP is rate-limited under: IPv4 as is, IPv6 by its /64 (one subscriber usually
 * holds a whole /64, so per-address buckets would give them 2^64 of them), IPv4-mapped IPv6 as IPv4.
 */
export function clientKey(ip: string): string {
  if (!ip.includes(':')) return ip;
  const address = ip.split('%')[0].toLowerCase();
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(address);
  if (mapped) return mapped[1];
  const groups = expandIpv6(address);
  return groups ? `${groups.slice(0, 4).join(':')}::/64` : address;
}

/** The eight 16-bit groups of an IPv6 address (without leading zeros), or null if it is not one. */
function expandIpv6(address: string): string[] | null {
  if (isIP(address) !== 6) return null;
  const [head, tail] = address.includes('::') ? address.split('::') : [address, null];
  const part = (text: string) => (text ? text.split(':').flatMap((group) => (group.includes('.') ? ipv4Groups(group) : [group])) : []);
  const left = part(head);
  const right = tail === null ? [] : part(tail);
  const zeros = tail === null ? [] : Array.from({ length: 8 - left.length - right.length }, () => '0');
  return [...left, ...zeros, ...right].map((group) => group.replace(/^0+(?=.)/, ''));
}

function ipv4Groups(dotted: string): string[] {
  const [a, b, c, d] = dotted.split('.').map(Number);
  return [((a << 8) | b).toString(16), ((c << 8) | d).toString(16)];
}
