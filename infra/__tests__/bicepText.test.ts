import { maskBicep, memberAt, objectMembers, params, resources, stringLiteral } from './bicepText';

const sample = `// resource commented 'Microsoft.Fake/things@2020-01-01' = {
@description('A key: with { braces } and a colon')
@secure()
param apiKey string

@allowed([
  'a'
  'b'
])
param letter string = 'a'

param count int = 3 // trailing comment

resource thing 'Microsoft.Web/sites/config@2024-11-01' = {
  name: 'appsettings'
  properties: {
    PLAIN: 'value with } brace and key: inside'
    /* BLOCK_COMMENTED: 'x' */
    INTERPOLATED: '\${a ? 'x}' : 'y'}-\${b}'
    NESTED: {
      INNER: 'deep'
    }
    LIST: [
      'one'
    ]
    FROM_PARAM: letter
  }
}
`;

describe('the Bicep reader used by the infra tests', () => {
  it('blanks comments and strings but keeps every index and newline', () => {
    const masked = maskBicep(sample);
    expect(masked.length).toBe(sample.length);
    expect(masked.split('\n').length).toBe(sample.split('\n').length);
    expect(masked).not.toContain('braces');
    expect(masked).not.toContain('BLOCK_COMMENTED');
    expect(masked).not.toContain('Microsoft.Fake');
  });

  it('finds resources in code only, with their type and API version', () => {
    expect(resources(sample).map((r) => `${r.symbol} ${r.type}@${r.apiVersion}`)).toEqual(['thing Microsoft.Web/sites/config@2024-11-01']);
  });

  it('lists the keys of one object level, skipping nested values, comments and strings', () => {
    const thing = resources(sample)[0];
    const props = memberAt(sample, thing?.open ?? -1, ['properties']);
    expect(objectMembers(sample, props?.valueStart ?? -1).map((m) => [m.key, m.raw.split('\n')[0]])).toEqual([
      ['PLAIN', "'value with } brace and key: inside'"],
      ['INTERPOLATED', "'${a ? 'x}' : 'y'}-${b}'"],
      ['NESTED', '{'],
      ['LIST', '['],
      ['FROM_PARAM', 'letter'],
    ]);
    expect(memberAt(sample, thing?.open ?? -1, ['properties', 'NESTED', 'INNER'])?.raw).toBe("'deep'");
    expect(memberAt(sample, thing?.open ?? -1, ['properties', 'MISSING'])).toBeUndefined();
  });

  it('reads params with their decorators and defaults', () => {
    expect(params(sample)).toEqual([
      { name: 'apiKey', type: 'string', defaultRaw: undefined, decorators: ["@description('A key: with { braces } and a colon')", '@secure()'] },
      { name: 'letter', type: 'string', defaultRaw: "'a'", decorators: ["@allowed([\n  'a'\n  'b'\n])"] },
      { name: 'count', type: 'int', defaultRaw: '3 // trailing comment', decorators: [] },
    ]);
  });

  it('reads plain string literals and nothing else as strings', () => {
    expect(stringLiteral("'it\\'s'")).toBe("it's");
    expect(stringLiteral("'a-${b}'")).toBeUndefined();
    expect(stringLiteral('letter')).toBeUndefined();
  });

  it('fails loudly on text it cannot read', () => {
    expect(() => maskBicep("param x string = 'open")).toThrow(/unterminated string/);
    expect(() => maskBicep('/* open')).toThrow(/unterminated comment/);
  });
});
