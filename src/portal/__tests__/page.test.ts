import { createHash } from 'node:crypto';
import { PORTAL_HEADERS, PORTAL_HTML } from '../page';

const hashOf = (text: string): string => `'sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}'`;

describe('the portal page', () => {
  const csp = PORTAL_HEADERS['content-security-policy'] ?? '';

  it('allows exactly its own inline script and style, by hash, and nothing from elsewhere', () => {
    const script = /<script>([\s\S]*)<\/script>/.exec(PORTAL_HTML)?.[1] ?? '';
    const style = /<style>([\s\S]*)<\/style>/.exec(PORTAL_HTML)?.[1] ?? '';
    expect(csp).toContain(`script-src ${hashOf(script)};`);
    expect(csp).toContain(`style-src ${hashOf(style)};`);
    expect(csp).toMatch(/^default-src 'none';/);
    expect(csp).toContain("connect-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(PORTAL_HEADERS['referrer-policy']).toBe('no-referrer');
    expect(PORTAL_HTML.match(/<script/g)).toHaveLength(1);
  });

  it('holds no data, never writes API values as HTML, and keeps the bearer out of the URL and out of localStorage', () => {
    expect(PORTAL_HTML).not.toMatch(/innerHTML|outerHTML|insertAdjacentHTML|document\.write|eval\(/);
    expect(PORTAL_HTML).not.toContain('localStorage');
    // The link token is taken from the fragment and removed from the address bar before it is used.
    expect(PORTAL_HTML).toContain("history.replaceState(null, '', location.pathname)");
    expect(PORTAL_HTML).not.toMatch(/[?&]token=/);
  });

  it('shows how to verify signatures with the standardwebhooks package, escaped as text', () => {
    expect(PORTAL_HTML).toContain('import { Webhook } from "standardwebhooks";');
    expect(PORTAL_HTML).toContain('webhook.verify(req.body.toString(&#39;utf8&#39;), req.headers)'.replace(/&#39;/g, "'"));
    expect(PORTAL_HTML).toContain('(req, res) =&gt; {');
  });
});
