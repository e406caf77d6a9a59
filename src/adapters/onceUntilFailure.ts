/**
 * Runs `create` on first use and shares its result; a failure is not kept, so the next use tries
 * again (a table or queue that could not be created during an outage is created once storage is back).
 */
export const onceUntilFailure = <A>(create: () => Promise<A>): (() => Promise<A>) => {
  let pending: Promise<A> | undefined;
  return () => {
    pending ??= create().catch((e: unknown) => {
      pending = undefined;
      throw e;
    });
    return pending;
  };
};
