// `isthmus validate -f <file|dir> ...`: loads Istio YAML/JSON, prints every validation error, exits 1 when any.
import { parseArgs } from 'node:util';
import { formatError } from '../api/errors.js';
import { loadPaths } from '../api/load.js';

export const VALIDATE_USAGE = `Usage: isthmus validate -f <file|dir> [-f <file|dir> ...]

Validates Istio configuration (networking.istio.io, security.istio.io, telemetry.istio.io) the way
istioctl validate and istiod's validating webhook do. Directories are read recursively (*.yaml, *.yml, *.json).
Documents of other kinds (e.g. Kubernetes Services) are skipped.

Flags:
  -f, --filename <path>   file or directory to validate (repeatable)
  -h, --help              show this help

Exit status: 0 when every resource is valid, 1 when any error was found, 2 on usage errors.
`;

export interface Output {
  write(s: string): unknown;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

export async function runValidate(argv: string[], out: Output = process.stdout, err: Output = process.stderr): Promise<number> {
  let values: { filename?: string[]; help?: boolean };
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      args: argv,
      options: { filename: { type: 'string', short: 'f', multiple: true }, help: { type: 'boolean', short: 'h' } },
      allowPositionals: true,
      strict: true,
    }));
  } catch (e) {
    err.write(`${e instanceof Error ? e.message : String(e)}\n\n${VALIDATE_USAGE}`);
    return 2;
  }
  if (values.help) {
    out.write(VALIDATE_USAGE);
    return 0;
  }
  if (positionals.length > 0) {
    err.write(`unexpected argument ${JSON.stringify(positionals[0])} (use -f <file|dir>)\n\n${VALIDATE_USAGE}`);
    return 2;
  }
  const paths = values.filename ?? [];
  if (paths.length === 0) {
    err.write(`at least one -f <file|dir> is required\n\n${VALIDATE_USAGE}`);
    return 2;
  }
  const r = await loadPaths(paths);
  for (const w of r.warnings) err.write(`Warning: ${formatError(w)}\n`);
  for (const e of r.errors) err.write(`${formatError(e)}\n`);
  const skipped = r.skipped.length > 0 ? ` (${plural(r.skipped.length, 'non-Istio document')} skipped)` : '';
  if (r.errors.length > 0) {
    err.write(`validation failed: ${plural(r.errors.length, 'error')}, ${plural(r.rejected.length, 'invalid resource')}, ${r.configs.length} valid, in ${plural(r.files.length, 'file')}\n`);
    return 1;
  }
  out.write(`validation succeed: ${plural(r.configs.length, 'resource')} in ${plural(r.files.length, 'file')}${skipped}\n`);
  return 0;
}
