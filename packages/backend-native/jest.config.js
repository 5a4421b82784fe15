const path = require('path');

// Tests check results, not speed: OpenMP workers that sleep at once keep them fast on a busy CI machine
// (set here, in jest's own process, so the real environment of the tests has it when libgomp loads).
process.env.OMP_WAIT_POLICY ??= 'PASSIVE';

/** Tests register tfjs' gradients through @tensorflow/tfjs-layers (tfjs-core's Node bundle has none). */
module.exports = {
  ...require('../../jest.preset.js')(__dirname),
  setupFiles: [path.join(__dirname, 'test/setup-gradients.ts')],
};
