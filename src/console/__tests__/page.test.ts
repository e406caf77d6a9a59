import { createHash } from 'node:crypto';
import { CONSOLE_HEADERS, CONSOLE_HTML } from '../page';

const hashOf = (text: string): string => `'sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}'`;

describe('the console page', () => {
  const csp = CONSOLE_HEADERS['content-security-policy'] ?? '';

  it('allows exactly its own inline script and style, by hash, and nothing from elsewhere', () => {
    const script = /<script>([\s\S]*)<\/script>/.exec(CONSOLE_HTML)?.[1] ?? '';
    const style = /<style>([\s\S]*)<\/style>/.exec(CONSOLE_HTML)?.[1] ?? '';
    expect(csp).toContain(`script-src ${hashOf(script)};`);
    expect(csp).toContain(`style-src ${hashOf(style)};`);
    expect(csp).toMatch(/^default-src 'none';/);
    expect(csp).toContain("connect-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(CONSOLE_HTML.match(/<script/g)).toHaveLength(1);
  });

  it('holds no data and no key, and never writes API values as HTML', () => {
    expect(CONSOLE_HTML).not.toMatch(/innerHTML|outerHTML|insertAdjacentHTML|document\.write|eval\(/);
    expect(CONSOLE_HTML).toContain('sessionStorage.getItem(key || ADMIN)');
    expect(CONSOLE_HTML).not.toContain('localStorage');
  });
});
