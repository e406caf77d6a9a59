/** One dependency the health check asks; `check` rejects when it does not answer. */
export type HealthProbe = { readonly name: string; readonly check: () => Promise<void> };
