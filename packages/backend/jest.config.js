const path = require('path');

/** Tests register this package's own gradient functions (tfjs-core's Node bundle has none; no tfjs-layers). */
module.exports = {
  ...require('../../jest.preset.js')(__dirname),
  setupFiles: [path.join(__dirname, 'test/setup-gradients.ts')],
};
