/**
 * HTTP routes of the sealing page, shared by the controller's API port and `kseal ui`:
 *
 * - `GET /` and `GET /ui/`: the page (the same HTML; asset paths adjusted so both work behind the
 *   API server's service proxy, whose prefix the page never needs to know); `/ui` redirects to `ui/`.
 * - `GET /ui/app.js`, `/ui/app.css`, `/ui/icon.svg`: the bundled script, style sheet and icon.
 *
 * Every response carries a strict Content-Security-Policy (only this origin's own script, style and
 * connections; no inline code, no framing, no form submission, Trusted Types required for script
 * sinks), `X-Content-Type-Options: nosniff` and `Referrer-Policy: no-referrer`. The page fetches
 * `../v1/cert.pem` (and, on the check tab, posts to `../v1/verify`); the routes themselves hold no
 * state and never see a value: sealing happens in the browser.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { pageAssets } from './page-assets.js';

/** Where the page is served from: the controller (check tab on) or `kseal ui` (local, pinned certificate). */
export type PageMode = 'controller' | 'local';

/** The policy of every page response. */
export const PAGE_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
  "require-trusted-types-for 'script'",
  "trusted-types 'none'",
].join('; ');

/** Headers of every page response. */
export const PAGE_HEADERS: Readonly<Record<string, string>> = {
  'Content-Security-Policy': PAGE_CSP,
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'X-Frame-Options': 'DENY',
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Resource-Policy': 'same-origin',
  'Permissions-Policy': 'camera=(), microphone=(), geolocation=(), payment=(), usb=()',
  'Cache-Control': 'no-store',
};

/** A route as the servers' route tables hold it. */
export interface PageRoute {
  /** The metrics/log label. */
  readonly label: string;
  readonly methods: readonly string[];
  readonly handle: (req: IncomingMessage, res: ServerResponse) => void;
}

/** The page's routes by exact path. */
export function pageRoutes(mode: PageMode): Array<[string, PageRoute]> {
  const route = (handle: PageRoute['handle']): PageRoute => ({ label: '/ui', methods: ['GET', 'HEAD'], handle });
  const html = (base: string) => (req: IncomingMessage, res: ServerResponse) => {
    const body = pageAssets().html.replaceAll('{{BASE}}', base).replaceAll('{{MODE}}', mode);
    send(req, res, 200, 'text/html; charset=utf-8', Buffer.from(body, 'utf8'));
  };
  return [
    ['/', route(html('ui/'))],
    ['/ui/', route(html(''))],
    ['/ui/index.html', route(html(''))],
    [
      '/ui',
      route((req, res) => {
        res.setHeader('Location', 'ui/');
        send(req, res, 308, 'text/plain; charset=utf-8', Buffer.from('see ui/\n'));
      }),
    ],
    ['/ui/app.js', route((req, res) => send(req, res, 200, 'text/javascript; charset=utf-8', pageAssets().js))],
    ['/ui/app.css', route((req, res) => send(req, res, 200, 'text/css; charset=utf-8', pageAssets().css))],
    ['/ui/icon.svg', route((req, res) => send(req, res, 200, 'image/svg+xml', pageAssets().icon))],
  ];
}

function send(req: IncomingMessage, res: ServerResponse, status: number, contentType: string, body: Buffer): void {
  if (res.headersSent) return;
  res.writeHead(status, { ...PAGE_HEADERS, 'Content-Type': contentType, 'Content-Length': body.length });
  res.end(req.method === 'HEAD' ? undefined : body);
}
