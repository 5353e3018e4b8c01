// Builds dist/index.html, dist/app.js and dist/app.css — exactly these three files.
//
// Why so strict: the daemon embeds the three files with include_bytes!, and CI rebuilds
// them and compares with the committed dist. So: fixed names (no hashes), no source maps,
// minified (no path comments that would differ between checkouts), ASCII-only output (safe
// whatever charset the daemon's Content-Type names), and nothing that depends on the clock
// or the machine. Same sources and lockfile ⇒ byte-identical output.

import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(root, 'dist');

const common = {
  bundle: true,
  minify: true,
  write: false,
  sourcemap: false,
  charset: 'ascii',
  legalComments: 'none',
  logLevel: 'warning',
  absWorkingDir: root,
};

async function bundle(options) {
  const result = await esbuild.build({ ...common, ...options });
  const [file] = result.outputFiles;
  if (result.outputFiles.length !== 1 || file === undefined) {
    throw new Error(`expected one output for ${options.entryPoints}, got ${result.outputFiles.length}`);
  }
  return file.contents;
}

const [js, css, html] = await Promise.all([
  bundle({
    entryPoints: ['src/main.ts'],
    outfile: 'dist/app.js',
    format: 'iife',
    target: ['es2020', 'chrome100', 'firefox100', 'safari15'],
    platform: 'browser',
  }),
  bundle({
    entryPoints: ['src/app.css'],
    outfile: 'dist/app.css',
    target: ['chrome100', 'firefox100', 'safari15'],
  }),
  readFile(join(root, 'src/index.html')),
]);

await rm(dist, { recursive: true, force: true });
await mkdir(dist, { recursive: true });
await Promise.all([
  writeFile(join(dist, 'index.html'), html),
  writeFile(join(dist, 'app.js'), js),
  writeFile(join(dist, 'app.css'), css),
]);
for (const [name, bytes] of [['index.html', html], ['app.js', js], ['app.css', css]]) {
  console.log(`dist/${name}  ${bytes.length} bytes`);
}
