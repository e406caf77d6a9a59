import { createHash, timingSafeEqual } from 'node:crypto';
import type { HttpRequest } from '@azure/functions';
import * as E from 'fp-ts/Either';
import type { AppError } from '../../domain/errors';

const digest = (s: string): Buffer => createHash('sha256').update(s, 'utf8').digest();

/** Constant-time: both sides are hashed first, so neither the content nor the length leaks through timing. */
export const sameSecret = (given: string, expected: string): boolean => timingSafeEqual(digest(given), digest(expected));

const BEARER = /^Bearer[ \t]+(\S+)[ \t]*$/i;

/** The one bearer parser: the token of `Authorization: Bearer <token>`, or undefined when missing or malformed. */
export const bearerToken = (request: HttpRequest): string | undefined => BEARER.exec(request.headers.get('authorization') ?? '')?.[1];

export const UNAUTHORIZED: AppError = { kind: 'Unauthorized', message: 'A valid bearer key is required (Authorization: Bearer <key>)' };

/** Checks `Authorization: Bearer <key>`; the same answer for a missing, malformed or wrong key. */
export const requireBearer = (request: HttpRequest, key: string): E.Either<AppError, void> => {
  const token = bearerToken(request);
  return token !== undefined && sameSecret(token, key) ? E.right(undefined) : E.left(UNAUTHORIZED);
};
