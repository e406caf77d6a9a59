import type { DispatcherUnderTest } from './dispatcherUnderTest';

export default async function globalTeardown(): Promise<void> {
  await (globalThis as { __dispatcherUnderTest?: DispatcherUnderTest }).__dispatcherUnderTest?.stop();
}
