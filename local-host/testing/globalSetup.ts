import { startAzurite } from '../azurite';

/**
 * One in-memory Azurite for the whole test run, on free ports. Tests read its connection string
 * from TEST_STORAGE_CONNECTION_STRING and keep apart by using their own table and queue names.
 */
export default async function globalSetup(): Promise<void> {
  const azurite = await startAzurite({ inMemory: true });
  process.env.TEST_STORAGE_CONNECTION_STRING = azurite.connectionString;
  process.env.TEST_AZURITE_PORTS = JSON.stringify(azurite.ports);
  (globalThis as { __azurite?: { stop(): Promise<void> } }).__azurite = azurite;
}
