import type { TableServiceClientOptions } from '@azure/data-tables';

type AdditionalPolicy = NonNullable<TableServiceClientOptions['additionalPolicies']>[number];

const NON_ASCII = /[\u0080-\uffff]/g;

/**
 * The same JSON in ASCII only: each UTF-16 code unit above 0x7f as a `\uXXXX` escape. Outside
 * string literals JSON holds no such character, so every JSON parser reads the same value back.
 */
export const escapeNonAscii = (json: string): string => json.replace(NON_ASCII, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);

/**
 * Table requests carry JSON (an entity, or a multipart batch of JSON parts whose other lines the
 * SDK percent-encodes). Azurite 3.35 decodes each received chunk of a body on its own
 * (Azure/Azurite#2670), so a multi-byte character cut by a chunk boundary is stored as U+FFFD: in
 * ASCII no character has more than one byte. Azure reads the escapes as it reads the characters.
 */
export const asciiRequestBodies: AdditionalPolicy = {
  position: 'perCall',
  policy: {
    name: 'asciiRequestBodies',
    sendRequest: (request, next) => {
      if (typeof request.body === 'string') request.body = escapeNonAscii(request.body);
      return next(request);
    },
  },
};
