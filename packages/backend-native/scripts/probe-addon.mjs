/**
 * Shared by install.mjs and build-addon.mjs: loads an addon file in a child process (so a missing libdnnl.so
 * or an ABI mismatch cannot crash the caller) and calls its info().
 */
import { spawnSync } from 'node:child_process';

/** `{ ok: true, info }` when `file` loads and answers info(), else `{ ok: false, stderr }`. */
export function probeAddon(file) {
  const probe = spawnSync(
    process.execPath,
    [
      '-e',
      `const a = require(${JSON.stringify(file)}); if (a.loadError) throw new Error(a.loadError); ` +
        'process.stdout.write(JSON.stringify(a.info()))',
    ],
    { encoding: 'utf8' },
  );
  if (probe.status !== 0) return { ok: false, stderr: probe.stderr ?? String(probe.error ?? '') };
  return { ok: true, info: JSON.parse(probe.stdout) };
}
