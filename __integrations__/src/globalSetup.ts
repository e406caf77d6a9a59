import { type DispatcherUnderTest, NoContainerRuntimeError, startDispatcherUnderTest } from './dispatcherUnderTest';
import { decodeAgentSettings, orThrow } from './settings';

/**
 * Jest global setup: one dispatcher for the whole run (scenarios keep apart by registering their
 * own webhooks). Its address and keys reach the test files through the environment.
 */
export default async function globalSetup(): Promise<void> {
  const settings = orThrow(decodeAgentSettings(process.env));
  let dispatcher: DispatcherUnderTest;
  try {
    dispatcher = await startDispatcherUnderTest(settings, process.env);
  } catch (e) {
    if (e instanceof NoContainerRuntimeError) {
      // One line. A mode asked for by name fails when it cannot run (it must never read as passed);
      // the container mode, which `npm test` tries after the embedded one, is skipped alone, saying so.
      process.stderr.write(`\n${e.message}\n`);
      process.exit(e.skip ? 0 : 1);
    }
    throw e;
  }
  process.env.DISPATCHER_URL = dispatcher.settings.DISPATCHER_URL;
  process.env.INGEST_API_KEY = dispatcher.settings.INGEST_API_KEY;
  process.env.ADMIN_API_KEY = dispatcher.settings.ADMIN_API_KEY;
  process.stdout.write(`\nintegration agent (mode ${settings.INTEGRATION_MODE}): ${dispatcher.description}\n`);
  (globalThis as { __dispatcherUnderTest?: DispatcherUnderTest }).__dispatcherUnderTest = dispatcher;
}
