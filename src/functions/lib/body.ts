import type { HttpRequest } from '@azure/functions';
import * as E from 'fp-ts/Either';
import { type AppError, invalid } from '../../domain/errors';
import { illFormedPath, NOT_WELL_FORMED } from '../../domain/strings';

const tooLarge = (limitBytes: number): AppError => ({ kind: 'TooLarge', message: `The body is larger than ${limitBytes} bytes`, limitBytes });

/**
 * The body's bytes, at most `limitBytes`: a declared Content-Length over the limit is refused
 * before anything is read, and the stream is cancelled as soon as it grows past the limit, so an
 * oversized body is never buffered whole (the header may be absent or wrong).
 */
export const readBodyBytes = async (request: HttpRequest, limitBytes: number): Promise<E.Either<AppError, Buffer>> => {
  const declared = request.headers.get('content-length');
  if (declared !== null && /^[0-9]+$/.test(declared.trim()) && Number(declared.trim()) > limitBytes) return E.left(tooLarge(limitBytes));
  if (request.body === null) return E.right(Buffer.alloc(0));
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return E.right(Buffer.concat(chunks, size));
    size += value.byteLength;
    if (size > limitBytes) {
      await reader.cancel().catch(() => undefined);
      return E.left(tooLarge(limitBytes));
    }
    chunks.push(value);
  }
};

/** Reads a JSON body of at most `limitBytes` (see readBodyBytes). */
export const readJsonBody = async (request: HttpRequest, limitBytes: number): Promise<E.Either<AppError, unknown>> => {
  const read = await readBodyBytes(request, limitBytes);
  if (E.isLeft(read)) return read;
  const bytes = read.right;
  if (bytes.length === 0) return E.left(invalid('The body is invalid', ['(body): is required (a JSON object)']));
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return E.left(invalid('The body is invalid', ['(body): must be UTF-8 text']));
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    return E.left(invalid('The body is invalid', [`(body): is not valid JSON (${(e as Error).message})`]));
  }
  // JSON escapes can spell a lone surrogate (`"\ud800"`) that UTF-8 bytes cannot: refuse it anywhere.
  const illFormed = illFormedPath(parsed);
  return illFormed === undefined ? E.right(parsed) : E.left(invalid('The body is invalid', [`${illFormed}: ${NOT_WELL_FORMED}`]));
};
