/**
 * The browser page's server (`scan-conformance browser`): serves the page and its bundle, the
 * run's configuration, the fixtures (only files the manifest lists, confined to the fixtures
 * folder) and the user's module folders (confined to each folder), and receives the finished
 * report (POST /report) or the page's failure (POST /failure). Listens on 127.0.0.1 only: a
 * secure context, where browsers offer navigator.gpu.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { readFile, realpath } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { loadManifest, resolveFixturePath } from '../fixtures/loader.ts';
import { errorMessage } from '../spec/errors.ts';
import type { ConformanceReport } from '../suite/results.ts';
import { decodeReport, type PageConfig } from './page-config.ts';

/** The page: a progress line and bar, the cells as they finish, the downloads, then the report. */
const PAGE_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>scan-conformance in the browser</title>
<style>
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2rem auto; max-width: 1200px; padding: 0 1rem; color: #1b1f24; }
#run { border: 1px solid #d0d7de; padding: .6rem 1rem; background: #f6f8fa; }
#cells { max-height: 14rem; overflow-y: auto; font-size: 12px; }
#cells li[data-outcome="fail"], #cells li[data-outcome="error"], #cells li[data-outcome="unexpected-pass"] { color: #b31d28; }
progress { width: 100%; }
</style>
<!-- A module for the page imports 'scan-conformance' by name, as in Node: this bundle, whose classes the suite knows. -->
<script type="importmap">{ "imports": { "scan-conformance": "/page-bundle.js" } }</script>
<!-- A page script that fails to load cannot say so itself: the command would wait for a report that never comes. -->
<script type="module" src="/page-bundle.js" onerror="fetch('/failure', { method: 'POST', body: 'the page script /page-bundle.js failed to load' })"></script>
</head>
<body data-state="running">
<h1>scan-conformance in the browser</h1>
<section id="run">
<p id="adapter">adapter: not known yet</p>
<p id="status">starting…</p>
<progress id="progress" value="0" max="1"></progress>
<ol id="cells"></ol>
<p id="downloads"></p>
</section>
<section id="report"></section>
</body>
</html>
`;

/** A local folder served under a URL prefix (the user's module and what it imports beside it). */
export interface ServedFolder {
  readonly prefix: string;
  readonly folder: string;
}

/** What the server serves. */
export interface PageServerOptions {
  readonly config: PageConfig;
  /** The bundled page (page-bundle.js). */
  readonly pageScript: string;
  /** The fixtures folder served under /fixtures/ (its manifest's files only). */
  readonly fixturesDir: string;
  readonly folders: readonly ServedFolder[];
  /** 0 for any free port. */
  readonly port: number;
}

/** A running server; `outcome` settles when the page posts its report or its failure. */
export interface PageServer {
  readonly url: string;
  readonly outcome: Promise<ConformanceReport>;
  close(): Promise<void>;
}

const TYPES: Record<string, string> = { '.js': 'text/javascript', '.mjs': 'text/javascript', '.json': 'application/json', '.wgsl': 'text/plain', '.safetensors': 'application/octet-stream' };

/** Reads a request body up to `limit` bytes. */
async function body(request: IncomingMessage, limit: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > limit) throw new Error(`request body beyond ${limit} bytes`);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** The real path of `relative` inside `folder`, or undefined when it leaves the folder (.., symlinks). */
async function inside(folder: string, relative: string): Promise<string | undefined> {
  try {
    const root = await realpath(folder);
    const file = await realpath(path.resolve(root, relative));
    const rel = path.relative(root, file);
    return rel !== '' && !rel.startsWith('..') && !path.isAbsolute(rel) ? file : undefined;
  } catch {
    return undefined;
  }
}

/** Starts the server on 127.0.0.1. */
export async function startPageServer(options: PageServerOptions): Promise<PageServer> {
  const manifestFiles = new Set((await loadManifest(options.fixturesDir)).cases.map((c) => c.file));
  let settle!: { resolve: (report: ConformanceReport) => void; reject: (error: Error) => void };
  const outcome = new Promise<ConformanceReport>((resolve, reject) => (settle = { resolve, reject }));
  // A rejection nobody awaits yet must not end the process: the CLI awaits it.
  outcome.catch(() => undefined);

  const send = (response: ServerResponse, status: number, type: string, content: string | Uint8Array): void => {
    response.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
    response.end(content);
  };
  const sendFile = async (response: ServerResponse, file: string): Promise<void> => {
    send(response, 200, TYPES[path.extname(file)] ?? 'application/octet-stream', await readFile(file));
  };

  const handle = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    const url = new URL(request.url ?? '/', 'http://127.0.0.1');
    const route = decodeURIComponent(url.pathname);
    if (request.method === 'POST' && route === '/report') {
      try {
        settle.resolve(decodeReport(await body(request, 256 * 1024 * 1024)));
        send(response, 200, 'text/plain', 'ok');
      } catch (error) {
        send(response, 400, 'text/plain', `expected the report as JSON, got ${errorMessage(error)}`);
      }
      return;
    }
    if (request.method === 'POST' && route === '/failure') {
      settle.reject(new Error(await body(request, 1024 * 1024)));
      send(response, 200, 'text/plain', 'ok');
      return;
    }
    if (request.method !== 'GET') return send(response, 405, 'text/plain', `expected GET, got ${request.method}`);
    if (route === '/' || route === '/index.html') return send(response, 200, 'text/html; charset=utf-8', PAGE_HTML);
    if (route === '/page-bundle.js') return sendFile(response, options.pageScript);
    if (route === '/config.json') return send(response, 200, 'application/json', JSON.stringify(options.config));
    if (route === '/fixtures/manifest.json') return sendFile(response, path.join(options.fixturesDir, 'manifest.json'));
    if (route.startsWith('/fixtures/')) {
      const file = route.slice('/fixtures/'.length);
      if (!manifestFiles.has(file)) return send(response, 404, 'text/plain', `${file}: not a file the manifest lists`);
      return sendFile(response, await resolveFixturePath(file, options.fixturesDir));
    }
    for (const { prefix, folder } of options.folders) {
      if (!route.startsWith(prefix)) continue;
      const file = await inside(folder, route.slice(prefix.length));
      if (file === undefined) return send(response, 404, 'text/plain', `${route}: no such file inside ${folder}`);
      return sendFile(response, file);
    }
    send(response, 404, 'text/plain', `${route}: not found`);
  };

  const server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      if (!response.headersSent) send(response, 500, 'text/plain', errorMessage(error));
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    outcome,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
