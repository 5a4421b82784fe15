const path = require('path');

/** Tests register tfjs' gradients through @tensorflow/tfjs-layers (tfjs-core's Node bundle has none). */
module.exports = {
  ...require('../../jest.preset.js')(__dirname),
  setupFiles: [path.join(__dirname, 'test/setup-gradients.ts')],
};
