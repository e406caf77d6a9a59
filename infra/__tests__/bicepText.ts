/*
 * Just enough of Bicep's syntax to check infra/main.bicep offline: comments, string literals (with
 * ${...} interpolation), nesting, params with their decorators and defaults, resources and the keys of
 * their object literals. The Bicep compiler is a downloaded binary and cannot run here.
 */

const isBlankable = (c: string): boolean => c !== '\n';

/** Index just past the string literal that opens at `start` (a single quote). */
const endOfString = (text: string, start: number): number => {
  if (text.startsWith("'''", start)) {
    const end = text.indexOf("'''", start + 3);
    if (end < 0) throw new Error(`unterminated multi-line string at ${start}`);
    return end + 3;
  }
  let i = start + 1;
  while (i < text.length) {
    const c = text[i];
    if (c === '\\') i += 2;
    else if (c === "'") return i + 1;
    else if (c === '$' && text[i + 1] === '{') i = endOfInterpolation(text, i + 2);
    else i += 1;
  }
  throw new Error(`unterminated string at ${start}`);
};

/** Index just past the `}` that closes an interpolation whose expression starts at `start`. */
const endOfInterpolation = (text: string, start: number): number => {
  let depth = 0;
  let i = start;
  while (i < text.length) {
    const c = text[i];
    if (c === "'") {
      i = endOfString(text, i);
      continue;
    }
    if (c === '{') depth += 1;
    else if (c === '}') {
      if (depth === 0) return i + 1;
      depth -= 1;
    }
    i += 1;
  }
  throw new Error(`unterminated interpolation at ${start}`);
};

/**
 * The text with every comment and string literal blanked out (newlines kept), so that braces, colons
 * and keywords found in it are code. Indexes match the original text.
 */
export const maskBicep = (text: string): string => {
  const out = text.split('');
  const blank = (from: number, to: number): void => {
    for (let k = from; k < to; k += 1) if (isBlankable(out[k] ?? '')) out[k] = ' ';
  };
  let i = 0;
  while (i < text.length) {
    if (text.startsWith('//', i)) {
      const end = text.indexOf('\n', i);
      const stop = end < 0 ? text.length : end;
      blank(i, stop);
      i = stop;
    } else if (text.startsWith('/*', i)) {
      const end = text.indexOf('*/', i + 2);
      if (end < 0) throw new Error(`unterminated comment at ${i}`);
      blank(i, end + 2);
      i = end + 2;
    } else if (text[i] === "'") {
      const end = endOfString(text, i);
      blank(i, end);
      i = end;
    } else i += 1;
  }
  return out.join('');
};

/** The value of a plain string literal (no interpolation), or undefined for anything else. */
export const stringLiteral = (raw: string): string | undefined => {
  const m = /^'((?:[^'\\$]|\\.|\$(?!\{))*)'$/.exec(raw.trim());
  return m?.[1]?.replace(/\\(.)/g, (_all, c: string) => ({ n: '\n', r: '\r', t: '\t' })[c] ?? c);
};

export type Member = { readonly key: string; readonly raw: string; readonly valueStart: number };

/** Index of the bracket closing the one opened at `open` in the masked text. */
const closing = (masked: string, open: number): number => {
  let depth = 0;
  for (let i = open; i < masked.length; i += 1) {
    const c = masked[i];
    if (c === '{' || c === '[' || c === '(') depth += 1;
    else if (c === '}' || c === ']' || c === ')') {
      depth -= 1;
      if (depth === 0) return i;
    }
  }
  throw new Error(`unbalanced bracket at ${open}`);
};

/** The members of the object literal whose `{` is at `open`: key, raw value text, where the value starts. */
export const objectMembers = (text: string, open: number): Member[] => {
  const masked = maskBicep(text);
  if (masked[open] !== '{') throw new Error(`no object at ${open}`);
  const close = closing(masked, open);
  const members: Member[] = [];
  let i = open + 1;
  while (i < close) {
    const key = /^[ \t\r\n]*([A-Za-z_][A-Za-z0-9_]*)[ \t]*:/.exec(masked.slice(i, close));
    if (key === null) {
      // Not a `key:` at this level (a blank line, or the closing brace): go to the next line.
      const next = masked.indexOf('\n', i);
      if (next < 0 || next >= close) break;
      i = next + 1;
      continue;
    }
    const valueStart = i + key[0].length;
    let end = valueStart;
    while (end < close && masked[end] !== '\n') {
      const c = masked[end];
      end = c === '{' || c === '[' || c === '(' ? closing(masked, end) + 1 : end + 1;
    }
    const span = text.slice(valueStart, end);
    members.push({ key: key[1] ?? '', raw: span.trim(), valueStart: valueStart + span.length - span.trimStart().length });
    i = end;
  }
  return members;
};

/** The member at a path of keys, starting from an object literal at `open`. */
export const memberAt = (text: string, open: number, path: readonly string[]): Member | undefined => {
  let current: Member | undefined;
  let start = open;
  for (const key of path) {
    current = objectMembers(text, start).find((m) => m.key === key);
    if (current === undefined) return undefined;
    start = current.valueStart;
  }
  return current;
};

export type Resource = { readonly symbol: string; readonly type: string; readonly apiVersion: string; readonly open: number };

/** Every `resource name 'Type@version' = {` declared in code (not in comments or strings). */
export const resources = (text: string): Resource[] => {
  const masked = maskBicep(text);
  const found: Resource[] = [];
  for (const m of text.matchAll(/\bresource\s+([A-Za-z_][A-Za-z0-9_]*)\s+'([^'@]+)@([^']+)'(\s+existing)?\s*=\s*(?:if\s*\((?:[^()]|\([^()]*\))*\)\s*)?\{/g)) {
    if (m.index === undefined || masked[m.index] !== 'r') continue;
    found.push({ symbol: m[1] ?? '', type: m[2] ?? '', apiVersion: m[3] ?? '', open: m.index + m[0].length - 1 });
  }
  return found;
};

export type Param = { readonly name: string; readonly type: string; readonly defaultRaw: string | undefined; readonly decorators: readonly string[] };

/** Every `param`, with the decorators written above it and its default value's text. */
export const params = (text: string): Param[] => {
  const masked = maskBicep(text);
  const found: Param[] = [];
  let pending: string[] = [];
  let i = 0;
  while (i < masked.length) {
    const lineEnd = masked.indexOf('\n', i) < 0 ? masked.length : masked.indexOf('\n', i);
    const code = masked.slice(i, lineEnd).trim();
    if (code.startsWith('@')) {
      // A decorator may span lines (@allowed([...])): take it up to its closing bracket.
      const open = masked.indexOf('(', i);
      const end = open >= 0 && open < lineEnd ? closing(masked, open) + 1 : lineEnd;
      pending.push(text.slice(i, end).trim());
      i = masked.indexOf('\n', end) < 0 ? masked.length : masked.indexOf('\n', end) + 1;
      continue;
    }
    const param = /^param\s+([A-Za-z_][A-Za-z0-9_]*)\s+([A-Za-z]+)(\s*=)?/.exec(code);
    if (param !== null) {
      const eq = param[3] !== undefined ? masked.indexOf('=', i) : -1;
      found.push({ name: param[1] ?? '', type: param[2] ?? '', defaultRaw: eq >= 0 ? text.slice(eq + 1, lineEnd).trim() : undefined, decorators: pending });
      pending = [];
    } else if (code !== '') pending = [];
    i = lineEnd + 1;
  }
  return found;
};

export const isSecure = (param: Param): boolean => param.decorators.some((d) => /^@secure\(\s*\)$/.test(d));
