#!/usr/bin/env node
// The `roster` command and `npm start`: runs the build in dist/, which `npm install` makes
// (the `prepare` script). A missing build, or one older than the sources of this checkout (after
// a `git pull`, say), stops here with one line instead of running code that is not the source.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';

const root = join(import.meta.dirname, '..');
const entry = join(root, 'dist/cli/main.js');
const sources = join(root, 'src');

if (!existsSync(entry)) {
  console.error('error: Roster is not built yet: run `npm run build` (`npm install` builds it too).');
  process.exit(1);
}
if (existsSync(sources)) {
  const built = statSync(entry).mtimeMs;
  const newer = newestSource(sources);
  if (newer && newer.mtimeMs > built) {
    console.error(`error: the build in dist/ is older than ${relative(root, newer.path)}: run \`npm run build\` (or \`npm run dev\` to run the sources).`);
    process.exit(1);
  }
}
await import(pathToFileURL(entry).href);

/** The most recently changed .ts file under `dir` (a few hundred files: a few milliseconds). */
function newestSource(dir) {
  let newest;
  for (const e of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (!e.isFile() || !e.name.endsWith('.ts')) continue;
    const path = join(e.parentPath ?? e.path, e.name);
    const mtimeMs = statSync(path).mtimeMs;
    if (!newest || mtimeMs > newest.mtimeMs) newest = { path, mtimeMs };
  }
  return newest;
}
