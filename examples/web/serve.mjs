#!/usr/bin/env node
// Serves the built page (examples/web/dist, or --dir DIR) on http://127.0.0.1:8080/ (--port N). The page must come
// over http (it fetches its data and the wasm binaries); open the printed address in a browser.
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { dirname, extname, join, normalize, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const opt = (name, fallback) => (args.includes(name) ? args[args.indexOf(name) + 1] : fallback);
const root = resolve(opt('--dir', join(here, 'dist')));
const port = Number(opt('--port', 8080));
const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.map': 'application/json',
  '.wasm': 'application/wasm',
};

createServer(async (req, res) => {
  const url = decodeURIComponent((req.url ?? '/').split('?')[0]);
  const file = normalize(join(root, url === '/' ? 'index.html' : url));
  if (!file.startsWith(root + sep)) {
    res.statusCode = 403;
    return res.end();
  }
  try {
    const body = await readFile(file);
    res.setHeader('content-type', TYPES[extname(file)] ?? 'application/octet-stream');
    // cross-origin isolation: SharedArrayBuffer, so tfjs-backend-wasm can run its threaded build (?threads=N)
    res.setHeader('cross-origin-opener-policy', 'same-origin');
    res.setHeader('cross-origin-embedder-policy', 'require-corp');
    res.end(body);
  } catch {
    res.statusCode = 404;
    res.end(`not found: ${url} (did you run node examples/web/build.mjs?)`);
  }
}).listen(port, '127.0.0.1', () => console.log(`serving ${root} at http://127.0.0.1:${port}/`));
