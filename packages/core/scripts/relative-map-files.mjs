// tsup's CommonJS code splitting writes absolute paths (the map's "file", and the intermediate bundle among its
// "sources") into the source maps; published maps must not carry the build machine's paths. Makes them relative
// to the map's folder.
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, relative, resolve } from 'node:path';

const walk = (dir) =>
  readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? walk(join(dir, e.name)) : e.name.endsWith('.map') ? [join(dir, e.name)] : [],
  );
for (const file of walk(process.argv[2] ?? 'dist')) {
  const map = JSON.parse(readFileSync(file, 'utf8'));
  const here = dirname(resolve(file));
  let changed = false;
  if (typeof map.file === 'string' && isAbsolute(map.file)) {
    map.file = basename(map.file);
    changed = true;
  }
  map.sources = (map.sources ?? []).map((s) => {
    if (!isAbsolute(s)) return s;
    changed = true;
    return relative(here, s);
  });
  if (changed) writeFileSync(file, JSON.stringify(map));
}
