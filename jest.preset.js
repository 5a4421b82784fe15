/** Shared jest settings for every package (imported by packages/<name>/jest.config.js). */
const path = require('path');

module.exports = function preset(dir, overrides = {}) {
  const name = path.basename(dir);
  return {
    displayName: name,
    rootDir: dir,
    testEnvironment: 'node',
    testMatch: ['<rootDir>/src/**/*.test.ts', '<rootDir>/test/**/*.test.ts'],
    transform: {
      '^.+\\.(t|j)sx?$': [
        require.resolve('@swc/jest'),
        { jsc: { parser: { syntax: 'typescript' }, target: 'es2022' }, module: { type: 'commonjs' } },
      ],
    },
    moduleNameMapper: {
      '^@netaug/([a-z-]+)$': path.join(__dirname, 'packages/$1/src/index.ts'),
      // Node-only entries (`@netaug/core/node`) resolve to their sources too
      '^@netaug/([a-z-]+)/node$': path.join(__dirname, 'packages/$1/src/node/index.ts'),
    },
    testTimeout: 120000,
    ...overrides,
  };
};
