// Tag extraction as istio-proxy does it, so /stats/prometheus carries the label names and values that Istio's
// dashboards, Kiali and users' queries expect: `cluster.outbound|9080||reviews.default.svc.cluster.local.upstream_rq_200`
// becomes `envoy_cluster_upstream_rq{response_code="200",cluster_name="outbound|9080||reviews.default.svc.cluster.local"}`.
// This mirrors istio-proxy's bootstrap stats_tags (istio/istio tools/packaging/common/envoy_bootstrap.json,
// "stats_config"): `use_all_default_tags: false`, so none of Envoy's default tags (envoy.cluster_name, ...) apply, only
// Istio's list, in Istio's order, with Istio's regexes. A name no rule matches keeps its full flattened name, as in Envoy.
// How Envoy applies the rules (source/common/stats/tag_producer_impl.cc, tag_extractor_impl.cc): each regex is searched
// in the original name; the first group is cut out of the name, the second (or the only one) is the value. Rules that
// start `^token\.` only run for names whose first token is `token`, after every rule without such a prefix — which is why
// response_code comes before cluster_name in a series' labels.

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
  /** The first token a name needs for the rule to run (Envoy derives it from a leading `^token\.`). */
  prefix?: string;
}

// Istio writes `[_.[:digit:]]` (std::regex bracket classes), `\d` here: an IPv4 `address_port`, or an IPv6 one in
// brackets with its ':' turned to '_' (`[__]_15001`). Stat prefixes such as `outbound_0.0.0.0_9080` match neither.
const ADDRESS = String.raw`(?:[_.\d]*|[_\[\]aAbBcCdDeEfF\d]*)`;

const ISTIO_STATS_TAGS: Rule[] = [
  // The lazy name ends at the first dot, unless `.<ns>.svc.cluster.local` follows: Kubernetes service FQDNs stay whole,
  // other dotted hosts (`outbound|443||www.example.com`) are cut at their first dot, as in istio-proxy.
  { tag: 'cluster_name', prefix: 'cluster', re: /^cluster\.((.+?(\..+?\.svc\.cluster\.local)?)\.)/d },
  { tag: 'tcp_prefix', prefix: 'tcp', re: /^tcp\.((.*?)\.)\w+?$/d },
  { tag: 'response_code', re: /_rq(_(\d{3}))$/d },
  { tag: 'response_code_class', re: /_rq(_(\dxx))$/d },
  { tag: 'http_conn_manager_listener_prefix', prefix: 'listener', re: new RegExp(String.raw`^listener(?=\.).*?\.http\.((${ADDRESS})\.)`, 'd') },
  { tag: 'http_conn_manager_prefix', prefix: 'http', re: new RegExp(String.raw`^http\.((${ADDRESS})\.)`, 'd') },
  { tag: 'listener_address', prefix: 'listener', re: new RegExp(String.raw`^listener\.((${ADDRESS})\.)`, 'd') },
  { tag: 'mongo_prefix', prefix: 'mongo', re: /^mongo\.(.+?)\.(collection|cmd|cx_|op_|delays_|decoding_)(.*?)$/d },
  // Istio inserts one `(<tag>=\.=(.*?);\.;)` rule per extraStatTags entry here; they only match the stats filter's
  // `reporter=.=...;.;istio_requests_total` names, which this proxy does not keep in its Stats.
  { tag: 'cache', re: /(cache\.(.+?)\.)/d },
  { tag: 'component', re: /(component\.(.+?)\.)/d },
  { tag: 'tag', re: /(tag\.(.+?);\.)/d },
  { tag: 'wasm_filter', re: /(wasm_filter\.(.+?)\.)/d },
  { tag: 'authz_enforce_result', re: /rbac(\.(allowed|denied))/d },
  { tag: 'authz_dry_run_action', re: /(\.istio_dry_run_(allow|deny)_)/d },
  { tag: 'authz_dry_run_result', re: /(\.shadow_(allowed|denied))/d },
];

const UNPREFIXED = ISTIO_STATS_TAGS.filter((r) => !r.prefix);
const BY_PREFIX = new Map<string, Rule[]>();
for (const r of ISTIO_STATS_TAGS) if (r.prefix) BY_PREFIX.set(r.prefix, [...(BY_PREFIX.get(r.prefix) ?? []), r]);

/** Applies istio-proxy's rules to one stat name (no tags → the name unchanged). */
export function extractTags(stat: string): TaggedName {
  const cuts: [number, number][] = [];
  const tags: Tag[] = [];
  const apply = (rule: Rule): void => {
    const m = rule.re.exec(stat);
    if (!m?.indices) return;
    // Envoy takes the second group whenever the regex has one, even if it did not take part (then the value is empty).
    tags.push({ name: rule.tag, value: (m.length > 2 ? m[2] : m[1]) ?? '' });
    const span = m.indices[1];
    if (span) cuts.push(span);
  };
  for (const rule of UNPREFIXED) apply(rule);
  const dot = stat.indexOf('.');
  if (dot > 0) for (const rule of BY_PREFIX.get(stat.slice(0, dot)) ?? []) apply(rule);
  if (!tags.length) return { name: stat, tags };
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
