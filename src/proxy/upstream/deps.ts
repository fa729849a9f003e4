// Injectable dependencies of the upstream layer (time, randomness, DNS, TLS secrets), with the real defaults.
import { promises as dnsPromises } from 'node:dns';
import type { Random } from './lb/types.js';

/** Time source and coarse interval timers (one per cluster, never per request). */
export interface Timers {
  now(): number;
  setInterval(fn: () => void, ms: number): unknown;
  clearInterval(handle: unknown): void;
}

export const realTimers: Timers = {
  now: () => Date.now(),
  setInterval(fn, ms) {
    const t = setInterval(fn, ms);
    t.unref();
    return t;
  },
  clearInterval(handle) {
    clearInterval(handle as NodeJS.Timeout);
  },
};

/** Resolves a hostname to its addresses (STRICT_DNS / LOGICAL_DNS clusters). */
export type DnsLookup = (hostname: string) => Promise<string[]>;

export const systemDns: DnsLookup = async (hostname) => (await dnsPromises.lookup(hostname, { all: true })).map((a) => a.address);

/** PEM material of an SDS secret (certificate chain + key, or a validation context CA). */
export interface TlsSecret {
  certChain?: string;
  privateKey?: string;
  caCert?: string;
}

/** Looks up SDS secrets by name at connect time (so rotated certificates are used for new connections). */
export interface SecretLookup {
  get(name: string): TlsSecret | undefined;
}

export interface UpstreamEnv {
  timers: Timers;
  random: Random;
  dns: DnsLookup;
  secrets?: SecretLookup;
  /** True for addresses this proxy listens on: ORIGINAL_DST never connects there (it would loop back into itself). */
  isOwnAddress?: (address: string, port: number) => boolean;
}
