import * as dns from 'node:dns';
import type { LookupFunction } from 'node:net';
import { buildConnector } from 'undici';
import { type AddressClass, classifyAddress, describePorts, type PortRanges, portAllowed } from '../../domain/destination';

/*
 * The SSRF guard at connect time: the address checked is the address the socket then uses, so a
 * DNS answer that changes between a check and the connection (DNS rebinding) cannot slip through.
 */

export const DESTINATION_NOT_ALLOWED = 'ERR_DESTINATION_NOT_ALLOWED';

export type DestinationNotAllowedError = Error & {
  readonly code: typeof DESTINATION_NOT_ALLOWED;
  readonly host: string;
  readonly address: string;
  readonly range: string;
};

const destinationNotAllowed = ({ platform, ...p }: { host: string; address: string; range: string; platform?: boolean }): DestinationNotAllowedError => {
  const why = platform === true ? 'refused always, even with ALLOW_PRIVATE_DESTINATIONS=true' : 'ALLOW_PRIVATE_DESTINATIONS is off';
  return Object.assign(new Error(p.host === p.address ? `${p.address} is ${p.range}: delivery refused (${why})` : `${p.host} resolves to ${p.address}, ${p.range}: delivery refused (${why})`), {
    code: DESTINATION_NOT_ALLOWED,
    ...p,
  } as const);
};

/** Whether an address is refused: a platform address always, any other non-public one unless allowPrivate. */
const refused = (verdict: AddressClass, allowPrivate: boolean): verdict is Extract<AddressClass, { kind: 'NotPublic' }> => verdict.kind === 'NotPublic' && (verdict.platform === true || !allowPrivate);

const portNotAllowed = (p: { host: string; port: number; allowedPorts: PortRanges }): DestinationNotAllowedError =>
  Object.assign(new Error(`port ${p.port} is not one of ALLOWED_DESTINATION_PORTS (${describePorts(p.allowedPorts)}): delivery refused`), {
    code: DESTINATION_NOT_ALLOWED,
    host: p.host,
    address: p.host,
    range: `port ${p.port}`,
  } as const);

/** Every address a host name resolves to (dns.lookup with `all`, i.e. getaddrinfo, as net does). */
export type ResolveAll = (
  hostname: string,
  options: { readonly family?: number; readonly hints?: number },
  callback: (error: NodeJS.ErrnoException | null, addresses: ReadonlyArray<dns.LookupAddress>) => void,
) => void;

export const systemResolve: ResolveAll = (hostname, options, callback) =>
  dns.lookup(hostname, { family: options.family ?? 0, hints: options.hints ?? 0, all: true }, (error, addresses) => callback(error, addresses ?? []));

const familyNumber = (family: dns.LookupOptions['family']): number | undefined => (family === 'IPv4' ? 4 : family === 'IPv6' ? 6 : family);

/**
 * A `lookup` for net.connect that refuses the host when any of its addresses is not public (a
 * host that publishes an internal address is treated as internal), unless allowPrivate.
 */
export const guardedLookup =
  ({ allowPrivate, resolve }: { readonly allowPrivate: boolean; readonly resolve: ResolveAll }): LookupFunction =>
  (hostname, options, callback) => {
    const family = familyNumber(options.family);
    resolve(hostname, { ...(family === undefined ? {} : { family }), ...(options.hints === undefined ? {} : { hints: options.hints }) }, (error, addresses) => {
      if (error) return callback(error, '');
      const first = addresses[0];
      if (first === undefined) {
        return callback(Object.assign(new Error(`${hostname} has no address`), { code: 'ENOTFOUND', hostname }), '');
      }
      for (const { address } of addresses) {
        const verdict = classifyAddress(address);
        if (refused(verdict, allowPrivate)) return callback(destinationNotAllowed({ host: hostname, address, range: verdict.range, platform: verdict.platform === true }), '');
        if (!allowPrivate && verdict.kind === 'NotAnAddress') return callback(destinationNotAllowed({ host: hostname, address, range: 'not an address' }), '');
      }
      return options.all ? callback(null, [...addresses]) : callback(null, first.address, first.family);
    });
  };

export type GuardedConnectorOptions = {
  readonly allowPrivate: boolean;
  /** Empty or absent: any port. */
  readonly allowedPorts?: PortRanges;
  readonly resolve?: ResolveAll;
  readonly connectTimeoutMs: number;
};

/**
 * An undici `connect` function. An IP literal in the URL never reaches `lookup` (net connects to it
 * directly), so literals are checked here; names are checked by guardedLookup.
 */
export const guardedConnector = ({ allowPrivate, allowedPorts = [], resolve = systemResolve, connectTimeoutMs }: GuardedConnectorOptions): buildConnector.connector => {
  const connect = buildConnector({ timeout: connectTimeoutMs, lookup: guardedLookup({ allowPrivate, resolve }) });
  return (options, callback) => {
    const host = options.hostname.replace(/^\[|\]$/g, '');
    const port = options.port !== '' ? Number(options.port) : options.protocol === 'http:' ? 80 : 443;
    const literal = classifyAddress(host);
    const error = refused(literal, allowPrivate)
      ? destinationNotAllowed({ host, address: host, range: literal.range, platform: literal.platform === true })
      : !portAllowed(port, allowedPorts)
        ? portNotAllowed({ host, port, allowedPorts })
        : undefined;
    if (error !== undefined) {
      // Asynchronously, as a real connection failure would be.
      queueMicrotask(() => callback(error, null));
      return;
    }
    connect(options, callback);
  };
};
