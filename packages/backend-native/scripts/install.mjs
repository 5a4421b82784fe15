#!/usr/bin/env node
/**
 * The package's `install` script. In an installed package: keeps the shipped addon (dist/netaug_native.node, or
 * a prebuilds/<platform>-<arch>/ binary) when it loads here; otherwise compiles it from src/native with
 * node-gyp (scripts/build-addon.mjs: prints why and exits 0 when oneDNN or the toolchain is missing, so the
 * install never fails — @netaug/backend then falls back to another backend and says why).
 * In the source checkout it does nothing: the workspace build compiles the addon.
 */
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { probeAddon } from './probe-addon.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
if (process.env.NETAUG_NATIVE_SKIP_BUILD === '1') process.exit(0);
if (fs.existsSync(path.join(root, 'src', 'index.ts'))) process.exit(0);

/** The first shipped binary that loads (with oneDNN) in a child process, or null. */
function loadableBinary() {
  const candidates = [path.join(root, 'dist', 'netaug_native.node')];
  try {
    candidates.push(createRequire(path.join(root, 'package.json'))('node-gyp-build').path(root));
  } catch {
    // no prebuild for this platform
  }
  for (const file of candidates) {
    if (!fs.existsSync(file)) continue;
    if (probeAddon(file).ok) return file;
  }
  return null;
}

const found = loadableBinary();
if (found) {
  console.log(`@netaug/backend-native: using the prebuilt addon ${path.relative(root, found)}`);
  process.exit(0);
}
console.log(
  '@netaug/backend-native: no prebuilt addon loads here; compiling it from source (node-gyp, oneDNN)',
);
const r = spawnSync(process.execPath, [path.join(root, 'scripts', 'build-addon.mjs')], { stdio: 'inherit' });
process.exit(r.status ?? 1);
