import * as dns from 'node:dns';
import type { LookupFunction } from 'node:net';
import { buildConnector } from 'undici';
import { classifyAddress } from '../../domain/destination';

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

const destinationNotAllowed = (p: { host: string; address: string; range: string }): DestinationNotAllowedError =>
  Object.assign(
    new Error(
      p.host === p.address
        ? `${p.address} is ${p.range}: delivery refused (ALLOW_PRIVATE_DESTINATIONS is off)`
        : `${p.host} resolves to ${p.address}, ${p.range}: delivery refused (ALLOW_PRIVATE_DESTINATIONS is off)`,
    ),
    { code: DESTINATION_NOT_ALLOWED, ...p } as const,
  );

/** Every address a host name resolves to (dns.lookup with `all`, i.e. getaddrinfo, as net does). */
export type ResolveAll = (
  hostname: string,
  options: { readonly family?: number; readonly hints?: number },
  callback: (error: NodeJS.ErrnoException | null, addresses: ReadonlyArray<dns.LookupAddress>) => void,
) => void;

export const systemResolve: ResolveAll = (hostname, options, callback) =>
  dns.lookup(hostname, { family: options.family ?? 0, hints: options.hints ?? 0, all: true }, (error, addresses) =>
    callback(error, addresses ?? []),
  );

const familyNumber = (family: dns.LookupOptions['family']): number | undefined =>
  family === 'IPv4' ? 4 : family === 'IPv6' ? 6 : family;

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
      if (!allowPrivate) {
        for (const { address } of addresses) {
          const verdict = classifyAddress(address);
          if (verdict.kind !== 'Public') {
            return callback(
              destinationNotAllowed({ host: hostname, address, range: verdict.kind === 'NotPublic' ? verdict.range : 'not an address' }),
              '',
            );
          }
        }
      }
      return options.all ? callback(null, [...addresses]) : callback(null, first.address, first.family);
    });
  };

export type GuardedConnectorOptions = {
  readonly allowPrivate: boolean;
  readonly resolve?: ResolveAll;
  readonly connectTimeoutMs: number;
};

/**
 * An undici `connect` function. An IP literal in the URL never reaches `lookup` (net connects to it
 * directly), so literals are checked here; names are checked by guardedLookup.
 */
export const guardedConnector = ({ allowPrivate, resolve = systemResolve, connectTimeoutMs }: GuardedConnectorOptions): buildConnector.connector => {
  const connect = buildConnector({ timeout: connectTimeoutMs, lookup: guardedLookup({ allowPrivate, resolve }) });
  return (options, callback) => {
    const literal = classifyAddress(options.hostname);
    if (!allowPrivate && literal.kind === 'NotPublic') {
      const error = destinationNotAllowed({ host: options.hostname, address: options.hostname, range: literal.range });
      // Asynchronously, as a real connection failure would be.
      queueMicrotask(() => callback(error, null));
      return;
    }
    connect(options, callback);
  };
};
