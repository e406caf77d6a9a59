import { odata, type TableClient, type TableEntityResult, type TransactionAction } from '@azure/data-tables';
import * as E from 'fp-ts/Either';
import { pipe } from 'fp-ts/function';
import * as TE from 'fp-ts/TaskEither';
import * as t from 'io-ts';
import { formatValidationErrors } from '../../domain/decodeErrors';
import { repairedText } from '../../domain/strings';
import { type AppError, conflict, invalid, notFound, permanent } from '../../domain/errors';
import type { RoutingGrants } from '../../domain/routingGrants';
import { type KeyHash, Tenant, type TenantId } from '../../domain/tenant';
import type { TenantPage, TenantStore } from '../../ports/tenantStore';
import { statusOf, storageError } from './storageErrors';
import { type EnsuredTable, queryUpTo } from './tables';

/*
 * Tenants live in the registry table (WEBHOOKS_TABLE), in their own partition, so no new setting or
 * table is needed and the webhook rows are untouched. Per tenant: `tenant|<id>` (name, key hash,
 * times) and `key|<sha256 hex>` (the tenant id): authenticating a request is one point read of the
 * key row. Both change in one transaction, so a rotated or revoked key stops at once.
 */

export const TENANT_PARTITION = 'tenants';
const TENANT_PREFIX = 'tenant|';
const TENANT_END = 'tenant}';
const KEY_PREFIX = 'key|';
const KEY_END = 'key}';
const MAX_WRITE_ATTEMPTS = 5;

const RowCodec = t.type({ tenantId: t.string, name: t.string, keyHash: t.string, keyCreatedAt: t.string, createdAt: t.string });

/*
 * Routing grants are JSON in `routing0`, `routing1`, ...: a string property holds at most 64 KiB
 * (32 K UTF-16 characters) and MAX_ROUTING_GRANTS_CHARS fits in nine such parts, well inside the
 * 1 MiB entity. No `routing0` = a tenant stored before grants (not yet migrated).
 */
const ROUTING_PART_CHARS = 30_000;
const routingColumns = (routing: RoutingGrants | undefined): Record<string, string> => {
  if (routing === undefined) return {};
  const json = JSON.stringify(routing);
  const columns: Record<string, string> = {};
  for (let i = 0; i * ROUTING_PART_CHARS < json.length || i === 0; i++) columns[`routing${i}`] = json.slice(i * ROUTING_PART_CHARS, (i + 1) * ROUTING_PART_CHARS);
  return columns;
};
const routingFromRow = (row: Record<string, unknown>): unknown => {
  if (typeof row.routing0 !== 'string') return undefined;
  let json = '';
  for (let i = 0; typeof row[`routing${i}`] === 'string'; i++) json += row[`routing${i}`] as string;
  try {
    return JSON.parse(json);
  } catch {
    return json; // not an object: the codec reports the row corrupt
  }
};

const toRow = (tenant: Tenant) => ({
  partitionKey: TENANT_PARTITION,
  rowKey: TENANT_PREFIX + tenant.id,
  tenantId: tenant.id,
  name: tenant.name,
  keyHash: tenant.keyHash ?? '',
  keyCreatedAt: tenant.keyCreatedAt ?? '',
  createdAt: tenant.createdAt,
  ...routingColumns(tenant.routing),
  ...(tenant.portalEpoch === undefined ? {} : { portalEpoch: tenant.portalEpoch }),
});
const keyRow = (hash: string, tenantId: string) => ({ partitionKey: TENANT_PARTITION, rowKey: KEY_PREFIX + hash, tenantId });

export const tenantFromRow = (row: unknown): E.Either<AppError, Tenant> =>
  pipe(
    // Rows from before text had to be well formed: a lone surrogate is read as U+FFFD.
    RowCodec.decode(repairedText(row)),
    E.chain((r) => {
      const routing = routingFromRow(row as Record<string, unknown>);
      const portalEpoch = (row as Record<string, unknown>).portalEpoch;
      return Tenant.decode({
        id: r.tenantId,
        name: r.name,
        keyHash: r.keyHash === '' ? null : r.keyHash,
        keyCreatedAt: r.keyCreatedAt === '' ? null : r.keyCreatedAt,
        createdAt: r.createdAt,
        ...(routing === undefined ? {} : { routing }),
        ...(portalEpoch === undefined ? {} : { portalEpoch }),
      });
    }),
    E.mapLeft((errors) => permanent(`A stored tenant row is corrupt: ${formatValidationErrors(errors).join('; ')}`)),
  );

const ListToken = t.type({ after: t.string });
const encodeToken = (value: unknown): string => Buffer.from(JSON.stringify(value), 'utf8').toString('base64url');
const decodeToken = (token: string | undefined): E.Either<AppError, { after: string } | undefined> => {
  if (token === undefined) return E.right(undefined);
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
  } catch {
    parsed = undefined;
  }
  return pipe(
    ListToken.decode(parsed),
    E.mapLeft(() => invalid('The query is invalid', ['continuationToken: is not a token this API issued'])),
  );
};

export const tableTenantStore = (table: EnsuredTable): TenantStore => {
  const attempt = <A>(what: string, run: (client: TableClient) => Promise<E.Either<AppError, A>>): TE.TaskEither<AppError, A> =>
    pipe(
      TE.tryCatch(async () => run(await table.ready()), storageError(what)),
      TE.chainEitherK((x) => x),
    );

  const load = async (client: TableClient, id: TenantId): Promise<E.Either<AppError, { tenant: Tenant; etag: string }>> => {
    let entity: TableEntityResult<Record<string, unknown>>;
    try {
      entity = await client.getEntity<Record<string, unknown>>(TENANT_PARTITION, TENANT_PREFIX + id);
    } catch (e) {
      if (statusOf(e) === 404) return E.left(notFound(`No tenant with id "${id}"`));
      throw e;
    }
    return pipe(
      tenantFromRow(entity),
      E.map((tenant) => ({ tenant, etag: entity.etag })),
    );
  };

  return {
    create: (tenant) =>
      attempt('create a tenant', async (client) => {
        try {
          await client.submitTransaction([['create', toRow(tenant)], ...(tenant.keyHash === null ? [] : [['create', keyRow(tenant.keyHash, tenant.id)] as TransactionAction])]);
          return E.right(tenant);
        } catch (e) {
          if (statusOf(e) === 409) return E.left(conflict(`A tenant with id "${tenant.id}" exists`));
          throw e;
        }
      }),

    get: (id) =>
      attempt('read a tenant', async (client) =>
        pipe(
          await load(client, id),
          E.map((l) => l.tenant),
        ),
      ),

    list: ({ limit, continuationToken }): TE.TaskEither<AppError, TenantPage> =>
      pipe(
        TE.fromEither(decodeToken(continuationToken)),
        TE.chain((token) =>
          attempt('list tenants', async (client) => {
            const filter = odata`PartitionKey eq ${TENANT_PARTITION} and RowKey gt ${TENANT_PREFIX + (token?.after ?? '')} and RowKey lt ${TENANT_END}`;
            const rows = await queryUpTo<Record<string, unknown>>(client, { filter, max: limit + 1 });
            return pipe(
              rows.slice(0, limit).map(tenantFromRow),
              E.sequenceArray,
              E.map((items): TenantPage => {
                const last = items[items.length - 1];
                return rows.length > limit && last !== undefined ? { items: [...items], continuationToken: encodeToken({ after: last.id }) } : { items: [...items] };
              }),
            );
          }),
        ),
      ),

    setKey: (id, key) =>
      attempt('change a tenant key', async (client) => {
        for (let i = 1; ; i++) {
          const loaded = await load(client, id);
          if (E.isLeft(loaded)) return loaded;
          const { tenant, etag } = loaded.right;
          const next: Tenant = { ...tenant, keyHash: key?.keyHash ?? null, keyCreatedAt: key?.keyCreatedAt ?? null };
          const actions: TransactionAction[] = [
            ['update', toRow(next), 'Replace', { etag }],
            ...(tenant.keyHash === null ? [] : [['delete', { partitionKey: TENANT_PARTITION, rowKey: KEY_PREFIX + tenant.keyHash }] as TransactionAction]),
            ...(key === null ? [] : [['create', keyRow(key.keyHash, id)] as TransactionAction]),
          ];
          try {
            await client.submitTransaction(actions);
            return E.right(next);
          } catch (e) {
            // 412: changed since the read; 404: deleted since (the next read says NotFound), or its old key row went.
            if ((statusOf(e) !== 412 && statusOf(e) !== 404) || i >= MAX_WRITE_ATTEMPTS) throw e;
          }
        }
      }),

    setRouting: (id, routing, options) =>
      attempt('change tenant routing grants', async (client) => {
        for (let i = 1; ; i++) {
          const loaded = await load(client, id);
          if (E.isLeft(loaded)) return loaded;
          const { tenant, etag } = loaded.right;
          if (options?.onlyIfUnset === true && tenant.routing !== undefined) return E.right(tenant);
          const next: Tenant = { ...tenant, routing };
          try {
            await client.updateEntity(toRow(next), 'Replace', { etag });
            return E.right(next);
          } catch (e) {
            // 412: changed since the read (a key change, or another instance's migration): read again.
            if ((statusOf(e) !== 412 && statusOf(e) !== 404) || i >= MAX_WRITE_ATTEMPTS) throw e;
          }
        }
      }),

    bumpPortalEpoch: (id) =>
      attempt('revoke portal links', async (client) => {
        for (let i = 1; ; i++) {
          const loaded = await load(client, id);
          if (E.isLeft(loaded)) return loaded;
          const { tenant, etag } = loaded.right;
          const next: Tenant = { ...tenant, portalEpoch: (tenant.portalEpoch ?? 0) + 1 };
          try {
            await client.updateEntity(toRow(next), 'Replace', { etag });
            return E.right(next);
          } catch (e) {
            // 412: changed since the read (a key or grant change): read again, so neither write is lost.
            if ((statusOf(e) !== 412 && statusOf(e) !== 404) || i >= MAX_WRITE_ATTEMPTS) throw e;
          }
        }
      }),

    findByKeyHash: (hash: KeyHash) =>
      attempt('look up a tenant key', async (client) => {
        try {
          const row = await client.getEntity<{ tenantId: string }>(TENANT_PARTITION, KEY_PREFIX + hash);
          return E.right(typeof row.tenantId === 'string' ? (row.tenantId as TenantId) : undefined);
        } catch (e) {
          if (statusOf(e) === 404) return E.right(undefined);
          throw e;
        }
      }),

    delete: (id) =>
      attempt('delete a tenant', async (client) => {
        for (let i = 1; ; i++) {
          const loaded = await load(client, id);
          if (E.isLeft(loaded)) return loaded;
          const { tenant } = loaded.right;
          const actions: TransactionAction[] = [
            ['delete', { partitionKey: TENANT_PARTITION, rowKey: TENANT_PREFIX + id }],
            ...(tenant.keyHash === null ? [] : [['delete', { partitionKey: TENANT_PARTITION, rowKey: KEY_PREFIX + tenant.keyHash }] as TransactionAction]),
          ];
          try {
            await client.submitTransaction(actions);
          } catch (e) {
            // 404: a rotation or another delete changed the rows since the read; read again.
            if (statusOf(e) !== 404 || i >= MAX_WRITE_ATTEMPTS) throw e;
            continue;
          }
          // A transactional delete takes no etag, so a rotation that committed between the read and
          // the delete may have left a key row naming the tenant. Once the tenant row is gone no
          // rotation can commit (it replaces that row with its etag), so one sweep now is final.
          const filter = odata`PartitionKey eq ${TENANT_PARTITION} and RowKey gt ${KEY_PREFIX} and RowKey lt ${KEY_END} and tenantId eq ${id}`;
          for await (const { rowKey } of client.listEntities({ queryOptions: { filter, select: ['RowKey'] } })) {
            if (rowKey === undefined) continue;
            try {
              await client.deleteEntity(TENANT_PARTITION, rowKey);
            } catch (e) {
              if (statusOf(e) !== 404) throw e;
            }
          }
          return E.right(undefined);
        }
      }),
  };
};
