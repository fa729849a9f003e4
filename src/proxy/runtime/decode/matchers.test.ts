// Compiled string matchers and regex rewrites: Envoy's semantics (ASCII ignore_case, RE2 full match, GlobalReplace).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { regexRewrite, stringMatcher } from './matchers.js';
import { Problems } from './util.js';

function sm(m: object): (s: string) => boolean {
  const p = new Problems('test');
  const out = stringMatcher(m as Record<string, unknown>, 'm', p);
  assert.deepEqual(p.list, []);
  assert.ok(out);
  return (s) => out.test(s);
}

test('string matchers: exact/prefix/suffix/contains with and without ignore_case, regex full match', () => {
  assert.equal(sm({ exact: 'Ab' })('Ab'), true);
  assert.equal(sm({ exact: 'Ab' })('ab'), false);
  assert.equal(sm({ exact: 'Ab', ignore_case: true })('aB'), true);
  assert.equal(sm({ exact: 'Ab', ignore_case: true })('aBc'), false);
  assert.equal(sm({ prefix: 'Ab', ignore_case: true })('aBc'), true);
  assert.equal(sm({ suffix: '.COM', ignore_case: true })('x.com'), true);
  assert.equal(sm({ suffix: '.COM' })('x.com'), false);
  assert.equal(sm({ contains: 'MiD', ignore_case: true })('xxmidxx'), true);
  assert.equal(sm({ contains: 'MiD', ignore_case: true })('xxmixx'), false);
  assert.equal(sm({ safe_regex: { regex: 'a|b' } })('a'), true);
  assert.equal(sm({ safe_regex: { regex: 'a|b' } })('ab'), false, 'full match, alternation anchored as a whole');
  assert.equal(sm({ safe_regex: { regex: '\\d+' } })('123'), true);
  assert.equal(sm({})(''), true, 'an empty matcher is exact ""');
  const p = new Problems('x');
  assert.equal(stringMatcher({ prefix: '' }, 'm', p), undefined);
  assert.equal(stringMatcher({ safe_regex: { regex: '(?<=a)b' } }, 'm', p), undefined, 'no lookbehind in RE2');
  assert.equal(p.list[0], 'x: m.prefix: must not be empty');
  assert.match(p.list[1] ?? '', /^x: m\.safe_regex\.regex: invalid RE2 regex "\(\?<=a\)b": /);
});

test('regex rewrite replaces every match, with \\N groups, \\0 and empty matches', () => {
  const rw = (pattern: string, substitution: string): ((s: string) => string) => {
    const p = new Problems('t');
    const r = regexRewrite({ pattern: { regex: pattern }, substitution }, 'r', p);
    assert.deepEqual(p.list, []);
    assert.ok(r);
    return (s) => r.replace(s);
  };
  assert.equal(rw('/', '_')('/a/b/c'), '_a_b_c');
  assert.equal(rw('^/v1/(.*)$', '/v2/\\1')('/v1/x/y'), '/v2/x/y');
  assert.equal(rw('o+', '[\\0]')('foo boo'), 'f[oo] b[oo]');
  assert.equal(rw('x*', '-')('abc'), '-a-b-c-', 'empty matches between characters');
  assert.equal(rw('a', '\\\\')('banana'), 'b\\n\\n\\');
  assert.equal(rw('é', 'e')('café é'), 'cafe e');
});
