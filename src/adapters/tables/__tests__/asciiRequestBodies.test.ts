import { escapeNonAscii } from '../asciiRequestBodies';

describe('escapeNonAscii', () => {
  const values: unknown[] = [
    { name: 'é€😀', nested: ['ü', { clé: 'naïve' }] },
    'plain ascii with \\ backslash and "quotes" and \u007f',
    { lone: '\ud800 high and \udfff low surrogates' },
    { payload: '中文测试'.repeat(1000) },
  ];

  it.each(values)('writes %# in ASCII only, and JSON.parse reads the same value back', (value) => {
    const escaped = escapeNonAscii(JSON.stringify(value));
    expect([...escaped].filter((c) => c.charCodeAt(0) > 0x7f)).toEqual([]);
    expect(JSON.parse(escaped)).toEqual(value);
  });

  it('leaves ASCII text as it is', () => {
    const text = JSON.stringify({ a: 'b', n: 1, list: [true, null] });
    expect(escapeNonAscii(text)).toBe(text);
  });
});
