// Request-time evaluation of compiled header and query-parameter matchers, with Envoy's exact semantics for absent
// headers, present_match, range_match and invert_match (HeaderUtility::matchHeaders). No allocation.
import type { HeaderMatcher, QueryParamMatcher } from './types.js';

/** Does `value` (the header's value, multiple values joined with ','; undefined = absent) satisfy `m`? */
export function headerMatches(m: HeaderMatcher, value: string | undefined): boolean {
  const isPresentMatch = m.matcher === undefined && m.range === undefined;
  if (value === undefined) {
    if (!m.treatMissingAsEmpty) {
      // Absent header: only a presence check can match (present_match false, or inverted present_match true).
      if (!isPresentMatch) return false;
      return m.invert ? m.present !== false : m.present === false;
    }
    value = '';
  }
  let match: boolean;
  if (m.range) {
    match = isInteger(value) && Number(value) >= m.range.start && Number(value) < m.range.end;
  } else if (m.matcher) {
    match = m.matcher.test(value);
  } else {
    match = m.present !== false;
  }
  return match !== m.invert;
}

function isInteger(s: string): boolean {
  if (s.length === 0 || s.length > 19) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 45 && i === 0 && s.length > 1) continue; // '-'
    if (c < 48 || c > 57) return false;
  }
  return true;
}

/** Does the query parameter's value (undefined = absent, '' for `?a`) satisfy `m`? */
export function queryParamMatches(m: QueryParamMatcher, value: string | undefined): boolean {
  if (value === undefined) return false;
  return m.matcher ? m.matcher.test(value) : true;
}
