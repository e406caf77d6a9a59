/** Where generated ids and secrets get their randomness; tests pass a fixed source. */
export type RandomBytes = (size: number) => Uint8Array;
