import type { HttpRequest, InvocationContext } from '@azure/functions';
import { ConfigError } from '../../config';
import { type Handler, json } from './responses';

/*
 * Registration never depends on valid settings: a function file that threw at load would vanish from
 * the host (a bad setting in every file took the whole app down, health included). Each function builds
 * what it needs on its first invocation instead; while the settings are bad, HTTP functions answer 503
 * naming the settings (never their values) and triggers throw, so their messages come back later.
 */

/** Builds once on success; a ConfigError is rethrown on every call (App Service restarts the app on a settings change). */
const once = <A>(build: () => A): (() => A) => {
  let built: { value: A } | undefined;
  return () => {
    if (built === undefined) built = { value: build() };
    return built.value;
  };
};

/** The answer of an HTTP function while the settings are bad: 503, the setting names, and where to look. */
export const misconfigured = (error: ConfigError) =>
  json(503, { error: 'Transient', message: `The app's settings are invalid (${error.settings.join(', ')}); GET /api/health names the problems` }, { 'retry-after': '30' });

/** An HTTP handler built from the settings on first use; 503 while they are bad. */
export const configuredHttp = (build: () => Handler): Handler => {
  const handler = once(build);
  return async (request: HttpRequest, context: InvocationContext) => {
    let built: Handler;
    try {
      built = handler();
    } catch (e) {
      if (e instanceof ConfigError) {
        context.warn(e.message);
        return misconfigured(e);
      }
      throw e;
    }
    return built(request, context);
  };
};

/** A trigger handler (queue, activity, timer) built on first use; while the settings are bad it throws, and the host retries. */
export const configuredTrigger = <I, O>(build: () => (input: I, context: InvocationContext) => Promise<O>): ((input: I, context: InvocationContext) => Promise<O>) => {
  const handler = once(build);
  return async (input, context) => handler()(input, context);
};
