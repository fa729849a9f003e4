// `isthmus proxy sidecar|router`: pilot-agent-like flags and environment → the data-plane proxy; runs until SIGTERM
// (drain, then exit 0) or /quitquitquit.
import { parseArgs } from 'node:util';
import { ErrorCode, MeshError } from '../shared/errors.js';
import { configureLogging } from '../shared/log.js';
import type { ProxyFlags } from '../proxy/agent/options.js';
import { DEFAULTS, PROXY_ENV, resolveOptions } from '../proxy/agent/options.js';
import { holdV8ForStartup, releaseV8AfterStartup } from './v8-memory.js';

const envHelp = Object.entries(PROXY_ENV).map(([k, v]) => `  ${k.padEnd(36)} ${v}`).join('\n');

export const PROXY_USAGE = `Usage: isthmus proxy sidecar|router [flags]

Runs the data-plane proxy (istio-proxy: pilot-agent + Envoy's role): connects to the control plane over ADS, serves
the listeners it sends (outbound 15001, inbound 15006, per-port and bound listeners, gateway listeners), and the
admin (15000) and agent (15020 status, 15021 readiness) endpoints.

Flags (camelCase spellings like --discoveryAddress are accepted too):
  --discovery-address <host:port>  control plane xDS address (default ${DEFAULTS.discoveryAddress}, env PILOT_ADDRESS)
  --ip <addr>                      workload IP (default ${DEFAULTS.ip}, env INSTANCE_IP)
  --pod-name <name>                workload name (default the host name, env POD_NAME)
  --namespace <ns>                 namespace (default ${DEFAULTS.namespace}, env POD_NAMESPACE)
  --service-account <sa>           service account (default ${DEFAULTS.serviceAccount}, env SERVICE_ACCOUNT)
  --labels k=v,...                 workload labels (env ISTIO_METAJSON_LABELS as JSON)
  --workload-group <name>          WorkloadGroup to auto-register into (env ISTIO_META_WORKLOAD_GROUP)
  --domain <suffix>                DNS domain suffix (default ${DEFAULTS.domain}, env ISTIO_DOMAIN)
  --cluster-id <id>                cluster id (default ${DEFAULTS.clusterId})
  --network <name>                 network name
  --locality <r/z/s>               region/zone/subzone (env ISTIO_LOCALITY)
  --concurrency <n>                worker processes (default ${DEFAULTS.concurrency})
  --drain-duration <d>             SIGTERM drain time (default 5s, env TERMINATION_DRAIN_DURATION_SECONDS)
  --listener-drain-duration <d>    drain time of changed/removed listeners (default 45s, Istio's drainDuration)
  --log-level <level>              debug | info | warn | error (default info)
  --log-json                       log one JSON object per line
  --admin-addr <host:port>         admin endpoint (default ${DEFAULTS.adminAddr})
  --status-addr <host:port>        agent status endpoint (default <ip>:${DEFAULTS.statusPort})
  --readiness-addr <host:port>     readiness endpoint (default <ip>:${DEFAULTS.readinessPort})
  --interception-mode <mode>       REDIRECT | TPROXY | NONE (default REDIRECT; NONE for local mode without iptables)
  --xds-delta                      use Delta xDS (env ISTIO_DELTA_XDS=true)
  -h, --help                       show this help

Environment:
${envHelp}

Port 0 picks a free port. stdout carries JSON event lines (and access logs sent to /dev/stdout):
  {"event":"started","admin":"127.0.0.1:15000","status":"...","readiness":"...","pid":123}
  {"event":"ready","listeners":{"virtualOutbound":"0.0.0.0:15001",...}}   once the first full config is applied
  {"event":"stopped"}
Logs go to stderr. SIGTERM: readiness fails, listeners stop accepting, connections drain (up to --drain-duration),
exit 0. Exit status 1 on startup errors (e.g. a busy admin port), 2 on usage errors.
`;

export interface Output {
  write(s: string): unknown;
}

/** Istio's camelCase flag names → ours. */
const ALIASES: Record<string, string> = {
  discoveryAddress: 'discovery-address',
  podName: 'pod-name',
  serviceAccount: 'service-account',
  workloadGroup: 'workload-group',
  clusterID: 'cluster-id',
  proxyLogLevel: 'log-level',
  drainDuration: 'listener-drain-duration',
  terminationDrainDuration: 'drain-duration',
  interceptionMode: 'interception-mode',
};

function normalize(argv: string[]): string[] {
  return argv.map((a) => {
    const m = /^--([A-Za-z]+)(=.*)?$/.exec(a);
    const alias = m ? ALIASES[m[1]] : undefined;
    return m && alias ? `--${alias}${m[2] ?? ''}` : a;
  });
}

export async function runProxyCommand(argv: string[], out: Output = process.stdout, err: Output = process.stderr): Promise<number> {
  let values: ProxyFlags & { help?: boolean };
  let positionals: string[];
  try {
    const str = { type: 'string' } as const;
    ({ values, positionals } = parseArgs({
      args: normalize(argv),
      options: {
        'discovery-address': str, ip: str, 'pod-name': str, namespace: str, 'service-account': str, labels: str,
        'workload-group': str, domain: str, 'cluster-id': str, network: str, locality: str, concurrency: str,
        'drain-duration': str, 'listener-drain-duration': str, 'log-level': str, 'log-json': { type: 'boolean' },
        'admin-addr': str, 'status-addr': str, 'readiness-addr': str, 'interception-mode': str, 'xds-delta': { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
      allowPositionals: true,
      strict: true,
    }));
  } catch (e) {
    err.write(`${e instanceof Error ? e.message : String(e)}\n\n${PROXY_USAGE}`);
    return 2;
  }
  if (values.help) {
    out.write(PROXY_USAGE);
    return 0;
  }
  const [kind, ...extra] = positionals;
  if (kind !== 'sidecar' && kind !== 'router') {
    err.write(`${kind === undefined ? 'missing' : `unknown`} proxy type${kind === undefined ? '' : ` ${JSON.stringify(kind)}`}: want sidecar or router\n\n${PROXY_USAGE}`);
    return 2;
  }
  if (extra.length > 0) {
    err.write(`unexpected argument ${JSON.stringify(extra[0])}\n\n${PROXY_USAGE}`);
    return 2;
  }
  let options;
  try {
    options = resolveOptions(kind, values, process.env);
  } catch (e) {
    err.write(`isthmus proxy: ${e instanceof Error ? e.message : String(e)}\n`);
    return 2;
  }
  configureLogging({ level: options.logLevel, json: options.logJson });
  // Before the proxy's modules load, released once it is ready: see v8-memory.ts.
  holdV8ForStartup();
  try {
    const { runProxyProcess } = await import('../proxy/main.js');
    return await runProxyProcess(options, out, { onReady: releaseV8AfterStartup });
  } catch (e) {
    err.write(`isthmus proxy: ${e instanceof Error ? e.message : String(e)}\n`);
    return e instanceof MeshError && e.code === ErrorCode.Usage ? 2 : 1;
  }
}
