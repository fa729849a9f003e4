// `isthmus delete -f FILE|DIR`: removes the named resources from a running local mesh (see apply.ts).
import type { Output } from './apply.js';
import { runConfigCommand } from './apply.js';

export const runDelete = (argv: string[], out?: Output, err?: Output, env?: NodeJS.ProcessEnv): Promise<number> => runConfigCommand('delete', argv, out, err, env);
