// Envoy's default tag extraction for the stats this proxy emits: `cluster.<name>.upstream_rq_200` becomes the name
// `cluster.upstream_rq` with tags envoy.response_code=200 and envoy.cluster_name=<name>, as Prometheus sees it.
// Rules, names and order follow source/common/config/well_known_names.cc: every rule matches the full stat name; the
// first capture group is cut out of the name, the second (or the only one) is the tag value.
// https://www.envoyproxy.io/docs/envoy/latest/api-v3/config/metrics/v3/stats.proto#config-metrics-v3-statsconfig

export interface Tag {
  name: string;
  value: string;
}

/** A stat name with its tags taken out. */
export interface TaggedName {
  name: string;
  tags: Tag[];
}

interface Rule {
  tag: string;
  re: RegExp;
  /** A value that does not count as a match (Envoy's negative_matching_value). */
  except?: string;
}

// Envoy's <ADDRESS>: an IPv4 or bracketed IPv6 address and a port, joined by '_'.
const ADDRESS = String.raw`(?:(?:\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}|\[[a-fA-F_\d]+\])_\d+)`;

// Envoy's own cluster_name, http_conn_manager_prefix and tcp_prefix rules take one dot-free token ("cluster.$.**").
// Istio's names carry dots (`outbound|9080||reviews.default.svc.cluster.local`, `outbound_0.0.0.0_9080`), which is why
// Istio's bootstrap replaces the cluster rule; here the value runs up to the stat's own suffix instead: the last token,
// after one of the sub-scopes these stats have (circuit_breakers.<priority>., outlier_detection., ...).
const RULES: Rule[] = [
  { tag: 'envoy.response_code', re: /_rq(_(\d{3}))$/d },
  { tag: 'envoy.response_code_class', re: /_rq_((\d))xx$/d },
  { tag: 'envoy.tcp_prefix', re: /^tcp\.((.+?)\.)[^.]+$/d },
  { tag: 'envoy.cluster_name', re: /^cluster\.((.+?)\.)(?:circuit_breakers\.[^.]+\.|outlier_detection\.|health_check\.|ssl\.(?:ciphers\.|curves\.|sigalgs\.)?)?[^.]+$/d },
  { tag: 'envoy.http_conn_manager_prefix', re: /^http\.((.+?)\.)(?:fault\.|cors\.|rbac\.|tracing\.)?[^.]+$/d },
  { tag: 'envoy.listener_address', re: new RegExp(String.raw`^listener\.((${ADDRESS}|[^.]+)\.)`, 'd'), except: 'admin' },
  { tag: 'envoy.local_http_ratelimit_prefix', re: /^((.+?)\.)http_local_rate_limit\.[^.]+$/d },
];

/** Applies the default rules to one stat name (no tags → the name unchanged). */
export function extractTags(stat: string): TaggedName {
  let cuts: [number, number][] | undefined;
  let tags: Tag[] | undefined;
  for (const rule of RULES) {
    const m = rule.re.exec(stat);
    if (!m?.indices) continue;
    const g = m.length > 2 ? 2 : 1;
    const value = m[g];
    const span = m.indices[1];
    if (value === undefined || span === undefined || value === rule.except) continue;
    (tags ??= []).push({ name: rule.tag, value });
    (cuts ??= []).push(span);
  }
  if (!cuts || !tags) return { name: stat, tags: [] };
  return { name: cutOut(stat, cuts), tags };
}

/** `s` without the (possibly overlapping) character ranges. */
function cutOut(s: string, ranges: [number, number][]): string {
  ranges.sort((a, b) => a[0] - b[0]);
  let out = '';
  let pos = 0;
  for (const [from, to] of ranges) {
    if (from > pos) out += s.slice(pos, from);
    pos = Math.max(pos, to);
  }
  return out + s.slice(pos);
}
