import * as E from 'fp-ts/Either';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { DEFAULTS, SETTINGS, decodeConfig } from '../../src/config';
import { parse as parseYaml } from 'yaml';
import { TEST_SECRETS_KEY } from '../../src/domain/__tests__/fixtures';
import { isSecure, maskBicep, memberAt, objectMembers, params, resources, stringLiteral } from './bicepText';
import { registeredFunctions, settingReferences } from './registrations';

/*
 * infra/main.bicep against the config codec (src/config.ts): every setting the app decodes is set,
 * nothing else is (besides the platform's own), and the deployed defaults are the app's defaults.
 */

const BICEP_PATH = path.join(__dirname, '..', 'main.bicep');
const bicep = readFileSync(BICEP_PATH, 'utf8');

/** Settings the platform reads, not the app: allowed in the Bicep though the codec does not know them. */
const PLATFORM_SETTINGS = ['APPLICATIONINSIGHTS_CONNECTION_STRING'];

type SettingName = keyof typeof SETTINGS;
const codecSettings = Object.keys(SETTINGS) as SettingName[];
const isCodecSetting = (name: string): name is SettingName => Object.prototype.hasOwnProperty.call(SETTINGS, name);

/** The `properties` members of the Function App's appsettings resource. */
const appSettingsOf = (text: string) => {
  const resource = resources(text).find((r) => r.type === 'Microsoft.Web/sites/config' && stringLiteral(memberAt(text, r.open, ['name'])?.raw ?? '') === 'appsettings');
  if (resource === undefined) throw new Error('no Microsoft.Web/sites/config appsettings resource');
  const props = memberAt(text, resource.open, ['properties']);
  if (props === undefined || !props.raw.startsWith('{')) throw new Error('the appsettings resource has no properties object');
  return objectMembers(text, props.valueStart);
};

/** The storage connection may be identity-based: `AzureWebJobsStorage__accountName` and its siblings stand for it. */
const IDENTITY_STORAGE = /^AzureWebJobsStorage__(accountName|credential|clientId)$/;

/** What the drift check reports; both lists empty when the Bicep and the codec agree. */
const settingsDrift = (text: string): { missing: string[]; unknown: string[] } => {
  const names = appSettingsOf(text).map((m) => m.key);
  return {
    missing: codecSettings.filter((name) => !names.includes(name) && !names.includes(`${name}__accountName`)),
    unknown: names.filter((name) => !isCodecSetting(name) && !PLATFORM_SETTINGS.includes(name) && !IDENTITY_STORAGE.test(name)),
  };
};

const setting = (name: string) => {
  const found = appSettingsOf(bicep).find((m) => m.key === name);
  if (found === undefined) throw new Error(`${name} is not set`);
  return found;
};

describe('infra/main.bicep app settings', () => {
  it('sets every setting the config codec decodes, and nothing the app and platform do not read', () => {
    expect(settingsDrift(bicep)).toEqual({ missing: [], unknown: [] });
  });

  it('sets every required setting without a default', () => {
    const required = codecSettings.filter((name) => DEFAULTS[name] === undefined);
    // The codec's own list, not a copy: these three today.
    expect(required).toEqual(expect.arrayContaining(['AzureWebJobsStorage', 'INGEST_API_KEY', 'ADMIN_API_KEY', 'SUBJECT_HASH_KEY']));
    const names = appSettingsOf(bicep).map((m) => m.key);
    expect(required.filter((name) => !names.includes(name) && !names.includes(`${name}__accountName`))).toEqual([]);
  });

  it('reports a setting the Bicep drops and one the codec does not know', () => {
    const dropped = bicep.replace(/^\s*MAX_RESPONSE_BYTES:.*\n/m, '');
    expect(dropped).not.toEqual(bicep);
    expect(settingsDrift(dropped)).toEqual({ missing: ['MAX_RESPONSE_BYTES'], unknown: [] });
    const added = bicep.replace(/^(\s*)MAX_RESPONSE_BYTES:/m, "$1MAX_RESPONSE_SIZE: '1'\n$1MAX_RESPONSE_BYTES:");
    expect(settingsDrift(added)).toEqual({ missing: [], unknown: ['MAX_RESPONSE_SIZE'] });
  });

  it('takes each tunable setting from a parameter whose default is the app default', () => {
    const declared = params(bicep);
    const fromParams = appSettingsOf(bicep).filter((m) => declared.some((p) => p.name === m.raw));
    expect(fromParams.length).toBeGreaterThan(5);
    for (const member of fromParams) {
      const param = declared.find((p) => p.name === member.raw);
      const value = stringLiteral(param?.defaultRaw ?? '');
      expect({ setting: member.key, param: param?.type, default: value }).toEqual({
        setting: member.key,
        param: 'string',
        default: isCodecSetting(member.key) ? DEFAULTS[member.key] : 'a codec setting',
      });
    }
    // Every codec setting with a default is tunable this way, except those production pins and the old secrets keys (Key Vault).
    const tunable = codecSettings.filter((name) => DEFAULTS[name] !== undefined && !['ALLOW_PRIVATE_DESTINATIONS', 'DEVELOPMENT_MODE', 'SECRETS_KEYS_PREVIOUS', 'OPS_WEBHOOK_SECRET'].includes(name));
    expect(fromParams.map((m) => m.key).sort()).toEqual([...tunable].sort());
  });

  it('pins ALLOW_PRIVATE_DESTINATIONS and DEVELOPMENT_MODE to false in production', () => {
    expect(stringLiteral(setting('ALLOW_PRIVATE_DESTINATIONS').raw)).toBe('false');
    expect(stringLiteral(setting('DEVELOPMENT_MODE').raw)).toBe('false');
  });

  it('reads the older secrets keys from a Key Vault secret only when some are given', () => {
    expect(setting('SECRETS_KEYS_PREVIOUS').raw).toBe("empty(secretsKeysPrevious) ? '' : '@Microsoft.KeyVault(SecretUri=${secretsKeysPreviousSecret.properties.secretUri})'");
    const param = params(bicep).find((p) => p.name === 'secretsKeysPrevious');
    expect(param !== undefined && isSecure(param)).toBe(true);
  });

  it('reads the ops webhook secret from a Key Vault secret only when one is given', () => {
    expect(setting('OPS_WEBHOOK_SECRET').raw).toBe("empty(opsWebhookSecret) ? '' : '@Microsoft.KeyVault(SecretUri=${opsWebhookSecretSecret.properties.secretUri})'");
    const param = params(bicep).find((p) => p.name === 'opsWebhookSecret');
    expect(param !== undefined && isSecure(param)).toBe(true);
  });

  it('sends alerts on poison growth and the failure rate to an action group whose e-mail is a parameter', () => {
    const all = resources(bicep);
    const group = all.find((r) => r.type === 'Microsoft.Insights/actionGroups');
    expect(memberAt(bicep, group?.open ?? -1, ['properties', 'emailReceivers'])?.raw).toContain('emailAddress: alertEmail');
    const rules = all.filter((r) => r.type === 'Microsoft.Insights/scheduledQueryRules');
    expect(rules.map((r) => r.symbol).sort()).toEqual(['failureRateAlert', 'poisonAlert']);
    for (const rule of rules) expect(memberAt(bicep, rule.open, ['properties', 'actions', 'actionGroups'])?.raw).toContain('alertGroup.id');
    expect(params(bicep).find((p) => p.name === 'alertEmail')?.type).toBe('string');
  });

  it('reads both API keys, the secrets key and the subject hash key from Key Vault secrets filled from @secure() parameters', () => {
    const all = resources(bicep);
    for (const [name, symbol] of [
      ['INGEST_API_KEY', 'ingestKeySecret'],
      ['ADMIN_API_KEY', 'adminKeySecret'],
      ['SECRETS_KEY', 'secretsKeySecret'],
      ['SUBJECT_HASH_KEY', 'subjectHashKeySecret'],
    ] as const) {
      expect(setting(name).raw).toBe(`'@Microsoft.KeyVault(SecretUri=\${${symbol}.properties.secretUri})'`);
      const secret = all.find((r) => r.symbol === symbol);
      expect(secret?.type).toBe('Microsoft.KeyVault/vaults/secrets');
      const source = memberAt(bicep, secret?.open ?? -1, ['properties', 'value'])?.raw;
      const param = params(bicep).find((p) => p.name === source);
      expect({ name: param?.name, secure: param !== undefined && isSecure(param), hasDefault: param?.defaultRaw !== undefined }).toEqual({ name: source, secure: true, hasDefault: false });
    }
  });

  it('connects to storage by the app identity: account name, no key anywhere, shared key access off', () => {
    expect({ account: setting('AzureWebJobsStorage__accountName').raw, credential: stringLiteral(setting('AzureWebJobsStorage__credential').raw) }).toEqual({
      account: 'storage.name',
      credential: 'managedidentity',
    });
    expect(appSettingsOf(bicep).map((m) => m.key)).not.toContain('AzureWebJobsStorage');
    expect(maskBicep(bicep)).not.toMatch(/listKeys\(/);
    const account = resources(bicep).find((r) => r.type === 'Microsoft.Storage/storageAccounts');
    expect(memberAt(bicep, account?.open ?? -1, ['properties', 'allowSharedKeyAccess'])?.raw).toBe('false');
  });

  it('grants the app identity the blob, queue and table data roles on its storage account, before the settings', () => {
    const roleIds: Record<string, string> = {
      'b7e6dc6d-f1e8-4753-8033-0f276bb0955b': 'Storage Blob Data Owner',
      '974c5e8b-45b9-4653-ba55-5f855dd0fb88': 'Storage Queue Data Contributor',
      '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3': 'Storage Table Data Contributor',
    };
    const vars = Object.fromEntries([...bicep.matchAll(/^var\s+(\w+)\s*=\s*'([^']*)'/gm)].map((m) => [m[1], m[2]]));
    const onStorage = resources(bicep)
      .filter((r) => r.type === 'Microsoft.Authorization/roleAssignments' && memberAt(bicep, r.open, ['scope'])?.raw === 'storage')
      .map((r) => ({
        role: roleIds[vars[/roleDefinitions',\s*(\w+)\)/.exec(memberAt(bicep, r.open, ['properties', 'roleDefinitionId'])?.raw ?? '')?.[1] ?? ''] ?? ''],
        principal: memberAt(bicep, r.open, ['properties', 'principalId'])?.raw,
        symbol: r.symbol,
      }));
    expect(onStorage.map(({ role, principal }) => ({ role, principal })).sort((a, b) => String(a.role).localeCompare(String(b.role)))).toEqual(
      Object.values(roleIds)
        .sort()
        .map((role) => ({ role, principal: 'functionApp.identity.principalId' })),
    );
    const settingsResource = resources(bicep).find((r) => r.type === 'Microsoft.Web/sites/config');
    const dependsOn = memberAt(bicep, settingsResource?.open ?? -1, ['dependsOn'])?.raw ?? '';
    for (const { symbol } of onStorage) expect(dependsOn).toContain(symbol);
  });

  it('runs Node 22 on Functions v4 in a Flex Consumption plan on Linux', () => {
    const all = resources(bicep);
    const site = all.find((r) => r.type === 'Microsoft.Web/sites');
    const plan = all.find((r) => r.type === 'Microsoft.Web/serverfarms');
    const at = (open: number | undefined, keys: string[]) => stringLiteral(memberAt(bicep, open ?? -1, keys)?.raw ?? '');
    expect({
      runtime: at(site?.open, ['properties', 'functionAppConfig', 'runtime', 'name']),
      version: at(site?.open, ['properties', 'functionAppConfig', 'runtime', 'version']),
      kind: at(site?.open, ['kind']),
      sku: at(plan?.open, ['sku', 'name']),
      tier: at(plan?.open, ['sku', 'tier']),
      linux: memberAt(bicep, plan?.open ?? -1, ['properties', 'reserved'])?.raw.replace(/\s*\/\/.*$/, ''),
    }).toEqual({ runtime: 'node', version: '22', kind: 'functionapp,linux', sku: 'FC1', tier: 'FlexConsumption', linux: 'true' });
  });

  it('uses released (not preview) API versions', () => {
    const all = resources(bicep);
    expect(all.length).toBeGreaterThanOrEqual(10);
    expect(all.filter((r) => !/^\d{4}-\d{2}-\d{2}$/.test(r.apiVersion)).map((r) => `${r.type}@${r.apiVersion}`)).toEqual([]);
  });
});

describe('a Key Vault reference the platform could not resolve', () => {
  const base = {
    AzureWebJobsStorage: 'UseDevelopmentStorage=true',
    INGEST_API_KEY: 'ingest-key-0123456789-abcdefghijklmnop',
    ADMIN_API_KEY: 'admin-key-0123456789ab-abcdefghijklmnop',
    SECRETS_KEY: TEST_SECRETS_KEY,
    SUBJECT_HASH_KEY: 'subject-hash-key-0123456789abcdefghij',
  };
  const unresolved = '@Microsoft.KeyVault(SecretUri=https://kv-x.vault.azure.net/secrets/ingest-api-key)';

  it.each(['INGEST_API_KEY', 'ADMIN_API_KEY', 'AzureWebJobsStorage', 'SECRETS_KEY', 'SECRETS_KEYS_PREVIOUS', 'SUBJECT_HASH_KEY'])('is refused as %s, naming the setting', (name) => {
    const decoded = decodeConfig({ ...base, [name]: unresolved });
    expect(E.isLeft(decoded) && decoded.left.problems).toEqual([expect.stringMatching(new RegExp(`^${name}: is a Key Vault reference the platform could not resolve`))]);
  });

  it('leaves resolved values alone', () => {
    expect(E.isRight(decodeConfig(base))).toBe(true);
  });
});

/*
 * Settings parity: the real Functions host resolves `%NAME%` (host.json, binding properties) and the
 * `connection` a binding names from app settings only; the app's own defaults are invisible to it. So
 * every way of running (the example settings, compose, Bicep) must provide each of them, and each
 * setting the config codec requires. Read from the code, so a setting added later is covered too.
 */
describe('settings parity across local.settings.json.example, docker-compose.yml and infra/main.bicep', () => {
  const root = path.join(__dirname, '..', '..');
  const hostJson: unknown = JSON.parse(readFileSync(path.join(root, 'host.json'), 'utf8'));
  const functions = registeredFunctions();
  const bindings = functions.flatMap((f) => Object.values(f.bindings));

  /** What the app needs from its app settings, each with where the need comes from. */
  const needed = (): Map<string, string> => {
    const needs = new Map<string, string>();
    const need = (name: string, why: string): void => {
      if (!needs.has(name)) needs.set(name, why);
    };
    for (const name of settingReferences(hostJson)) need(name, 'host.json');
    for (const f of functions) for (const name of settingReferences(f.bindings)) need(name, `binding of ${f.name}`);
    for (const b of bindings) if (typeof b.connection === 'string') need(b.connection, `connection of a ${String(b.type)} binding`);
    for (const name of codecSettings.filter((n) => DEFAULTS[n] === undefined)) need(name, 'src/config.ts (no default)');
    return needs;
  };

  /** The names a source lacks, with why each is needed; a connection may also be given identity-based. */
  const lacking = (provided: readonly string[]): string[] =>
    [...needed()].filter(([name]) => !provided.includes(name) && !provided.includes(`${name}__accountName`)).map(([name, why]) => `${name} (${why})`);

  const exampleSettings = (): string[] => Object.keys((JSON.parse(readFileSync(path.join(root, 'local.settings.json.example'), 'utf8')) as { Values: object }).Values);
  const composeAppSettings = (text: string): string[] => {
    const compose = parseYaml(text, { merge: true }) as { services?: { app?: { environment?: Record<string, unknown> } } };
    return Object.keys(compose.services?.app?.environment ?? {});
  };
  const composeText = readFileSync(path.join(root, 'docker-compose.yml'), 'utf8');

  it('finds the %NAME% references of host.json and of the queue triggers', () => {
    expect(functions.map((f) => f.name)).toEqual(expect.arrayContaining(['deliver', 'ingestEvent', 'health']));
    expect([...needed().keys()]).toEqual(expect.arrayContaining(['DURABLE_TASK_HUB', 'DELIVERIES_QUEUE', 'AzureWebJobsStorage', 'INGEST_API_KEY', 'ADMIN_API_KEY']));
  });

  it('local.settings.json.example provides every one', () => {
    expect(lacking(exampleSettings())).toEqual([]);
  });

  it('the compose app service provides every one', () => {
    expect(lacking(composeAppSettings(composeText))).toEqual([]);
  });

  it('infra/main.bicep provides every one', () => {
    expect(lacking(appSettingsOf(bicep).map((m) => m.key))).toEqual([]);
  });

  it('runs the compose app on the Node major production runs', () => {
    const site = resources(bicep).find((r) => r.type === 'Microsoft.Web/sites');
    const production = stringLiteral(memberAt(bicep, site?.open ?? -1, ['properties', 'functionAppConfig', 'runtime', 'version'])?.raw ?? '');
    const dockerfile = readFileSync(path.join(root, 'Dockerfile'), 'utf8');
    const appImage = /^FROM\s+mcr\.microsoft\.com\/azure-functions\/node:4-node(\d+)\S*\s+AS\s+app$/m.exec(dockerfile)?.[1];
    const buildImages = [...dockerfile.matchAll(/^FROM\s+node:(\d+)\S*/gm)].map((m) => m[1]);
    expect({ appImage, buildImages: [...new Set(buildImages)] }).toEqual({ appImage: production, buildImages: [production] });
  });

  it('reports a compose file without the settings host.json and the queue triggers name', () => {
    const dropped = composeText.replace(/^\s*(DURABLE_TASK_HUB|DELIVERIES_QUEUE):.*\n/gm, '');
    expect(lacking(composeAppSettings(dropped))).toEqual(['DURABLE_TASK_HUB (host.json)', 'DELIVERIES_QUEUE (binding of deliver)']);
  });
});
