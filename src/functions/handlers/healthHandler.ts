import type { HttpHandler } from '@azure/functions';
import type { HealthProbe } from '../../ports/healthProbe';
import { checkHealth } from '../../usecases/checkHealth';
import { json } from '../lib/responses';

/** GET /api/health: 200 when every storage service answers, 503 naming those that do not. */
export const healthHandler =
  (probes: readonly HealthProbe[]): HttpHandler =>
  async () => {
    const report = await checkHealth(probes);
    return report.status === 'ok'
      ? json(200, { status: 'ok', checks: report.checks })
      : json(503, { status: 'unavailable', message: `Not answering: ${report.down.join(', ')}`, checks: report.checks });
  };
