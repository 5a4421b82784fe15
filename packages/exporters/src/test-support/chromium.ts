/**
 * The headless-Chromium harness of the repository's browser tests (not part of the package: nothing exports it).
 * It serves a page over a local http server, opens it in headless Chromium, and collects what the page POSTs back:
 * the page sends its result as JSON to `/result` (which ends the run) and may send files to `/result/<name>`
 * first. Used by the exporters' tfjs test and by tools/test/web.test.ts (the examples/web page).
 *
 * Chromium is `$CHROMIUM_PATH` or `/usr/bin/chromium` (Debian: `apt-get install -y chromium`). Without it the
 * tests are skipped with a message — except under `CI=true`, where a missing browser fails them.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const haveChromium = existsSync(CHROMIUM);

/**
 * `test`, or — without Chromium — `test.skip` with a warning naming the fix; under `CI=true` a missing Chromium is a
 * failing test instead (CI installs it: a skip there would hide a broken setup).
 */
export function chromiumTest(name: string, fn: () => Promise<void>, timeoutMs?: number): void {
  if (haveChromium) {
    test(name, fn, timeoutMs);
    return;
  }
  const why = `no Chromium at ${CHROMIUM} (apt-get install -y chromium, or set CHROMIUM_PATH)`;
  if (process.env.CI === 'true') {
    test(name, () => {
      throw new Error(`${why}; under CI=true a browser test does not skip`);
    });
    return;
  }
  console.warn(`browser test "${name}" skipped: ${why}`);
  test.skip(name, fn);
}

/** A file the server answers with. */
export interface Served {
  body: Buffer | string;
  type: string;
}

/** Options of {@link runPage}. */
export interface RunPageOptions {
  /** Answers a GET of `urlPath` (no query string), or null for 404. */
  route(urlPath: string): Promise<Served | null> | Served | null;
  /** Path and query of the page to open, e.g. `/index.html?steps=20`. */
  page: string;
  /** Give up after this long without the page's `/result` POST. Default 90 s. */
  timeoutMs?: number;
  /**
   * Serve with `Cross-Origin-Opener-Policy: same-origin` and `Cross-Origin-Embedder-Policy: require-corp`: the page
   * is cross-origin isolated (SharedArrayBuffer, threaded wasm). Default false.
   */
  crossOriginIsolated?: boolean;
}

/** What {@link runPage} collected. */
export interface PageRun<T> {
  /** The JSON the page POSTed to `/result`. */
  result: T;
  /** Bodies the page POSTed to `/result/<name>`, by name. */
  files: Map<string, Buffer>;
}

/** Content types by extension, for pages served from a folder. */
export const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.json': 'application/json',
  '.wasm': 'application/wasm',
  '.map': 'application/json',
};

/**
 * Serves `options.route` on 127.0.0.1, opens `options.page` in headless Chromium and resolves with what the page
 * POSTs to `/result` (plus the files POSTed to `/result/<name>` before it). Rejects on the timeout. Chromium runs
 * in its own process group with a throw-away profile; both, and the server, are gone when this returns.
 */
export async function runPage<T>(options: RunPageOptions): Promise<PageRun<T>> {
  const files = new Map<string, Buffer>();
  let resolveResult!: (r: T) => void;
  let rejectResult!: (e: Error) => void;
  const result = new Promise<T>((res, rej) => {
    resolveResult = res;
    rejectResult = rej;
  });
  const server = http.createServer(async (req, res) => {
    const url = (req.url ?? '/').split('?')[0];
    try {
      if (req.method === 'POST' && (url === '/result' || url.startsWith('/result/'))) {
        const chunks: Buffer[] = [];
        for await (const chunk of req) chunks.push(chunk as Buffer);
        res.end('ok');
        const body = Buffer.concat(chunks);
        if (url === '/result') {
          try {
            resolveResult(JSON.parse(body.toString('utf8')) as T);
          } catch (e) {
            rejectResult(new Error(`the page posted a result that is not JSON: ${(e as Error).message}`));
          }
        } else files.set(decodeURIComponent(url.slice('/result/'.length)), body);
        return;
      }
      const served = await options.route(url);
      if (!served) {
        res.statusCode = 404;
        res.end();
        return;
      }
      res.setHeader('content-type', served.type);
      if (options.crossOriginIsolated) {
        res.setHeader('cross-origin-opener-policy', 'same-origin');
        res.setHeader('cross-origin-embedder-policy', 'require-corp');
      }
      res.end(served.body);
    } catch {
      res.statusCode = 500;
      res.end();
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  const profile = mkdtempSync(path.join(tmpdir(), 'netaug-chromium-'));
  let chrome: ChildProcess | undefined;
  let timer: NodeJS.Timeout | undefined;
  try {
    chrome = spawn(
      CHROMIUM,
      [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-dev-shm-usage',
        '--no-first-run',
        '--no-default-browser-check',
        `--user-data-dir=${profile}`,
        `http://127.0.0.1:${port}${options.page}`,
      ],
      // own process group, so the zygote / renderer / gpu children can be killed with it
      { stdio: 'ignore', detached: true },
    );
    const ms = options.timeoutMs ?? 90_000;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no result from Chromium within ${ms / 1000} s`)), ms);
    });
    const exited = new Promise<never>((_, reject) =>
      chrome!.once('exit', (code, signal) =>
        reject(
          new Error(`Chromium exited (code ${code}, signal ${signal}) before the page posted its result`),
        ),
      ),
    );
    return { result: await Promise.race([result, timeout, exited]), files };
  } finally {
    if (timer) clearTimeout(timer);
    if (chrome?.pid && chrome.exitCode === null && chrome.signalCode === null) {
      const gone = new Promise<void>((r) => chrome!.once('exit', () => r()));
      try {
        process.kill(-chrome.pid, 'SIGKILL');
      } catch {
        chrome.kill('SIGKILL');
      }
      await Promise.race([gone, new Promise<void>((r) => setTimeout(r, 5000).unref())]);
    }
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
    rmSync(profile, { recursive: true, force: true });
  }
}
