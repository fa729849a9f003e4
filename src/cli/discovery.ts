// `isthmus discovery`: flags → runDiscovery (the control plane, istiod's role); runs until SIGTERM/SIGINT.
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { runDiscovery } from '../controlplane/main.js';
import { parseMeshConfig } from '../controlplane/model/mesh-config.js';
import type { MeshConfig } from '../controlplane/model/types.js';
import { ErrorCode, MeshError } from '../shared/errors.js';
import { configureLogging, isLogLevel } from '../shared/log.js';
import { Tunables } from '../shared/tunables.js';

export const DISCOVERY_USAGE = `Usage: isthmus discovery [--config-dir <dir> ...] [flags]

Runs the control plane (istiod's role): reads Istio YAML from the config directories (watched for changes),
builds Envoy xDS v3 and serves it over gRPC ADS (State of the World and Delta).

Flags:
  --config-dir <dir>         directory of Istio YAML/JSON, read recursively (repeatable)
  --grpc-addr <host:port>    ${Tunables.grpcAddr.description} (default ${Tunables.grpcAddr.default}, env ${Tunables.grpcAddr.env})
  --http-addr <host:port>    ${Tunables.httpAddr.description}: /ready, /debug/syncz, ... (default ${Tunables.httpAddr.default}, env ${Tunables.httpAddr.env})
  --monitoring-addr <addr>   ${Tunables.monitoringAddr.description} (default ${Tunables.monitoringAddr.default}, env ${Tunables.monitoringAddr.env})
  --domain <suffix>          ${Tunables.domainSuffix.description} (default ${Tunables.domainSuffix.default}, env ${Tunables.domainSuffix.env})
  --mesh-config <file>       Istio MeshConfig YAML (accessLogFile, accessLogEncoding, accessLogFormat, extensionProviders,
                             defaultProviders), as istiod's --meshConfig; the flags below override it
  --access-log-file <path>   meshConfig.accessLogFile: proxies log every request/connection there (e.g. /dev/stdout; default off)
  --access-log-encoding <e>  meshConfig.accessLogEncoding: TEXT (Istio's default format) or JSON
  --log-level <level>        debug | info | warn | error (default info)
  --log-json                 log one JSON object per line
  -h, --help                 show this help

Port 0 picks a free port. Once every port is bound, one JSON line goes to stdout:
  {"event":"ready","grpc":"127.0.0.1:15010","http":"127.0.0.1:8080","monitoring":"127.0.0.1:15014"}
Logs go to stderr. Exit status: 0 after SIGTERM/SIGINT, 1 on startup errors (e.g. a busy port), 2 on usage errors.
`;

export interface Output {
  write(s: string): unknown;
}

interface DiscoveryFlags {
  'config-dir'?: string[];
  'grpc-addr'?: string;
  'http-addr'?: string;
  'monitoring-addr'?: string;
  domain?: string;
  'mesh-config'?: string;
  'access-log-file'?: string;
  'access-log-encoding'?: string;
  'log-level'?: string;
  'log-json'?: boolean;
  help?: boolean;
}

export async function runDiscoveryCommand(argv: string[], out: Output = process.stdout, err: Output = process.stderr): Promise<number> {
  let values: DiscoveryFlags;
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      args: argv,
      options: {
        'config-dir': { type: 'string', multiple: true },
        'grpc-addr': { type: 'string' },
        'http-addr': { type: 'string' },
        'monitoring-addr': { type: 'string' },
        domain: { type: 'string' },
        'mesh-config': { type: 'string' },
        'access-log-file': { type: 'string' },
        'access-log-encoding': { type: 'string' },
        'log-level': { type: 'string' },
        'log-json': { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
      allowPositionals: true,
      strict: true,
    }));
  } catch (e) {
    err.write(`${e instanceof Error ? e.message : String(e)}\n\n${DISCOVERY_USAGE}`);
    return 2;
  }
  if (values.help) {
    out.write(DISCOVERY_USAGE);
    return 0;
  }
  if (positionals.length > 0) {
    err.write(`unexpected argument ${JSON.stringify(positionals[0])} (use --config-dir <dir>)\n\n${DISCOVERY_USAGE}`);
    return 2;
  }
  const level = values['log-level'] ?? 'info';
  if (!isLogLevel(level) || level === 'none') {
    err.write(`invalid --log-level ${JSON.stringify(level)}: want debug, info, warn or error\n`);
    return 2;
  }
  configureLogging({ level, json: values['log-json'] ?? false });
  const encoding = values['access-log-encoding']?.toUpperCase();
  if (encoding !== undefined && encoding !== 'TEXT' && encoding !== 'JSON') {
    err.write(`invalid --access-log-encoding ${JSON.stringify(values['access-log-encoding'])}: want TEXT or JSON\n`);
    return 2;
  }
  let mesh: MeshConfig = {};
  const meshFile = values['mesh-config'];
  if (meshFile !== undefined) {
    let text: string;
    try {
      text = readFileSync(meshFile, 'utf8');
    } catch (e) {
      err.write(`cannot read --mesh-config ${JSON.stringify(meshFile)}: ${e instanceof Error ? e.message : String(e)}\n`);
      return 2;
    }
    const r = parseMeshConfig(text);
    for (const w of r.warnings) err.write(`${meshFile}: warning: ${w}\n`);
    if (r.errors.length > 0) {
      err.write(r.errors.map((e) => `${meshFile}: ${e}\n`).join(''));
      return 2;
    }
    mesh = r.mesh;
  }
  if (values['access-log-file'] !== undefined) mesh = { ...mesh, accessLogFile: values['access-log-file'] };
  if (encoding !== undefined) mesh = { ...mesh, accessLogEncoding: encoding };

  try {
    const d = await runDiscovery({
      configDirs: values['config-dir'] ?? [],
      grpcAddr: values['grpc-addr'],
      httpAddr: values['http-addr'],
      monitoringAddr: values['monitoring-addr'],
      domain: values.domain,
      mesh,
      stdout: out,
    });
    await d.done;
    return 0;
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    err.write(`isthmus discovery: ${msg}\n`);
    return e instanceof MeshError && e.code === ErrorCode.Usage ? 2 : 1;
  }
}
