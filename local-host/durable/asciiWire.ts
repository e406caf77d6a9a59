import type { TableServiceClientOptions } from '@azure/data-tables';

/*
 * Azurite 3.35 decodes each received chunk of a request body on its own (Azure/Azurite#2670): a
 * multi-byte UTF-8 character cut by a chunk boundary is stored as U+FFFD. The runner sends JSON
 * only, and JSON can say every character in ASCII, where no character spans two bytes.
 */

type AdditionalPolicy = NonNullable<TableServiceClientOptions['additionalPolicies']>[number];

/** The JSON text with each UTF-16 code unit above 0x7f written as `\uXXXX`: the same value. */
export const asciiJson = (json: string): string => json.replace(/[\u0080-\uffff]/g, (unit) => `\\u${unit.charCodeAt(0).toString(16).padStart(4, '0')}`);

/** Table request bodies (entities, or batches of JSON parts) in ASCII. */
export const asciiTableBodies: AdditionalPolicy = {
  position: 'perCall',
  policy: {
    name: 'asciiTableBodies',
    sendRequest: (request, next) => {
      if (typeof request.body === 'string') request.body = asciiJson(request.body);
      return next(request);
    },
  },
};
