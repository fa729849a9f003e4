// Header mutations (HeaderValueOption lists and *_headers_to_remove) at route config, virtual host, route and weighted
// cluster level. https://www.envoyproxy.io/docs/envoy/latest/configuration/http/http_conn_man/headers#custom-request-response-headers
import type { HeaderMutations, HeaderValueOption } from '../types.js';
import type { Problems, Rec } from './util.js';
import { at, list, msg, str, strs, wrappedBool } from './util.js';

const ACTIONS: Record<string, HeaderValueOption['action']> = {
  APPEND_IF_EXISTS_OR_ADD: 'append',
  ADD_IF_ABSENT: 'add_if_absent',
  OVERWRITE_IF_EXISTS_OR_ADD: 'overwrite_or_add',
  OVERWRITE_IF_EXISTS: 'overwrite_if_exists',
};

/** `%VAR%` or `%VAR(arg)%` command operators (not `%%`) make the value per-request. */
const DYNAMIC = /%[A-Z][A-Z0-9_]*(\([^)]*\))?(:[0-9]+)?%/;

export const EMPTY_MUTATIONS: HeaderMutations = Object.freeze({ requestAdd: [], requestRemove: [], responseAdd: [], responseRemove: [] });

function checkName(name: string, path: string, p: Problems): boolean {
  if (!name) {
    p.add(path, 'header name is required');
    return false;
  }
  if (name.startsWith(':') || name === 'host') {
    p.add(path, `header "${name}" may not be modified`);
    return false;
  }
  return true;
}

/** A list of envoy.config.core.v3.HeaderValueOption. */
export function headerValueOptions(items: Rec[], path: string, p: Problems): HeaderValueOption[] {
  const out: HeaderValueOption[] = [];
  items.forEach((o, i) => {
    const hp = `${path}[${i}]`;
    const h = msg(o, 'header') ?? {};
    const name = (str(h, 'key') ?? '').toLowerCase();
    if (!checkName(name, at(hp, 'header.key'), p)) return;
    const raw = str(h, 'raw_value');
    const value = str(h, 'value') ?? (raw !== undefined ? Buffer.from(raw, 'base64').toString('utf8') : '');
    let action: HeaderValueOption['action'];
    const legacy = wrappedBool(o, 'append');
    const act = str(o, 'append_action');
    if (legacy !== undefined && act !== undefined && act !== 'APPEND_IF_EXISTS_OR_ADD') {
      p.add(hp, 'append and append_action are both set');
      return;
    }
    if (legacy !== undefined) action = legacy ? 'append' : 'overwrite_or_add';
    else {
      const a = ACTIONS[act ?? 'APPEND_IF_EXISTS_OR_ADD'];
      if (!a) {
        p.add(at(hp, 'append_action'), `unknown append action ${act}`);
        return;
      }
      action = a;
    }
    out.push({ name, value, action, dynamic: DYNAMIC.test(value) });
  });
  return out;
}

function removals(o: Rec, k: string, path: string, p: Problems): string[] {
  const out: string[] = [];
  strs(o, k).forEach((n, i) => {
    const name = n.toLowerCase();
    if (checkName(name, `${at(path, k)}[${i}]`, p)) out.push(name);
  });
  return out;
}

/** The four mutation lists of a RouteConfiguration, VirtualHost, Route or WeightedCluster. */
export function headerMutations(o: Rec, path: string, p: Problems): HeaderMutations {
  const requestAdd = headerValueOptions(list(o, 'request_headers_to_add'), at(path, 'request_headers_to_add'), p);
  const responseAdd = headerValueOptions(list(o, 'response_headers_to_add'), at(path, 'response_headers_to_add'), p);
  const requestRemove = removals(o, 'request_headers_to_remove', path, p);
  const responseRemove = removals(o, 'response_headers_to_remove', path, p);
  if (requestAdd.length + responseAdd.length + requestRemove.length + responseRemove.length === 0) return EMPTY_MUTATIONS;
  return { requestAdd, requestRemove, responseAdd, responseRemove };
}
