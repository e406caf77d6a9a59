import * as E from 'fp-ts/Either';
import * as t from 'io-ts';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { SETTINGS } from '../../src/config';
import { isSecure, memberAt, objectMembers, params, resources, stringLiteral } from './bicepText';

/*
 * infra/main.parameters.example.json: a file operators copy. It must parse, name only parameters the
 * Bicep declares, carry no secret, and hold values the app accepts.
 */

const INFRA = path.join(__dirname, '..');
const bicep = readFileSync(path.join(INFRA, 'main.bicep'), 'utf8');
const declared = params(bicep);

type ParameterFile = { $schema: string; contentVersion: string; parameters: Record<string, { value?: unknown; reference?: unknown }> };
const example = JSON.parse(readFileSync(path.join(INFRA, 'main.parameters.example.json'), 'utf8')) as ParameterFile;

/** Which app setting each Bicep parameter feeds (`SETTING: param` in the appsettings resource). */
const settingOfParam = (): Map<string, string> => {
  const resource = resources(bicep).find((r) => r.type === 'Microsoft.Web/sites/config');
  const props = memberAt(bicep, resource?.open ?? -1, ['properties']);
  return new Map(objectMembers(bicep, props?.valueStart ?? -1).map((m) => [m.raw, m.key]));
};

describe('infra/main.parameters.example.json', () => {
  it('is an ARM deployment parameters file', () => {
    expect(example.$schema).toMatch(/deploymentParameters\.json#$/);
    expect(example.contentVersion).toBe('1.0.0.0');
  });

  it('names only parameters main.bicep declares, and every required one that is not a secret', () => {
    const names = Object.keys(example.parameters);
    expect(names.filter((n) => !declared.some((p) => p.name === n))).toEqual([]);
    const required = declared.filter((p) => p.defaultRaw === undefined && !isSecure(p)).map((p) => p.name);
    expect(required).toContain('appName');
    expect(required.filter((n) => !names.includes(n))).toEqual([]);
  });

  it('holds no secret: the @secure() parameters are left to the command line', () => {
    const secure = declared.filter(isSecure).map((p) => p.name);
    expect(secure.sort()).toEqual(['adminApiKey', 'ingestApiKey', 'opsWebhookSecret', 'secretsKey', 'secretsKeysPrevious', 'subjectHashKey']);
    expect(Object.keys(example.parameters).filter((n) => secure.includes(n) || /apikey|secret|password|connectionstring/i.test(n))).toEqual([]);
    expect(JSON.stringify(example)).not.toMatch(/AccountKey=|SharedAccessSignature|@Microsoft\.KeyVault|whsec_/i);
  });

  it('gives each app setting a value the config codec accepts', () => {
    const settings = settingOfParam();
    const checked = Object.entries(example.parameters).flatMap(([name, { value }]) => {
      const setting = settings.get(name);
      return setting === undefined ? [] : [{ setting, value }];
    });
    expect(checked.length).toBeGreaterThan(5);
    for (const { setting, value } of checked) {
      const codec: t.Decoder<unknown, unknown> | undefined = SETTINGS[setting as keyof typeof SETTINGS];
      expect({ setting, accepted: codec !== undefined && E.isRight(codec.decode(value)) }).toEqual({ setting, accepted: true });
    }
  });

  it('gives the other parameters values main.bicep allows', () => {
    const allowed = (name: string): string[] | undefined => {
      const decorator = declared.find((p) => p.name === name)?.decorators.find((d) => d.startsWith('@allowed('));
      return decorator?.match(/'[^']*'|\d+/g)?.map((v) => stringLiteral(v) ?? v);
    };
    expect(allowed('storageSku')).toContain('Standard_ZRS');
    for (const [name, { value }] of Object.entries(example.parameters)) {
      const values = allowed(name);
      if (values !== undefined) expect({ name, value: String(value) }).toEqual({ name, value: expect.stringMatching(new RegExp(`^(${values.join('|')})$`)) });
    }
  });
});
