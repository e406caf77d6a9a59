import * as E from 'fp-ts/Either';
import { BooleanFromString, IntegerFromString } from '../stringCodecs';
import { booleanOf, integerIn, listOf, plainIntegerIn } from '../stringValues';

/* One parser for string-spelled values: settings, queries, CLI flags and the local host use it. */

describe('integerIn', () => {
  it.each([
    ['0', { min: 0, max: 10 }, 0],
    ['10', { min: 0, max: 10 }, 10],
    ['007', { min: 0, max: 10 }, 7],
    ['-3', { min: -5, max: 5 }, -3],
  ])('reads %j within %j as %d', (text, bounds, n) => {
    expect(integerIn(text, bounds)).toBe(n);
  });

  it.each(['', ' 1', '1 ', '+1', '1.0', '1e3', '0x10', '11', '-1', '-0', 'one', '99999999999999999999'])('refuses %j (bounds 0 to 10)', (text) => {
    expect(integerIn(text, { min: 0, max: 10 })).toBeUndefined();
  });
});

describe('plainIntegerIn (queries, CLI flags, the local host)', () => {
  it('reads plain digits within the bounds', () => {
    expect([plainIntegerIn('0', { min: 0, max: 10 }), plainIntegerIn('10', { min: 1, max: 10 })]).toEqual([0, 10]);
  });

  it.each(['007', '050', '-1', '-0', '+1', ' 1', '', '11'])('refuses %j (bounds 0 to 10)', (text) => {
    expect(plainIntegerIn(text, { min: 0, max: 10 })).toBeUndefined();
  });
});

describe('booleanOf and listOf', () => {
  it('read exactly "true" and "false"', () => {
    expect([booleanOf('true'), booleanOf('false'), booleanOf('TRUE'), booleanOf(' true'), booleanOf('1')]).toEqual([true, false, undefined, undefined, undefined]);
  });

  it('split on commas, trimming and dropping empty items', () => {
    expect(listOf(' a, b ,,c ')).toEqual(['a', 'b', 'c']);
    expect(listOf('')).toEqual([]);
  });
});

describe('the settings codecs', () => {
  it('IntegerFromString trims (environment values) and names its bounds', () => {
    const codec = IntegerFromString({ min: 1, max: 100 });
    expect(codec.decode(' 42 ')).toEqual(E.right(42));
    expect(E.isLeft(codec.decode('0'))).toBe(true);
    expect(E.isLeft(codec.decode('-5'))).toBe(true);
    expect(codec.name).toBe('an integer from 1 to 100');
  });

  it('BooleanFromString takes "true" and "false" only', () => {
    expect([BooleanFromString.decode('true'), BooleanFromString.decode('false')]).toEqual([E.right(true), E.right(false)]);
    expect(E.isLeft(BooleanFromString.decode('yes'))).toBe(true);
  });
});
