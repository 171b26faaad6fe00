// The project's small static HTTP server, serving what a deployment of a bundle should:
// precompressed siblings with `Content-Encoding: br` / `gzip` when the client accepts them,
// `Cache-Control: public, max-age=31536000, immutable` for content-hashed names
// (`name.<16 hex>.ext`, what `ort-compact build --bundle` writes), `no-cache` for entry points
// (pages, manifest.json, loader.mjs), and a count of the body bytes sent (bytes on the wire).
//
//   node scripts/serve.mjs DIR [--port N] [--host H] [--mount /url/=DIR]...
//
// As a module: serve(routes) for a fixed set of URLs (the benchmarks), serveDirectory(dir) for a
// directory tree (the demo). Needs node >= 18 and nothing from npm.
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** True for the content-hashed names of a bundle: `name.<16 hex digits>.ext`. */
export const isHashed = (name) => /\.[0-9a-f]{16}\.[A-Za-z0-9]+$/.test(name);

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.mjs': 'text/javascript',
  '.js': 'text/javascript',
  '.wasm': 'application/wasm',
  '.json': 'application/json',
  '.onnx': 'application/octet-stream',
  '.ort': 'application/octet-stream',
  '.png': 'image/png',
};

/**
 * Start serving `routes`: {urlPath: {file?, body?, type?, br?, gzip?, immutable?}}; a route with
 * `body` serves that string. `fallback(urlPath)` may return a route for paths not listed.
 * Returns {url, bytesSent(), resetBytes(), requests(), close()}.
 */
export async function serve(routes, { fallback = () => null, headers: extra = {}, port = 0, host = '127.0.0.1' } = {}) {
  let sent = 0;
  const log = [];
  const server = http.createServer((req, res) => {
    const urlPath = decodeURIComponent(new URL(req.url, 'http://127.0.0.1').pathname);
    const route = routes[urlPath] ?? fallback(urlPath);
    const headers = { ...extra };
    if (!route || (route.file && !fs.existsSync(route.file))) {
      res.writeHead(404, headers);
      res.end('not found');
      log.push(`404 ${urlPath}`);
      return;
    }
    const accepts = String(req.headers['accept-encoding'] || '');
    let file = route.file;
    if (route.br && /\bbr\b/.test(accepts)) {
      file = route.br;
      headers['Content-Encoding'] = 'br';
    } else if (route.gzip && /\bgzip\b/.test(accepts)) {
      file = route.gzip;
      headers['Content-Encoding'] = 'gzip';
    }
    headers['Vary'] = 'Accept-Encoding';
    headers['Content-Type'] = route.type || TYPES[path.extname(route.file || urlPath)] || 'application/octet-stream';
    headers['Cache-Control'] = route.immutable ? 'public, max-age=31536000, immutable' : 'no-cache';
    const body = route.body !== undefined ? Buffer.from(route.body) : fs.readFileSync(file);
    headers['Content-Length'] = body.length;
    res.writeHead(200, headers);
    res.end(body);
    sent += body.length;
    log.push(`200 ${urlPath} ${body.length}${headers['Content-Encoding'] ? ' ' + headers['Content-Encoding'] : ''}`);
  });
  await new Promise((resolve, reject) => server.listen(port, host, resolve).on('error', reject));
  return {
    url: `http://${host}:${server.address().port}`,
    bytesSent: () => sent,
    resetBytes: () => { sent = 0; log.length = 0; },
    requests: () => [...log],
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}

/** The route of a file on disk: its precompressed siblings, immutable when its name is hashed. */
function fileRoute(file) {
  const sibling = (ext) => (fs.existsSync(file + ext) ? file + ext : undefined);
  return { file, br: sibling('.br'), gzip: sibling('.gz'), immutable: isHashed(path.basename(file)) };
}

/**
 * Serve the directory `dir` (`/` → index.html); `mounts` maps URL prefixes ending in `/` to
 * other directories. Paths outside the directories are never served.
 */
export function serveDirectory(dir, { mounts = {}, ...options } = {}) {
  const roots = Object.entries({ ...mounts, '/': dir }).sort((a, b) => b[0].length - a[0].length);
  const resolve = (urlPath) => {
    for (const [prefix, root] of roots) {
      if (!urlPath.startsWith(prefix)) continue;
      const rel = urlPath.slice(prefix.length) || 'index.html';
      const file = path.resolve(root, rel.endsWith('/') ? rel + 'index.html' : rel);
      if (!file.startsWith(path.resolve(root) + path.sep) || !fs.existsSync(file) || !fs.statSync(file).isFile()) return null;
      return fileRoute(file);
    }
    return null;
  };
  return serve({}, { ...options, fallback: resolve });
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const options = { mounts: {}, port: 8080, host: '127.0.0.1' };
  let dir = null;
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--port') options.port = Number(args[++i]);
    else if (args[i] === '--host') options.host = args[++i];
    else if (args[i] === '--mount') {
      const [prefix, target] = args[++i].split('=');
      options.mounts[prefix.endsWith('/') ? prefix : prefix + '/'] = target;
    } else dir = args[i];
  }
  if (!dir || !fs.existsSync(dir)) {
    process.stderr.write('usage: node scripts/serve.mjs DIR [--port N] [--host H] [--mount /url/=DIR]...\n');
    process.exit(2);
  }
  const server = await serveDirectory(dir, options);
  process.stdout.write(`serving ${path.resolve(dir)} at ${server.url}/\n`);
}
