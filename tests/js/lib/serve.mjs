// A small static HTTP server on 127.0.0.1 that serves what a deployment would: precompressed
// siblings with `Content-Encoding: br` / `gzip` when the client accepts them, long-lived
// `Cache-Control: immutable` for files whose content never changes under their URL, `no-cache`
// for entry points, and a count of the body bytes it sent (bytes on the wire per page visit).
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';

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
export async function serve(routes, { fallback = () => null, headers: extra = {} } = {}) {
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
  await new Promise((resolve, reject) => server.listen(0, '127.0.0.1', resolve).on('error', reject));
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    bytesSent: () => sent,
    resetBytes: () => { sent = 0; log.length = 0; },
    requests: () => [...log],
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}
