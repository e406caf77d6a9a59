import { createHash } from 'node:crypto';

/*
 * The shell of the app's static pages (the ops console, the subscriber portal): one HTML document with
 * its inline style and script, and the headers that let only those two run (allowed by hash in the
 * Content-Security-Policy), talk to this origin only, never be framed, and send no referrer.
 */

const sha256 = (text: string): string => `'sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}'`;

/**
 * The browser-side helper both pages build their DOM with (ES2020, no modules): every value goes in
 * as text, never as HTML. Spliced into each page's script.
 */
export const DOM_HELPERS = String.raw`
  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (k === 'text') node.textContent = attrs[k];
      else if (k === 'onclick') node.addEventListener('click', attrs[k]);
      else node.setAttribute(k, attrs[k]);
    });
    (children || []).forEach(function (c) { node.appendChild(typeof c === 'string' ? document.createTextNode(c) : c); });
    return node;
  }
`;

export type StaticPage = { readonly html: string; readonly headers: Readonly<Record<string, string>> };

export const staticPage = (page: { readonly title: string; readonly style: string; readonly body: string; readonly script: string }): StaticPage => ({
  html: `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<link rel="icon" href="data:,">
<title>${page.title}</title>
<style>${page.style}</style>
</head>
<body>${page.body}<script>${page.script}</script>
</body>
</html>
`,
  headers: {
    'content-type': 'text/html; charset=utf-8',
    'content-security-policy': `default-src 'none'; script-src ${sha256(page.script)}; style-src ${sha256(page.style)}; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'`,
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
    'cache-control': 'no-store',
  },
});
