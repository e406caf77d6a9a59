import { ConfigError } from '../../config';
import type { HealthProbe } from '../../ports/healthProbe';
import { checkHealth } from '../../usecases/checkHealth';
import { type Handler, json } from '../lib/responses';
import type { HealthReport } from '../../domain/views';

/** GET /api/health: 200 when every storage service answers, 503 naming those that do not. */
export const healthHandler =
  (probes: readonly HealthProbe[]): Handler =>
  async () => {
    const report = await checkHealth(probes);
    return report.status === 'ok'
      ? json(200, { status: 'ok', checks: report.checks } satisfies HealthReport)
      : json(503, { status: 'unavailable', message: `Not answering: ${report.down.join(', ')}`, checks: report.checks } satisfies HealthReport);
  };

/** GET /api/health while the settings are bad: 503 with each problem (names and expectations, never values). */
export const misconfiguredHealthHandler =
  (error: ConfigError): Handler =>
  async () =>
    json(503, { status: 'unavailable', message: `Invalid settings: ${error.settings.join(', ')}`, checks: { settings: 'down' }, settings: error.problems } satisfies HealthReport);

/** The health route: builds nothing at load either; while the settings are bad it answers 503 naming them. */
export const healthRoute =
  (probes: () => readonly HealthProbe[]): Handler =>
  async (request, context) => {
    let handler: Handler;
    try {
      handler = healthHandler(probes());
    } catch (e) {
      if (!(e instanceof ConfigError)) throw e;
      handler = misconfiguredHealthHandler(e);
    }
    return handler(request, context);
  };
