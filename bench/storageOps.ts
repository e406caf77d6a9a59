/*
 * Names the storage operation behind one REST request (as Azure's billing and logs name them), so the
 * counting proxy can say where the transactions go. Pure: method + URL (+ the start of a batch body).
 */

export type Service = 'blob' | 'queue' | 'table';

/** How Azure prices an operation (see pricing.ts); deletes of table entities are free. */
export type BillingClass = 'queue' | 'tableWrite' | 'tableBatchWrite' | 'tableRead' | 'tableScan' | 'tableList' | 'tableDelete' | 'blobWrite' | 'blobRead' | 'blobOther';

export type StorageOp = { readonly service: Service; readonly operation: string; readonly resource: string; readonly billing: BillingClass };

const queueOp = (method: string, parts: readonly string[], query: URLSearchParams): { operation: string; resource: string } => {
  const [queue, sub, messageId] = parts;
  const comp = query.get('comp');
  if (queue === undefined || queue === '') return { operation: comp === 'list' ? 'ListQueues' : `Account${method}`, resource: '(account)' };
  if (sub === 'messages') {
    if (messageId !== undefined) return { operation: method === 'DELETE' ? 'DeleteMessage' : method === 'PUT' ? 'UpdateMessage' : `Message${method}`, resource: queue };
    if (method === 'POST') return { operation: 'PutMessage', resource: queue };
    if (method === 'DELETE') return { operation: 'ClearMessages', resource: queue };
    return { operation: query.get('peekonly') === 'true' ? 'PeekMessages' : 'GetMessages', resource: queue };
  }
  if (comp === 'metadata') return { operation: method === 'PUT' ? 'SetQueueMetadata' : 'GetQueueMetadata', resource: queue };
  return { operation: method === 'PUT' ? 'CreateQueue' : method === 'DELETE' ? 'DeleteQueue' : `Queue${method}`, resource: queue };
};

const ENTITY = /^([A-Za-z][A-Za-z0-9]*)\((.*)\)$/;
/** The first request line of a batch names its table: `PUT http://host/account/Table(PartitionKey=...` */
const BATCH_TABLE = /\b(?:POST|PUT|MERGE|PATCH|DELETE|GET) \S*?\/([A-Za-z][A-Za-z0-9]*)(?:\(|\s|\?)/;

const tableOp = (method: string, parts: readonly string[], batchHead: string): { operation: string; resource: string; billing: BillingClass } => {
  const [first = ''] = parts;
  const name = decodeURIComponent(first);
  if (name === '$batch') return { operation: 'EntityGroupTransaction', resource: BATCH_TABLE.exec(batchHead)?.[1] ?? '(batch)', billing: 'tableBatchWrite' };
  if (name === 'Tables' || name.startsWith('Tables(')) {
    if (method === 'GET') return { operation: 'QueryTables', resource: '(tables)', billing: 'tableList' };
    return { operation: method === 'POST' ? 'CreateTable' : method === 'DELETE' ? 'DeleteTable' : `Tables${method}`, resource: '(tables)', billing: 'tableWrite' };
  }
  const entity = ENTITY.exec(name);
  if (entity !== null) {
    const table = entity[1] as string;
    const keys = entity[2] ?? '';
    if (method === 'GET') return keys.includes('RowKey') ? { operation: 'GetEntity', resource: table, billing: 'tableRead' } : { operation: 'QueryEntities', resource: table, billing: 'tableScan' };
    if (method === 'DELETE') return { operation: 'DeleteEntity', resource: table, billing: 'tableDelete' };
    return { operation: method === 'PUT' ? 'UpdateEntity' : 'MergeEntity', resource: table, billing: 'tableWrite' };
  }
  if (method === 'GET') return { operation: 'QueryEntities', resource: name, billing: 'tableScan' };
  return { operation: method === 'POST' ? 'InsertEntity' : `Table${method}`, resource: name, billing: 'tableWrite' };
};

/** Classifies one request; `url` is the request target (`/account/...?query`). */
export const classify = (input: { service: Service; method: string; url: string; batchHead?: string }): StorageOp => {
  const parsed = new URL(input.url, 'http://proxy.invalid');
  // Path style: /<account>/<resource>/...
  const parts = parsed.pathname.split('/').slice(2);
  const method = input.method.toUpperCase();
  switch (input.service) {
    case 'queue':
      return { service: 'queue', ...queueOp(method, parts, parsed.searchParams), billing: 'queue' };
    case 'table':
      return { service: 'table', ...tableOp(method, parts, input.batchHead ?? '') };
    case 'blob': {
      const comp = parsed.searchParams.get('comp');
      const operation = `${method}${comp ? `?comp=${comp}` : ''}`;
      const billing: BillingClass = method === 'PUT' ? 'blobWrite' : method === 'GET' || method === 'HEAD' ? 'blobRead' : 'blobOther';
      return { service: 'blob', operation, resource: parts[0] ?? '(account)', billing };
    }
  }
};

/** One counter per (service, operation, resource); `errors` counts answers >= 400 (Azure bills most of them too). */
export type OpCount = StorageOp & { count: number; errors: number };

export const opKey = (op: StorageOp): string => `${op.service}|${op.operation}|${op.resource}`;

/** The difference of two snapshots of the counters: what happened in between. */
export const diffCounts = (before: readonly OpCount[], after: readonly OpCount[]): OpCount[] => {
  const old = new Map(before.map((c) => [opKey(c), c]));
  return after.map((c) => ({ ...c, count: c.count - (old.get(opKey(c))?.count ?? 0), errors: c.errors - (old.get(opKey(c))?.errors ?? 0) })).filter((c) => c.count > 0);
};

export const total = (counts: readonly OpCount[], predicate: (c: OpCount) => boolean = () => true): number => counts.filter(predicate).reduce((n, c) => n + c.count, 0);
