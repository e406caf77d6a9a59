/** A plain-text table: one header row, columns padded to their widest cell. */
export const table = (headers: readonly string[], rows: readonly (readonly string[])[]): string => {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]): string =>
    cells
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd();
  return [line(headers), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
};

/** `2025-01-15 10:30:00` in UTC: readable, sortable, no locale surprises. */
export const when = (iso: string | undefined): string => (iso === undefined ? '-' : iso.replace('T', ' ').replace(/\.\d+Z$|Z$/, ''));

export const percent = (part: number, whole: number): string => (whole === 0 ? '-' : `${((100 * part) / whole).toFixed(part === whole || part === 0 ? 0 : 1)}%`);

export type ProgressStream = { readonly isTTY?: boolean; readonly columns?: number; write(text: string): unknown };

/**
 * A progress bar on a terminal, nothing elsewhere: piped output and CI logs stay clean. `total`
 * undefined draws a counter (when the amount of work is not known in advance).
 */
export const progress = (stream: ProgressStream, label: string, total?: number) => {
  const active = stream.isTTY === true;
  const draw = (done: number): void => {
    if (!active) return;
    const width = 24;
    const bar = total === undefined || total === 0 ? `${done}` : `[${'#'.repeat(Math.round((width * Math.min(done, total)) / total)).padEnd(width, '.')}] ${Math.min(done, total)}/${total}`;
    stream.write(`\r${label} ${bar}\x1b[K`);
  };
  return {
    update: draw,
    done: (): void => {
      if (active) stream.write('\r\x1b[K');
    },
  };
};
