import { DefaultAzureCredential, ManagedIdentityCredential } from '@azure/identity';
import { credentialFor, queueClientFor, queueServiceClientFor, tableClientFor, tableServiceClientFor } from '../storageConnection';

/*
 * Identity-based storage builds clients on the account's public endpoints with a token credential (no
 * key); a connection string keeps working as before. No request is sent here.
 */

describe('storage clients from the app settings', () => {
  const identity = { accountName: 'webhooksprod' };

  it('an identity-based account: https endpoints of the account, no connection string', () => {
    expect(tableClientFor(identity, 'events').url).toBe('https://webhooksprod.table.core.windows.net');
    expect(tableServiceClientFor(identity).url).toBe('https://webhooksprod.table.core.windows.net');
    expect(queueClientFor(identity, 'deliveries').url).toBe('https://webhooksprod.queue.core.windows.net/deliveries');
    expect(queueServiceClientFor(identity).url).toBe('https://webhooksprod.queue.core.windows.net');
  });

  it('a managed identity when __credential says so (a user-assigned one with __clientId), else the default chain', () => {
    expect(credentialFor({ ...identity, credential: 'managedidentity' })).toBeInstanceOf(ManagedIdentityCredential);
    expect(credentialFor({ ...identity, credential: 'managedidentity', clientId: 'c1' })).toBeInstanceOf(ManagedIdentityCredential);
    expect(credentialFor(identity)).toBeInstanceOf(DefaultAzureCredential);
    // One credential per identity and process: tokens are cached by it.
    expect(credentialFor(identity)).toBe(credentialFor({ accountName: 'other' }));
  });

  it('a connection string (Azurite) keeps its own endpoints', () => {
    const azurite =
      'DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=eA==;TableEndpoint=http://127.0.0.1:10002/devstoreaccount1;QueueEndpoint=http://127.0.0.1:10001/devstoreaccount1;';
    expect(tableClientFor(azurite, 'events').url).toBe('http://127.0.0.1:10002/devstoreaccount1');
    expect(queueClientFor(azurite, 'deliveries').url).toBe('http://127.0.0.1:10001/devstoreaccount1/deliveries');
  });
});
