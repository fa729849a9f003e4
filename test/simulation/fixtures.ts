// Shared YAML fixtures for generator and simulator tests: a Bookinfo-like mesh in namespace default.
export const join = (...docs: string[]): string => docs.join('\n---\n');

/** A ServiceEntry `name` (host `name`, short) in `ns` with `ports` (HTTP unless stated) and an optional VIP. */
export function serviceEntry(name: string, opts: { ns?: string; ports?: { number: number; name: string; protocol?: string }[]; address?: string; host?: string; extra?: string } = {}): string {
  const ports = opts.ports ?? [{ number: 9080, name: 'http', protocol: 'HTTP' }];
  return `
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: ${name}, namespace: ${opts.ns ?? 'default'}}
spec:
  hosts: [${opts.host ?? name}]
${opts.address ? `  addresses: [${opts.address}]\n` : ''}  location: MESH_INTERNAL
  resolution: STATIC
  ports:
${ports.map((p) => `  - {number: ${p.number}, name: ${p.name}${p.protocol ? `, protocol: ${p.protocol}` : ''}}`).join('\n')}
  workloadSelector: {labels: {app: ${name}}}
${opts.extra ?? ''}`;
}

export function workloadEntry(name: string, app: string, address: string, labels: Record<string, string> = {}, ns = 'default'): string {
  const l = Object.entries({ app, ...labels }).map(([k, v]) => `${k}: ${v}`).join(', ');
  return `
apiVersion: networking.istio.io/v1
kind: WorkloadEntry
metadata: {name: ${name}, namespace: ${ns}}
spec:
  address: ${address}
  labels: {${l}}`;
}

/** productpage, details, ratings, reviews (v1, v2, v3) on port 9080, with a DestinationRule declaring the subsets. */
export const BOOKINFO = join(
  serviceEntry('productpage'),
  serviceEntry('details'),
  serviceEntry('ratings'),
  serviceEntry('reviews'),
  workloadEntry('productpage-v1', 'productpage', '10.0.0.10', { version: 'v1' }),
  workloadEntry('details-v1', 'details', '10.0.0.11', { version: 'v1' }),
  workloadEntry('ratings-v1', 'ratings', '10.0.0.12', { version: 'v1' }),
  workloadEntry('reviews-v1', 'reviews', '10.0.0.13', { version: 'v1' }),
  workloadEntry('reviews-v2', 'reviews', '10.0.0.14', { version: 'v2' }),
  workloadEntry('reviews-v3', 'reviews', '10.0.0.15', { version: 'v3' }),
  `
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: reviews, namespace: default}
spec:
  host: reviews
  subsets:
  - {name: v1, labels: {version: v1}}
  - {name: v2, labels: {version: v2}}
  - {name: v3, labels: {version: v3}}`,
);

export const REVIEWS = 'reviews.default.svc.cluster.local';
export const outbound = (host: string, port = 9080, subset = ''): string => `outbound|${port}|${subset}|${host}`;
