/** Root jest config: one project per package, TypeScript compiled by swc, @netaug/* resolved to sources. */
const fs = require('fs');
const path = require('path');

const packages = fs
  .readdirSync(path.join(__dirname, 'packages'))
  .filter((d) => fs.existsSync(path.join(__dirname, 'packages', d, 'jest.config.js')));

module.exports = {
  testTimeout: 120000,
  projects: [
    ...packages.map((d) => `<rootDir>/packages/${d}`),
    ...(fs.existsSync(path.join(__dirname, 'tools', 'jest.config.js')) ? ['<rootDir>/tools'] : []),
  ],
};
