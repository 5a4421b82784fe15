/**
 * Tests of the repository itself (not of one package): pack-and-install of every package, the examples, the
 * generated CLI and API references. They run against the BUILT packages (`npm run build` first; `npm test`
 * does), never against sources, because that is what a user gets.
 */
module.exports = require('../jest.preset.js')(__dirname, { testTimeout: 300000 });
