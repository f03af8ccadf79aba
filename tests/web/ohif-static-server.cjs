// A tiny static server for OHIF's prebuilt dist with SPA fallback (unknown paths -> index.html)
// and /app-config.js replaced by a generated file. Serves on 127.0.0.1 only, on a different
// origin (port) than the bridge, so the browser exercises the bridge's CORS headers.
// Usage: node ohif-static-server.cjs DIST_DIR APP_CONFIG_FILE PORT
'use strict';
const http = require('http');
const fs = require('fs');
const path = require('path');

const [dist, appConfig, port] = process.argv.slice(2);
const types = {
  '.html': 'text/html; charset=utf-8', '.js': 'application/javascript', '.mjs': 'application/javascript',
  '.css': 'text/css', '.json': 'application/json', '.wasm': 'application/wasm', '.svg': 'image/svg+xml',
  '.png': 'image/png', '.ico': 'image/x-icon', '.woff2': 'font/woff2', '.woff': 'font/woff', '.ttf': 'font/ttf',
  '.map': 'application/json', '.txt': 'text/plain',
};
const root = path.resolve(dist);

http.createServer((req, res) => {
  const urlPath = decodeURIComponent(new URL(req.url, 'http://x').pathname);
  let file = urlPath === '/app-config.js' ? path.resolve(appConfig) : path.resolve(root, '.' + urlPath);
  if (file !== path.resolve(appConfig) && !file.startsWith(root)) { res.writeHead(403); res.end(); return; }
  fs.stat(file, (err, st) => {
    if (err || !st.isFile()) file = path.join(root, 'index.html');  // SPA fallback (/viewer, /?...)
    res.writeHead(200, {
      'Content-Type': types[path.extname(file)] || 'application/octet-stream',
      // OHIF wants SharedArrayBuffer: cross-origin isolation (anchors.md 3.3). The bridge's
      // Cross-Origin-Resource-Policy: cross-origin makes its images embeddable under COEP.
      'Cross-Origin-Opener-Policy': 'same-origin',
      'Cross-Origin-Embedder-Policy': 'require-corp',
    });
    fs.createReadStream(file).pipe(res);
  });
}).listen(Number(port), '127.0.0.1', () => console.log(`ohif static server on http://127.0.0.1:${port}/`));
