import { BlockList, isIPv4, isIPv6 } from 'node:net';

/**
 * Which IP addresses a webhook may be delivered to: only globally reachable unicast. Everything a
 * request forger could aim at inside our network (loopback, private ranges, link-local with the
 * cloud metadata endpoint 169.254.169.254, CGNAT, ULA...) is refused. Classify the RESOLVED
 * address, at connect time (src/adapters/http/destinationGuard.ts): the URL text proves nothing.
 * Ranges after the IANA special-purpose registries (RFC 6890 and updates).
 */

type Range = { readonly cidr: string; readonly name: string };

const IPV4_NOT_PUBLIC: ReadonlyArray<Range> = [
  { cidr: '0.0.0.0/8', name: 'this network (0.0.0.0/8)' },
  { cidr: '10.0.0.0/8', name: 'private (10.0.0.0/8)' },
  { cidr: '100.64.0.0/10', name: 'carrier-grade NAT (100.64.0.0/10)' },
  { cidr: '127.0.0.0/8', name: 'loopback (127.0.0.0/8)' },
  { cidr: '169.254.0.0/16', name: 'link-local, cloud metadata (169.254.0.0/16)' },
  { cidr: '172.16.0.0/12', name: 'private (172.16.0.0/12)' },
  { cidr: '192.0.0.0/24', name: 'IETF protocol assignments (192.0.0.0/24)' },
  { cidr: '192.0.2.0/24', name: 'documentation (192.0.2.0/24)' },
  { cidr: '192.88.99.0/24', name: '6to4 relay anycast (192.88.99.0/24)' },
  { cidr: '192.168.0.0/16', name: 'private (192.168.0.0/16)' },
  { cidr: '198.18.0.0/15', name: 'benchmarking (198.18.0.0/15)' },
  { cidr: '198.51.100.0/24', name: 'documentation (198.51.100.0/24)' },
  { cidr: '203.0.113.0/24', name: 'documentation (203.0.113.0/24)' },
  { cidr: '224.0.0.0/4', name: 'multicast (224.0.0.0/4)' },
  { cidr: '240.0.0.0/4', name: 'reserved and broadcast (240.0.0.0/4)' },
];

// Only 2000::/3 is global unicast; anything outside it is refused (after the IPv4-embedding
// prefixes below are unwrapped), so this list names just the special blocks inside 2000::/3.
const IPV6_GLOBAL_UNICAST: Range = { cidr: '2000::/3', name: 'global unicast (2000::/3)' };
const IPV6_NOT_PUBLIC_IN_GLOBAL: ReadonlyArray<Range> = [
  { cidr: '2001::/23', name: 'IETF protocol assignments, Teredo (2001::/23)' },
  { cidr: '2001:db8::/32', name: 'documentation (2001:db8::/32)' },
  { cidr: '3fff::/20', name: 'documentation (3fff::/20)' },
];
const IPV6_NAMED_OUTSIDE_GLOBAL: ReadonlyArray<Range> = [
  { cidr: '::/128', name: 'unspecified (::)' },
  { cidr: '::1/128', name: 'loopback (::1)' },
  { cidr: '::/96', name: 'IPv4-compatible, deprecated (::/96)' },
  { cidr: '64:ff9b:1::/48', name: 'local-use NAT64 (64:ff9b:1::/48)' },
  { cidr: '100::/64', name: 'discard (100::/64)' },
  { cidr: '5f00::/16', name: 'segment routing (5f00::/16)' },
  { cidr: 'fc00::/7', name: 'unique local (fc00::/7)' },
  { cidr: 'fe80::/10', name: 'link-local (fe80::/10)' },
  { cidr: 'fec0::/10', name: 'site-local, deprecated (fec0::/10)' },
  { cidr: 'ff00::/8', name: 'multicast (ff00::/8)' },
];

type Family = 'ipv4' | 'ipv6';
type Matcher = { readonly name: string; readonly matches: (address: string) => boolean };

const matcher = ({ cidr, name }: Range, family: Family): Matcher => {
  const [network, prefix] = cidr.split('/') as [string, string];
  const list = new BlockList();
  list.addSubnet(network, Number(prefix), family);
  return { name, matches: (address) => list.check(address, family) };
};

const ipv4Matchers = IPV4_NOT_PUBLIC.map((r) => matcher(r, 'ipv4'));
const globalUnicast = matcher(IPV6_GLOBAL_UNICAST, 'ipv6');
const ipv6InGlobal = IPV6_NOT_PUBLIC_IN_GLOBAL.map((r) => matcher(r, 'ipv6'));
const ipv6Outside = IPV6_NAMED_OUTSIDE_GLOBAL.map((r) => matcher(r, 'ipv6'));

export type AddressClass =
  | { readonly kind: 'Public' }
  /**
   * `range` names the block, for the attempt log and the poison reason. `platform`: an address of
   * the cloud platform itself, refused even when private destinations are allowed.
   */
  | { readonly kind: 'NotPublic'; readonly range: string; readonly platform?: true }
  | { readonly kind: 'NotAnAddress' };

/**
 * The platform's own endpoints, never a webhook: Azure's wire server (DHCP, DNS, the VM agent and
 * health probes, reachable from every VM), link-local space where instance metadata services
 * answer (Azure's and most clouds' 169.254.169.254, AWS's fd00:ec2::254). Refused always: with
 * ALLOW_PRIVATE_DESTINATIONS=true a tenant could otherwise read tokens from the metadata service.
 */
const IPV4_PLATFORM: ReadonlyArray<Range> = [
  { cidr: '168.63.129.16/32', name: 'the Azure platform wire server (168.63.129.16)' },
  { cidr: '169.254.0.0/16', name: 'link-local, cloud metadata (169.254.0.0/16, e.g. 169.254.169.254)' },
];
const IPV6_PLATFORM: ReadonlyArray<Range> = [
  { cidr: 'fd00:ec2::254/128', name: 'cloud instance metadata over IPv6 (fd00:ec2::254)' },
  { cidr: 'fe80::/10', name: 'link-local (fe80::/10)' },
];
const ipv4Platform = IPV4_PLATFORM.map((r) => matcher(r, 'ipv4'));
const ipv6Platform = IPV6_PLATFORM.map((r) => matcher(r, 'ipv6'));

const classifyIPv4 = (address: string): AddressClass => {
  const platform = ipv4Platform.find((m) => m.matches(address));
  if (platform !== undefined) return { kind: 'NotPublic', range: platform.name, platform: true };
  const hit = ipv4Matchers.find((m) => m.matches(address));
  return hit === undefined ? { kind: 'Public' } : { kind: 'NotPublic', range: hit.name };
};

const hex16 = (high: number, low: number): string => ((high << 8) | low).toString(16);

// Prefixes that carry an IPv4 address inside an IPv6 one: the IPv4 address decides. Each IPv4
// range becomes the matching IPv6 range under the prefix (127.0.0.0/8 -> 64:ff9b::7f00:0/104).
const IPV4_EMBEDDINGS: ReadonlyArray<{ readonly name: string; readonly prefix: Range; readonly embed: (octets: number[], bits: number) => string }> = [
  { name: 'IPv4-mapped', prefix: { cidr: '::ffff:0:0/96', name: '' }, embed: ([a, b, c, d], bits) => `::ffff:${hex16(a!, b!)}:${hex16(c!, d!)}/${96 + bits}` },
  { name: 'NAT64', prefix: { cidr: '64:ff9b::/96', name: '' }, embed: ([a, b, c, d], bits) => `64:ff9b::${hex16(a!, b!)}:${hex16(c!, d!)}/${96 + bits}` },
  { name: '6to4', prefix: { cidr: '2002::/16', name: '' }, embed: ([a, b, c, d], bits) => `2002:${hex16(a!, b!)}:${hex16(c!, d!)}::/${16 + bits}` },
];

const embeddingPrefixes = IPV4_EMBEDDINGS.map((e) => matcher(e.prefix, 'ipv6'));
const embeddedNotPublic = IPV4_EMBEDDINGS.flatMap((e) =>
  IPV4_NOT_PUBLIC.map(({ cidr, name }) => {
    const [network, bits] = cidr.split('/') as [string, string];
    return matcher({ cidr: e.embed(network.split('.').map(Number), Number(bits)), name: `${e.name} ${name}` }, 'ipv6');
  }),
);

const embeddedPlatform = IPV4_EMBEDDINGS.flatMap((e) =>
  IPV4_PLATFORM.map(({ cidr, name }) => {
    const [network, bits] = cidr.split('/') as [string, string];
    return matcher({ cidr: e.embed(network.split('.').map(Number), Number(bits)), name: `${e.name} ${name}` }, 'ipv6');
  }),
);

const classifyIPv6 = (address: string): AddressClass => {
  const platform = ipv6Platform.find((m) => m.matches(address)) ?? embeddedPlatform.find((m) => m.matches(address));
  if (platform !== undefined) return { kind: 'NotPublic', range: platform.name, platform: true };
  const embedded = embeddedNotPublic.find((m) => m.matches(address));
  if (embedded !== undefined) return { kind: 'NotPublic', range: embedded.name };
  if (embeddingPrefixes.some((m) => m.matches(address))) return { kind: 'Public' };
  if (globalUnicast.matches(address)) {
    const hit = ipv6InGlobal.find((m) => m.matches(address));
    return hit === undefined ? { kind: 'Public' } : { kind: 'NotPublic', range: hit.name };
  }
  const named = ipv6Outside.find((m) => m.matches(address));
  return { kind: 'NotPublic', range: named?.name ?? 'not global unicast (outside 2000::/3)' };
};

/** An IPv4 or IPv6 address (a zone index like `%eth0` is allowed and ignored). */
export const classifyAddress = (address: string): AddressClass => {
  const bare = address.replace(/%.*$/, '');
  if (isIPv4(bare)) return classifyIPv4(bare);
  if (isIPv6(bare)) return classifyIPv6(bare.toLowerCase());
  return { kind: 'NotAnAddress' };
};

export const isPublicAddress = (address: string): boolean => classifyAddress(address).kind === 'Public';

/**
 * Why a webhook URL names a destination that is not public, judged from the URL text alone: an IP
 * literal (in any form the URL parser normalizes, e.g. `0x7f.1` or `[::ffff:127.0.0.1]`) or
 * `localhost` (and `*.localhost`, RFC 6761). Other DNS names are checked again when they are
 * resolved at send time (src/adapters/http/destinationGuard.ts). Undefined when nothing is wrong.
 */
export const notPublicUrlHost = (url: string): string | undefined => {
  const classified = classifyUrlHost(url);
  return classified?.kind === 'NotPublic' ? classified.range : undefined;
};

const classifyUrlHost = (url: string): AddressClass | undefined => {
  let hostname: string;
  try {
    hostname = new URL(url).hostname.toLowerCase();
  } catch {
    return undefined; // not a URL at all: the URL codec reports that
  }
  const bare = hostname.replace(/\.$/, '');
  if (bare === 'localhost' || bare.endsWith('.localhost')) return { kind: 'NotPublic', range: 'localhost (loopback)' };
  const address = bare.startsWith('[') && bare.endsWith(']') ? bare.slice(1, -1) : bare;
  return classifyAddress(address);
};

/** Inclusive port ranges; an empty list means any port (ALLOWED_DESTINATION_PORTS unset). */
export type PortRanges = ReadonlyArray<{ readonly from: number; readonly to: number }>;

export const portAllowed = (port: number, allowed: PortRanges): boolean => allowed.length === 0 || allowed.some((r) => port >= r.from && port <= r.to);

export const describePorts = (allowed: PortRanges): string => allowed.map((r) => (r.from === r.to ? String(r.from) : `${r.from}-${r.to}`)).join(', ');

/** The port a URL connects to: its explicit port, else its scheme's default. */
export const urlPort = (url: URL): number => (url.port !== '' ? Number(url.port) : url.protocol === 'http:' ? 80 : 443);

/**
 * Why a webhook URL may not be registered, judged from its text, or undefined: a platform address
 * (always), a visibly private host (unless allowPrivate), a port outside `allowedPorts`.
 */
export const urlDestinationProblem = (p: { readonly url: string; readonly allowPrivate: boolean; readonly allowedPorts: PortRanges }): string | undefined => {
  const classified = classifyUrlHost(p.url);
  if (classified === undefined) return undefined;
  if (classified.kind === 'NotPublic' && classified.platform === true) return `must not name ${classified.range}: platform addresses are refused even with ALLOW_PRIVATE_DESTINATIONS=true`;
  if (classified.kind === 'NotPublic' && !p.allowPrivate) return `must name a public destination, not ${classified.range} (ALLOW_PRIVATE_DESTINATIONS is false)`;
  const port = urlPort(new URL(p.url));
  if (!portAllowed(port, p.allowedPorts)) return `must use an allowed port (${describePorts(p.allowedPorts)}; ALLOWED_DESTINATION_PORTS), not ${port}`;
  return undefined;
};

/**
 * A webhook URL spelled one way (`HTTPS://R.example:443/a` and `https://r.example/a` are one
 * endpoint): the key under which the timeout breaker and the per-endpoint bound count requests;
 * undefined for a URL that does not parse.
 */
export const endpointKeyOf = (url: string): string | undefined => {
  try {
    return new URL(url).href;
  } catch {
    return undefined;
  }
};
