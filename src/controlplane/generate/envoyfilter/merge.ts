// Proto merge semantics on plain objects, as Envoy/Istio apply an EnvoyFilter MERGE: messages merge field by field,
// repeated fields append, scalars overwrite; an Any merges only into an Any of the same type, else it replaces.

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return v !== null && typeof v === 'object' && !Array.isArray(v) && !(v instanceof Uint8Array);
}

/** Returns a new object: `base` with `patch` merged in. Neither input is modified. */
export function protoMerge(base: Obj, patch: Obj): Obj {
  const out: Obj = { ...base };
  for (const [k, pv] of Object.entries(patch)) {
    const bv = out[k];
    if (Array.isArray(pv) && Array.isArray(bv)) {
      out[k] = [...(bv as unknown[]), ...(pv as unknown[])];
    } else if (isObj(pv) && isObj(bv)) {
      const pt = pv['@type'];
      const bt = bv['@type'];
      out[k] = pt !== undefined && bt !== undefined && pt !== bt ? structuredClone(pv) : protoMerge(bv, pv);
    } else {
      out[k] = structuredClone(pv);
    }
  }
  return out;
}
