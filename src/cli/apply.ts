// `isthmus apply -f FILE|DIR` and `isthmus delete -f FILE|DIR`: change a running local mesh's Istio config, as kubectl
// apply/delete would (validated first: invalid input changes nothing), then wait until every proxy is SYNCED.
import { parseArgs } from 'node:util';
import { runChange } from '../local/change.js';
import { parseDuration } from './up.js';

export interface Output {
  write(s: string): unknown;
}

const usage = (op: 'apply' | 'delete'): string => `Usage: isthmus ${op} -f <file|dir> [-f <file|dir> ...] [--run-dir <dir>] [--timeout <duration>] [--no-wait]

${op === 'apply'
    ? 'Validates the Istio YAML (every error is printed and nothing changes when any is found), then creates or\nupdates each resource in the running mesh, one file per resource in <run-dir>/config/applied/.'
    : 'Removes the resources the files name (kind, namespace, name) from the running mesh. Resources generated from\nthe mesh file cannot be deleted; change the mesh file instead.'}
Then waits until the control plane has pushed the change and every proxy is SYNCED.

Flags:
  -f, --filename <path>   file or directory (*.yaml, *.yml, *.json, recursively; repeatable)
  --run-dir <dir>         the mesh's run directory (default: $ISTHMUS_RUN_DIR, else the mesh isthmus up started last)
  --timeout <duration>    how long to wait for the proxies (default 30s)
  --no-wait               do not wait for the push
  -h, --help              show this help

Exit status: 0 when done, 1 on invalid input${op === 'delete' ? ', a resource not found' : ''} or proxies not SYNCED in time, 2 on usage errors.
`;

export async function runConfigCommand(op: 'apply' | 'delete', argv: string[], out: Output = process.stdout, err: Output = process.stderr, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  let values: { filename?: string[]; 'run-dir'?: string; timeout?: string; 'no-wait'?: boolean; help?: boolean };
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      args: argv,
      options: {
        filename: { type: 'string', short: 'f', multiple: true },
        'run-dir': { type: 'string' },
        timeout: { type: 'string' },
        'no-wait': { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
      allowPositionals: true,
      strict: true,
    }));
  } catch (e) {
    err.write(`${e instanceof Error ? e.message : String(e)}\n\n${usage(op)}`);
    return 2;
  }
  if (values.help) {
    out.write(usage(op));
    return 0;
  }
  if (positionals.length > 0) {
    err.write(`unexpected argument ${JSON.stringify(positionals[0])} (use -f <file|dir>)\n\n${usage(op)}`);
    return 2;
  }
  const paths = values.filename ?? [];
  if (paths.length === 0) {
    err.write(`at least one -f <file|dir> is required\n\n${usage(op)}`);
    return 2;
  }
  const timeout = values.timeout === undefined ? 30_000 : parseDuration(values.timeout);
  if (timeout === undefined) {
    err.write(`invalid --timeout ${JSON.stringify(values.timeout)}: want a duration like 30s\n`);
    return 2;
  }
  return runChange({ op, paths, ...(values['run-dir'] !== undefined ? { runDir: values['run-dir'] } : {}), env, wait: !values['no-wait'], timeoutMs: timeout, out, err });
}

export const runApply = (argv: string[], out?: Output, err?: Output, env?: NodeJS.ProcessEnv): Promise<number> => runConfigCommand('apply', argv, out, err, env);
