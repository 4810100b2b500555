/**
 * Build step (`npm run bundle`): the CLI as one CommonJS file, dist/bin/segdl.cjs, which
 * src/cli/launch.cts runs from V8's code cache. One file instead of ~150 to find, read and
 * compile at every start. undici's HTTP/2 client is left out: segdl never enables HTTP/2
 * (undici speaks it only with `allowH2`), and loading it pulls node:http2, node:http and node:tls
 * into every start (~6 ms). The library build (tsc, dist/src) is untouched by this.
 */
import { build, type Plugin } from 'esbuild';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../../', import.meta.url));

const withoutHttp2: Plugin = {
  name: 'segdl-without-http2',
  setup(b) {
    b.onLoad({ filter: /undici[\\/]lib[\\/]dispatcher[\\/]client-h2\.js$/ }, () => ({
      contents: "module.exports = function connectH2 () { throw new Error('HTTP/2 is not enabled in segdl') }",
      loader: 'js',
    }));
  },
};

await build({
  absWorkingDir: root,
  entryPoints: ['src/cli/main.ts'],
  outfile: 'dist/bin/segdl.cjs',
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  logLevel: 'warning',
  plugins: [withoutHttp2],
  // import.meta.url (src/cli/version.ts) means the bundle's own URL.
  define: { 'import.meta.url': '__bundleUrl' },
  banner: { js: "var __bundleUrl = require('node:url').pathToFileURL(__filename).href;" },
});
