import type { HttpRequest } from '@azure/functions';
import * as E from 'fp-ts/Either';
import { type AppError, invalid } from '../../domain/errors';

const tooLarge = (limitBytes: number): AppError => ({ kind: 'TooLarge', message: `The body is larger than ${limitBytes} bytes`, limitBytes });

/**
 * Reads a JSON body of at most `limitBytes`. Content-Length is checked first, so an honest client
 * learns early; the bytes are counted too, because the header may be absent or wrong.
 */
export const readJsonBody = async (request: HttpRequest, limitBytes: number): Promise<E.Either<AppError, unknown>> => {
  const declared = request.headers.get('content-length');
  if (declared !== null && /^[0-9]+$/.test(declared.trim()) && Number(declared.trim()) > limitBytes) return E.left(tooLarge(limitBytes));
  const bytes = Buffer.from(await request.arrayBuffer());
  if (bytes.length > limitBytes) return E.left(tooLarge(limitBytes));
  if (bytes.length === 0) return E.left(invalid('The body is invalid', ['(body): is required (a JSON object)']));
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return E.left(invalid('The body is invalid', ['(body): must be UTF-8 text']));
  }
  try {
    return E.right(JSON.parse(text));
  } catch (e) {
    return E.left(invalid('The body is invalid', [`(body): is not valid JSON (${(e as Error).message})`]));
  }
};
