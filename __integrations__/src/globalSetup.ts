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
      // One line, and a failed run: a mode that could not run must never read as passed.
      process.stderr.write(`\n${e.message}\n`);
      process.exit(1);
    }
    throw e;
  }
  process.env.DISPATCHER_URL = dispatcher.settings.DISPATCHER_URL;
  process.env.INGEST_API_KEY = dispatcher.settings.INGEST_API_KEY;
  process.env.ADMIN_API_KEY = dispatcher.settings.ADMIN_API_KEY;
  process.stdout.write(`\nintegration agent (mode ${settings.INTEGRATION_MODE}): ${dispatcher.description}\n`);
  (globalThis as { __dispatcherUnderTest?: DispatcherUnderTest }).__dispatcherUnderTest = dispatcher;
}
