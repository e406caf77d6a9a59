import type { HealthProbe } from '../ports/healthProbe';

export type HealthReport = {
  readonly status: 'ok' | 'unavailable';
  readonly checks: Readonly<Record<string, 'ok' | 'down'>>;
  /** The names of the dependencies that did not answer. */
  readonly down: readonly string[];
};

/** Asks every dependency at once; never fails (a dependency that does not answer is reported down). */
export const checkHealth = async (probes: readonly HealthProbe[]): Promise<HealthReport> => {
  const results = await Promise.all(
    probes.map(
      async (p) =>
        [
          p.name,
          await p.check().then(
            () => 'ok' as const,
            () => 'down' as const,
          ),
        ] as const,
    ),
  );
  const down = results.filter(([, r]) => r === 'down').map(([n]) => n);
  return { status: down.length === 0 ? 'ok' : 'unavailable', checks: Object.fromEntries(results), down };
};
