/**
 * Every failure the use cases report. The HTTP edge maps them to status codes in one place
 * (src/functions/lib/responses.ts), with an exhaustive switch.
 */
export type AppError =
  /** The input breaks a rule; `details` holds one readable message per problem. */
  | { readonly kind: 'Invalid'; readonly message: string; readonly details: readonly string[] }
  | { readonly kind: 'Unauthorized'; readonly message: string }
  /** The caller is known but may not do this (a tenant naming a routing value it holds no grant for). */
  | { readonly kind: 'Forbidden'; readonly message: string }
  | { readonly kind: 'NotFound'; readonly message: string }
  /** The request contradicts what is stored (an event id reused with another body). */
  | { readonly kind: 'Conflict'; readonly message: string }
  | { readonly kind: 'TooLarge'; readonly message: string; readonly limitBytes: number }
  /** Storage or another dependency cannot answer now; the same request may succeed later. */
  | { readonly kind: 'Transient'; readonly message: string }
  /** Something that retrying will not fix (a bug, or storage refusing a well-formed request). */
  | { readonly kind: 'Permanent'; readonly message: string };

export type AppErrorKind = AppError['kind'];

export const invalid = (message: string, details: readonly string[] = []): AppError => ({ kind: 'Invalid', message, details });
export const forbidden = (message: string): AppError => ({ kind: 'Forbidden', message });
export const notFound = (message: string): AppError => ({ kind: 'NotFound', message });
export const conflict = (message: string): AppError => ({ kind: 'Conflict', message });
export const transient = (message: string): AppError => ({ kind: 'Transient', message });
export const permanent = (message: string): AppError => ({ kind: 'Permanent', message });
