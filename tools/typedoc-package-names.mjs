// TypeDoc plugin (typedoc.json "plugin"): names each module of the API reference after its package
// ("@netaug/core") instead of its path ("core/src"), reading the name from the package.json next to src/.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Converter, ReflectionKind } from 'typedoc';

export function load(app) {
  app.converter.on(Converter.EVENT_RESOLVE_BEGIN, (context) => {
    for (const mod of context.project.getReflectionsByKind(ReflectionKind.Module)) {
      const m = /^([a-z0-9-]+)\/src$/.exec(mod.name);
      if (!m) continue;
      const manifest = path.join(
        app.options.getValue('basePath') || process.cwd(),
        'packages',
        m[1],
        'package.json',
      );
      if (fs.existsSync(manifest)) mod.name = JSON.parse(fs.readFileSync(manifest, 'utf8')).name;
    }
  });
}
