// Builds the playground into dist/ with esbuild: the page (index.html),
// one script and one stylesheet for the app, one script per Monaco worker,
// and the editor's icon font. Every file but index.html is named by its
// content hash and served under /playground/assets/. No source maps.
//
// Usage: node build.mjs   (npm run build)
import * as esbuild from 'esbuild';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename } from 'node:path';

const OUT = 'dist';
const ASSETS = `${OUT}/assets`;
const PUBLIC = '/playground/assets/';

const common = {
  bundle: true,
  minify: true,
  legalComments: 'none',
  target: ['es2022'],
  outdir: ASSETS,
  entryNames: '[name]-[hash]',
  assetNames: '[name]-[hash]',
  publicPath: PUBLIC,
  metafile: true,
  logLevel: 'warning',
  define: { 'process.env.NODE_ENV': '"production"' },
};

// outputFor maps an entry point to the file esbuild wrote for it.
function outputFor(result, entry, ext = '.js') {
  for (const [file, out] of Object.entries(result.metafile.outputs)) {
    if (out.entryPoint === entry && file.endsWith(ext)) return basename(file);
  }
  throw new Error(`no ${ext} output for ${entry}`);
}

rmSync(OUT, { recursive: true, force: true });
mkdirSync(ASSETS, { recursive: true });

// Monaco runs its language services in web workers: each is a bundle of
// its own, loaded from the page's origin.
const workers = {
  'editor.worker': 'monaco-editor/esm/vs/editor/editor.worker.js',
  'json.worker': 'monaco-editor/esm/vs/language/json/json.worker.js',
  'graphql.worker': 'monaco-graphql/esm/graphql.worker.js',
};
const workerBuild = await esbuild.build({ ...common, format: 'iife', entryPoints: workers });
const workerURL = {};
for (const [name, entry] of Object.entries(workers)) {
  workerURL[name] = PUBLIC + outputFor(workerBuild, `node_modules/${entry}`);
}

// The app: one script (dynamic imports are bundled in, not split) and the
// stylesheet of everything it imports.
const appBuild = await esbuild.build({
  ...common,
  format: 'esm',
  entryPoints: { index: 'src/main.jsx' },
  jsx: 'automatic',
  loader: { '.ttf': 'file', '.woff': 'file', '.woff2': 'file' },
  define: { ...common.define, FEDGATE_WORKERS: JSON.stringify(workerURL) },
});
let script;
let style;
for (const [file, out] of Object.entries(appBuild.metafile.outputs)) {
  if (out.entryPoint === 'src/main.jsx') script = basename(file);
  else if (file.endsWith('.css')) style = basename(file);
}
if (!script || !style) throw new Error('the app build wrote no script or no stylesheet');

const head = `    <link rel="stylesheet" href="${PUBLIC}${style}" />\n    <script type="module" src="${PUBLIC}${script}"></script>\n  </head>`;
const html = readFileSync('index.html', 'utf8').replace('  </head>', head);
if (!html.includes(script)) throw new Error('index.html has no </head> to put the script before');
writeFileSync(`${OUT}/index.html`, html);

const sizes = Object.entries({ ...workerBuild.metafile.outputs, ...appBuild.metafile.outputs })
  .map(([file, out]) => `  ${file.padEnd(48)} ${(out.bytes / 1024).toFixed(0).padStart(6)} KiB`)
  .sort();
console.log(`${OUT}/index.html\n${sizes.join('\n')}`);
