import { recordedEnvironment } from '../evidence';

describe("a result's record of the host's environment", () => {
  const recorded = recordedEnvironment({
    PATH: '/home/someone/bin:/usr/bin',
    HOME: '/home/someone',
    TMPDIR: '/tmp/someone',
    TZ: 'UTC',
    ADMIN_API_KEY: 'a-secret-admin-key-of-32-characters!',
    AzureWebJobsStorage: 'DefaultEndpointsProtocol=http;AccountKey=abc',
    RETRY_SCHEDULE_SECONDS: '1,1,1',
  });

  it("names the machine's paths without their values (a committed result carries no local path)", () => {
    expect(recorded).toMatchObject({ PATH: '(inherited from the shell)', HOME: '(inherited from the shell)', TMPDIR: '(inherited from the shell)' });
    expect(JSON.stringify(recorded)).not.toMatch(/someone/);
  });

  it('names keys and connection strings only, and keeps plain settings as they are', () => {
    expect(recorded).toMatchObject({ ADMIN_API_KEY: '(set)', AzureWebJobsStorage: '(set)', TZ: 'UTC', RETRY_SCHEDULE_SECONDS: '1,1,1' });
  });
});
