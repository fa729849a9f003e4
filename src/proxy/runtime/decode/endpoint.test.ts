// ClusterLoadAssignment decoding: localities, priorities, weights, health, metadata, overprovisioning, and refusals.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { toStruct } from '../../../xds/codec.js';
import { TypeUrl } from '../../../xds/types.js';
import { decodeClusterLoadAssignment } from './endpoint.js';
import { enc, errs, ok } from './testing.js';

const E = TypeUrl.ClusterLoadAssignment;
const decode = (o: object): ReturnType<typeof decodeClusterLoadAssignment> => decodeClusterLoadAssignment(enc(E, o));
const ep = (address: string, port: number, extra: object = {}): object => ({ endpoint: { address: { socket_address: { address, port_value: port } } }, ...extra });

test('localities with priorities and weights, endpoints with health, weight, metadata and hostname', () => {
  const la = ok(
    decode({
      cluster_name: 'outbound|9080||reviews.default.svc.cluster.local',
      endpoints: [
        {
          locality: { region: 'us-east', zone: 'us-east-1a' },
          load_balancing_weight: { value: 3 },
          lb_endpoints: [
            ep('10.0.0.1', 9080, { health_status: 'HEALTHY', load_balancing_weight: { value: 2 }, metadata: { filter_metadata: { istio: toStruct({ workload: 'reviews-v1;default;reviews;v1;Kubernetes' }) } } }),
            { endpoint: { address: { socket_address: { address: 'fd00::2', port_value: 9080 } }, hostname: 'reviews-2' }, health_status: 'DRAINING' },
          ],
        },
        { locality: { region: 'us-west', zone: 'a', sub_zone: 'b' }, priority: 1, lb_endpoints: [ep('10.0.1.1', 9080, { health_status: 'UNHEALTHY' })] },
      ],
      policy: { overprovisioning_factor: { value: 200 } },
    }),
  );
  assert.equal(la.clusterName, 'outbound|9080||reviews.default.svc.cluster.local');
  assert.equal(la.overprovisioningFactor, 200);
  assert.deepEqual(la.localities, [
    {
      locality: 'us-east/us-east-1a',
      priority: 0,
      weight: 3,
      endpoints: [
        { address: '10.0.0.1', port: 9080, weight: 2, health: 'HEALTHY', metadata: { istio: { workload: 'reviews-v1;default;reviews;v1;Kubernetes' } } },
        { address: 'fd00::2', port: 9080, weight: 1, health: 'DRAINING', hostname: 'reviews-2' },
      ],
    },
    { locality: 'us-west/a/b', priority: 1, weight: 1, endpoints: [{ address: '10.0.1.1', port: 9080, weight: 1, health: 'UNHEALTHY' }] },
  ]);
  assert.deepEqual(ok(decode({ cluster_name: 'empty' })), { clusterName: 'empty', localities: [], overprovisioningFactor: 140 });
});

test('EDS endpoints must be IP addresses; names and shapes are checked with paths', () => {
  assert.deepEqual(
    errs(
      decode({
        cluster_name: 'c',
        endpoints: [{ lb_endpoints: [ep('10.0.0.1', 80), ep('reviews.default', 80), ep('10.0.0.2', 70000), { endpoint_name: 'leds-1' }, { endpoint: { address: { pipe: { path: '/tmp/s' } } } }] }],
      }),
    ),
    [
      'endpoints c: endpoints[0].lb_endpoints[1].endpoint.address.socket_address.address: "reviews.default" is not an IP address',
      'endpoints c: endpoints[0].lb_endpoints[2].endpoint.address.socket_address.port_value: 70000 is not a port',
      'endpoints c: endpoints[0].lb_endpoints[3].endpoint_name: named endpoints (LEDS) are not supported',
      'endpoints c: endpoints[0].lb_endpoints[4].endpoint.address: pipe addresses are not supported (socket_address only)',
    ],
  );
  assert.deepEqual(errs(decode({ endpoints: [] })), ['endpoints (unnamed): cluster_name: cluster_name is required']);
});
