import fc from 'fast-check';
import { ifNoneMatchMatches, secondsLeft } from '../../src/lib/http/cacheable';

const ETAG = '"IhRGAMSlwF81cdRDz7fHREcq_Fs"';

describe('If-None-Match (RFC 9110 §13.1.2)', () => {
  test.each([
    [ETAG, true],
    [`W/${ETAG}`, true],
    ['*', true],
    [' * ', true],
    [`"a", ${ETAG}`, true],
    [`"a",${ETAG} , "b"`, true],
    [`,, ${ETAG},`, true],
    ['"a,b", "c"', false],
    ['"other"', false],
    [ETAG.slice(1), false],
    [`${ETAG} garbage`, false],
    [`w/${ETAG}`, false],
    ['', false],
  ])('%j matches: %s', (fieldValue, expected) => {
    expect(ifNoneMatchMatches(fieldValue, ETAG)).toBe(expected);
  });

  test('a tag containing a comma is one tag', () => {
    expect(ifNoneMatchMatches('"a,b"', '"a,b"')).toBe(true);
    expect(ifNoneMatchMatches('"a,b"', '"a"')).toBe(false);
  });

  test('any list that contains the tag matches, whatever else it holds; a list without it never does', () => {
    const tag = fc.stringMatching(/^"[\x21\x23-\x7e]{0,12}"$/).filter((t) => t !== ETAG);
    const element = fc.tuple(fc.constantFrom('', 'W/'), tag).map(([w, t]) => w + t);
    const ows = fc.constantFrom('', ' ', '\t', '  ');
    fc.assert(
      fc.property(fc.array(element, { maxLength: 5 }), fc.nat(5), ows, ows, (others, at, before, after) => {
        const withTag = [...others];
        withTag.splice(Math.min(at, others.length), 0, ETAG);
        const join = (list: string[]) => list.map((e) => `${before}${e}${after}`).join(',');
        expect(ifNoneMatchMatches(join(withTag), ETAG)).toBe(true);
        expect(ifNoneMatchMatches(join(others), ETAG)).toBe(false);
      }),
    );
  });
});

describe('secondsLeft', () => {
  test('whole seconds, rounded down, never negative', () => {
    expect(secondsLeft(10_999, 1_000)).toBe(9);
    expect(secondsLeft(11_000, 1_000)).toBe(10);
    expect(secondsLeft(500, 1_000)).toBe(0);
  });
});
