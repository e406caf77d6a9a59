import { percent, progress, table, when } from '../format';

const stream = (isTTY: boolean) => {
  const written: string[] = [];
  return { isTTY, written, write: (s: string) => written.push(s) };
};

describe('CLI formatting', () => {
  it('pads table columns to the widest cell and trims line ends', () => {
    expect(
      table(
        ['ID', 'STATE'],
        [
          ['a', 'delivered'],
          ['bbbb', ''],
        ],
      ),
    ).toBe('ID    STATE\n----  ---------\na     delivered\nbbbb');
  });

  it('shows UTC times without the T and the milliseconds, and percentages', () => {
    expect(when('2025-01-15T10:30:00.123Z')).toBe('2025-01-15 10:30:00');
    expect(when(undefined)).toBe('-');
    expect([percent(0, 4), percent(4, 4), percent(1, 3), percent(0, 0)]).toEqual(['0%', '100%', '33.3%', '-']);
  });

  it('draws a bar on a terminal, and clears it when done', () => {
    const tty = stream(true);
    const bar = progress(tty, 'reading', 4);
    bar.update(1);
    bar.update(9);
    bar.done();
    expect(tty.written).toEqual(['\rreading [######..................] 1/4\x1b[K', '\rreading [########################] 4/4\x1b[K', '\r\x1b[K']);
    const counter = stream(true);
    progress(counter, 'redriven').update(120);
    expect(counter.written).toEqual(['\rredriven 120\x1b[K']);
  });

  it('writes nothing when the stream is not a terminal (pipes, CI logs)', () => {
    const pipe = stream(false);
    const bar = progress(pipe, 'reading', 4);
    bar.update(2);
    bar.done();
    expect(pipe.written).toEqual([]);
  });
});
