import type { BillingClass, OpCount } from './storageOps';

/*
 * Azure Storage transaction prices, USD per 10 000 operations, standard general-purpose v2, LRS.
 * Sources (looked up on 2026-11-23 through public price data; not checked against the live Azure page):
 * - Queues v2, LRS: $0.004 per 10k for class 1 and class 2 operations alike (Azure retail prices,
 *   meters "LRS Class 1 Operations" / "Class 2 Operations", product "Queues v2"; the same figures appear
 *   in infracost's test data, internal/providers/terraform/azure/testdata/storage_queue_test/*.golden).
 * - Tables, LRS, per operation type (infracost test data, storage_table_test.golden at 08c30ce, a
 *   West Europe account): write $0.0325, batch write $0.0975, read $0.0065, scan $0.12, list $0.12, delete free.
 * - Tables, the older flat rate some accounts still show: $0.00036 per 10k for every transaction.
 * - Blobs (hot, LRS): write $0.055, read and other $0.0044 per 10k.
 * Prices vary by region and change; the bench reports counts first, dollars second.
 */

export const PRICES_AS_OF = '2026-11-23';

export type PriceBook = { readonly name: string; readonly perTenThousand: Readonly<Record<BillingClass, number>> };

const QUEUE = 0.004;
const BLOB = { blobWrite: 0.055, blobRead: 0.0044, blobOther: 0.0044 };

export const PRICE_BOOKS: readonly PriceBook[] = [
  {
    name: 'tables per operation type',
    perTenThousand: { queue: QUEUE, tableWrite: 0.0325, tableBatchWrite: 0.0975, tableRead: 0.0065, tableScan: 0.12, tableList: 0.12, tableDelete: 0, ...BLOB },
  },
  {
    name: 'tables flat $0.00036/10k',
    perTenThousand: { queue: QUEUE, tableWrite: 0.00036, tableBatchWrite: 0.00036, tableRead: 0.00036, tableScan: 0.00036, tableList: 0.00036, tableDelete: 0.00036, ...BLOB },
  },
];

/** The price of these operations, in USD. */
export const costOf = (counts: readonly OpCount[], book: PriceBook): number => counts.reduce((sum, c) => sum + (c.count * book.perTenThousand[c.billing]) / 10_000, 0);
