/**
 * The web demo (packages/examples/web/): bundles its page with esbuild, as a user's bundler would the packages, and
 * serves it, cross-origin isolated (COOP/COEP) and under a strict Content-Security-Policy (no 'unsafe-eval'),
 * which the packages run under unchanged.
 *
 *   pnpm --filter @webrnn/examples run web [--port 8080]     then open http://localhost:8080 in Chrome or Edge
 */
import { readFile } from 'node:fs/promises';
import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';

const WEB = fileURLToPath(new URL('../web/', import.meta.url));

const CSP = {
  'Content-Security-Policy':
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' blob: data:",
};
const ISOLATION = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
};

const TYPES: Record<string, string> = {
  '/': 'text/html',
  '/style.css': 'text/css',
  '/main.js': 'text/javascript',
  '/matmulWorker.js': 'text/javascript',
};

export interface WebServer {
  readonly url: string;
  close(): Promise<void>;
}

/**
 * Bundle the page and serve it. `sources`: bundle the packages' TypeScript sources instead of their dist/.
 * `isolated: false` leaves out COOP/COEP (the CSP stays), as a host that cannot set them would: the page must work
 * there too, its CPU backend on one thread.
 */
export async function serveWeb(
  options: { port?: number; host?: string; sources?: boolean; isolated?: boolean } = {},
): Promise<WebServer> {
  const headers = options.isolated === false ? CSP : { ...ISOLATION, ...CSP };
  const bundle = await build({
    entryPoints: [`${WEB}main.ts`],
    bundle: true,
    platform: 'browser',
    format: 'esm',
    target: 'es2022',
    conditions: options.sources ? ['source'] : [],
    write: false,
    logLevel: 'warning',
  });
  // The CPU matmul's second thread (the page is cross-origin isolated): its worker, which esbuild leaves to us.
  const worker = await build({
    stdin: { contents: "import '@webrnn/core/matmulWorker.js';", resolveDir: WEB },
    bundle: true,
    platform: 'browser',
    format: 'esm',
    target: 'es2022',
    conditions: options.sources ? ['source'] : [],
    write: false,
    logLevel: 'warning',
  });
  const files: Record<string, string> = {
    '/': await readFile(`${WEB}index.html`, 'utf8'),
    '/style.css': await readFile(`${WEB}style.css`, 'utf8'),
    '/main.js': bundle.outputFiles[0]!.text,
    '/matmulWorker.js': worker.outputFiles[0]!.text,
  };
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0]!;
    const body = files[path === '/index.html' ? '/' : path];
    for (const [k, v] of Object.entries(headers)) res.setHeader(k, v);
    if (body === undefined) {
      res.statusCode = 404;
      res.end('not found');
      return;
    }
    res.setHeader('Content-Type', `${TYPES[path] ?? TYPES['/']}; charset=utf-8`);
    res.end(body);
  });
  await new Promise<void>((resolve) =>
    server.listen(options.port ?? 8080, options.host ?? '127.0.0.1', resolve),
  );
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${options.host ?? '127.0.0.1'}:${port}/`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const at = process.argv.indexOf('--port');
  const port = at > 0 ? Number(process.argv[at + 1]) : 8080;
  const { url } = await serveWeb({ port, host: process.argv.includes('--public') ? '0.0.0.0' : '127.0.0.1' });
  console.log(`webrnn demo: ${url.replace('127.0.0.1', 'localhost')} (Ctrl-C stops)`);
  console.log(
    'WebGPU needs Chrome or Edge 113+ (Linux: --enable-unsafe-webgpu); elsewhere it trains on the CPU.',
  );
}
