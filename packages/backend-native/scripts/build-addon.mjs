#!/usr/bin/env node
/**
 * Builds the N-API addon with node-gyp and copies it into dist/. The addon is optional: when the toolchain
 * or oneDNN is missing this prints one line saying why, records it in dist/netaug-native-build.json (so
 * registerNativeBackend can throw that reason) and exits 0. Set NETAUG_NATIVE_REQUIRED=1 to fail instead,
 * NETAUG_NATIVE_SKIP_BUILD=1 to skip the compilation.
 */
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { probeAddon } from './probe-addon.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const ADDON = 'netaug_native.node';
const STATUS = 'netaug-native-build.json';
const required = process.env.NETAUG_NATIVE_REQUIRED === '1';

function record(status) {
  for (const dir of [path.join(root, 'dist'), path.join(root, 'build')]) {
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, STATUS), JSON.stringify(status, null, 2) + '\n');
  }
}

function fail(reason) {
  record({ ok: false, reason, date: new Date().toISOString() });
  console.log(`@netaug/backend-native: native addon not built: ${reason}`);
  process.exit(required ? 1 : 0);
}

/** The most telling line of a failed node-gyp run. */
function firstError(text) {
  const lines = text.split('\n').map((l) => l.trim());
  const pick =
    lines.find((l) => /fatal error|error:/i.test(l) && !/^gyp ERR!/.test(l)) ??
    lines.find((l) => /gyp ERR! stack Error|gyp ERR! (find|configure) /.test(l)) ??
    lines.find((l) => /ERR!/.test(l));
  return (pick ?? 'node-gyp failed').replace(/^gyp ERR! (stack )?/, '').slice(0, 400);
}

if (process.env.NETAUG_NATIVE_SKIP_BUILD === '1') fail('skipped (NETAUG_NATIVE_SKIP_BUILD=1)');

let nodeGyp;
try {
  nodeGyp = createRequire(path.join(root, 'package.json')).resolve('node-gyp/bin/node-gyp.js');
} catch {
  // an installed package has no devDependencies: npm runs install scripts with its own node-gyp
  const bundled = process.env.npm_config_node_gyp;
  if (bundled && fs.existsSync(bundled)) nodeGyp = bundled;
  else fail('node-gyp is not installed (a devDependency here; npm provides its own to install scripts)');
}

// Build against the running node's own headers when they are installed (no download): /usr for Debian's
// nodejs package (/usr/include/node), the install prefix for official tarballs / nvm.
const args = [nodeGyp, 'rebuild', '--jobs', 'max'];
const prefix = path.resolve(path.dirname(process.execPath), '..');
if (fs.existsSync(path.join(prefix, 'include', 'node', 'node_api.h'))) args.push(`--nodedir=${prefix}`);

const t0 = Date.now();
const r = spawnSync(process.execPath, args, { cwd: root, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
if (r.error != null) fail(`cannot run node-gyp: ${r.error.message}`);
if (r.status !== 0) {
  const log = `${r.stdout ?? ''}\n${r.stderr ?? ''}`;
  fs.mkdirSync(path.join(root, 'build'), { recursive: true });
  fs.writeFileSync(path.join(root, 'build', 'netaug-native-build.log'), log);
  fail(`${firstError(log)} (install libdnnl-dev, g++, make and python3; log: build/netaug-native-build.log)`);
}

const built = path.join(root, 'build', 'Release', ADDON);
if (!fs.existsSync(built)) fail(`node-gyp succeeded but ${path.relative(root, built)} is missing`);
// Smoke-load it in a child process (a missing libdnnl.so shows here, not only at the first use).
const probe = probeAddon(built);
if (!probe.ok) fail(`built, but it does not load: ${firstError(probe.stderr)}`);
fs.mkdirSync(path.join(root, 'dist'), { recursive: true });
// copy, then rename: a running process that has the old addon mapped keeps its (unlinked) file intact
const target = path.join(root, 'dist', ADDON);
fs.copyFileSync(built, `${target}.tmp`);
fs.renameSync(`${target}.tmp`, target);
const info = probe.info;
record({
  ok: true,
  onednn: info.onednn,
  isa: info.isa,
  cpuRuntime: info.cpuRuntime,
  date: new Date().toISOString(),
});
console.log(
  `@netaug/backend-native: built ${ADDON} (oneDNN ${info.onednn}, ${info.isa}, ${info.cpuRuntime}) in ${((Date.now() - t0) / 1000).toFixed(0)} s`,
);
