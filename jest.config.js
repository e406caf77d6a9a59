/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/src', '<rootDir>/local-host', '<rootDir>/cli', '<rootDir>/infra', '<rootDir>/bench'],
  testMatch: ['**/__tests__/**/*.test.ts'],
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json' }] },
  globalSetup: '<rootDir>/local-host/testing/globalSetup.ts',
  globalTeardown: '<rootDir>/local-host/testing/globalTeardown.ts',
  testTimeout: 60000,
  // Two cores: one worker per core keeps Azurite and spawned hosts from starving each other.
  maxWorkers: 2,
};
