// The generator registry: one Generator per xDS type URL, filled explicitly here (nothing registers itself on import),
// each wrapped so the EnvoyFilters that apply to the proxy patch its output.
import type { Generator } from './types.js';
import type { PatchError } from './envoyfilter/apply.js';
import { applyEnvoyFilters } from './envoyfilter/apply.js';
import { clusterGenerator } from './cluster/index.js';
import { endpointGenerator } from './endpoint/index.js';
import { listenerGenerator } from './listener/index.js';
import { routeGenerator } from './route/index.js';

export interface GeneratorOptions {
  /** Called for every EnvoyFilter patch that could not be applied (main.ts logs and counts it). */
  onPatchError?: (e: PatchError) => void;
}

/** Wraps a generator so EnvoyFilter patches (LDS, RDS, CDS) are applied to what it returns. */
export function withEnvoyFilters(gen: Generator, opts: GeneratorOptions = {}): Generator {
  return {
    typeUrl: gen.typeUrl,
    generate(proxy, push, request) {
      const out = gen.generate(proxy, push, request);
      // Proxyless gRPC clients are not Envoy: istiod does not apply EnvoyFilters to them either.
      if (proxy.isGrpc) return out;
      const filters = push.envoyFilters(proxy);
      if (filters.length === 0) return out;
      const patched = applyEnvoyFilters(gen.typeUrl, proxy, filters, out, opts.onPatchError ? { onError: opts.onPatchError } : {});
      // A named request (RDS) only wants the resources asked for, even if a patch added others.
      if (!request.names) return patched;
      const wanted = new Set(request.names);
      return patched.filter((r) => wanted.has(r.name));
    },
  };
}

export function defaultGenerators(opts: GeneratorOptions = {}): Map<string, Generator> {
  const gens = [clusterGenerator, endpointGenerator, listenerGenerator, routeGenerator];
  return new Map(gens.map((g) => [g.typeUrl, g.typeUrl.endsWith('ClusterLoadAssignment') ? g : withEnvoyFilters(g, opts)]));
}
