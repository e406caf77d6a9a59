import { mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { startAzurite } from '../azurite';

/**
 * One in-memory Azurite for the whole test run, on free ports. Tests read its connection string
 * from TEST_STORAGE_CONNECTION_STRING and keep apart by using their own table and queue names.
 */
export default async function globalSetup(): Promise<void> {
  // Every test host's output lands here, for scanHostLogs.ts after the run (what must never be logged).
  const logDir = path.resolve(__dirname, '..', '..', 'test-output', 'host-logs');
  rmSync(logDir, { recursive: true, force: true });
  mkdirSync(logDir, { recursive: true });
  process.env.TEST_HOST_LOG_DIR = logDir;
  const azurite = await startAzurite({ inMemory: true });
  process.env.TEST_STORAGE_CONNECTION_STRING = azurite.connectionString;
  process.env.TEST_AZURITE_PORTS = JSON.stringify(azurite.ports);
  (globalThis as { __azurite?: { stop(): Promise<void> } }).__azurite = azurite;
}
