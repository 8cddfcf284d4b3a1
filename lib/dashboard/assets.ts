// /assets/app.css and /assets/app.js, read once at start-up. Pages link them as /assets/app.css?v=<hash of the
// content>: a new release changes the link, so a browser may keep a file for a year; the ETag answers a
// revalidation with a 304.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Hono } from 'hono';

export interface Asset {
  path: string;
  /** The path with its content hash, as pages link it. */
  href: string;
  body: string;
  type: string;
  etag: string;
}

function load(name: string, type: string): Asset {
  const body = readFileSync(new URL(`./assets/${name}`, import.meta.url), 'utf8');
  const hash = createHash('sha256').update(body).digest('base64url').slice(0, 16);
  return { path: `/assets/${name}`, href: `/assets/${name}?v=${hash}`, body, type, etag: `"${hash}"` };
}

export const ASSETS = { css: load('app.css', 'text/css; charset=utf-8'), js: load('app.js', 'text/javascript; charset=utf-8') };

export function assetRoutes(): Hono {
  const app = new Hono();
  for (const asset of Object.values(ASSETS)) {
    app.get(asset.path, (c) => {
      const headers = { etag: asset.etag, 'cache-control': 'public, max-age=31536000, immutable', 'content-type': asset.type, 'x-content-type-options': 'nosniff' };
      if (c.req.header('if-none-match') === asset.etag) return c.body(null, 304, headers);
      return c.body(asset.body, 200, headers);
    });
  }
  return app;
}
