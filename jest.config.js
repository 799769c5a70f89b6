// @swc/jest strips types only; `npm run typecheck` (tsc --noEmit) is the type check.
const transform = {
  '^.+\\.ts$': ['@swc/jest', { jsc: { parser: { syntax: 'typescript' }, target: 'es2023' }, module: { type: 'commonjs' } }],
};

/** @type {import('jest').Config} */
module.exports = {
  projects: [
    {
      displayName: 'unit',
      testEnvironment: 'node',
      transform,
      testMatch: ['<rootDir>/service/test/unit/**/*.test.ts', '<rootDir>/incident/test/unit/**/*.test.ts'],
    },
    {
      displayName: 'monitoring',
      testEnvironment: 'node',
      transform,
      testMatch: ['<rootDir>/alerting/test/**/*.test.ts', '<rootDir>/monitoring/test/**/*.test.ts', '<rootDir>/runbooks/test/**/*.test.ts'],
    },
    {
      displayName: 'integration',
      testEnvironment: 'node',
      transform,
      testMatch: ['<rootDir>/service/test/integration/**/*.test.ts', '<rootDir>/incident/test/*.test.ts'],
      globalSetup: '<rootDir>/service/test/support/global-setup.ts',
      globalTeardown: '<rootDir>/service/test/support/global-teardown.ts',
      slowTestThreshold: 10,
    },
    {
      displayName: 'e2e',
      testEnvironment: 'node',
      transform,
      testMatch: ['<rootDir>/alerting/e2e/**/*.test.ts'],
    },
    {
      // docker-compose.yml brought up for real (stand-in images where no registry is reachable): npm run test:compose
      displayName: 'compose',
      testEnvironment: 'node',
      transform,
      testMatch: ['<rootDir>/deploy/test/compose/**/*.test.ts'],
    },
    {
      // Kubernetes manifests, compatibility checks, Alertmanager clustering: fast, no containers.
      displayName: 'deploy',
      testEnvironment: 'node',
      transform,
      testMatch: ['<rootDir>/deploy/test/*.test.ts'],
    },
  ],
  testTimeout: 60_000,
};
