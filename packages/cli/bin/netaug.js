#!/usr/bin/env node
// The `netaug` command. A committed file (not dist/) so that npm links the command at install time even in a
// fresh clone of the monorepo, where dist/ only exists after the build.
try {
  require('../dist/bin.js');
} catch (e) {
  if (e && e.code === 'MODULE_NOT_FOUND' && String(e.message).includes('dist/bin.js')) {
    process.stderr.write(
      'netaug: the CLI is not built yet — run `npm run build` (or `npx nx build @netaug/cli`) first\n',
    );
    process.exitCode = 2;
  } else {
    throw e;
  }
}
