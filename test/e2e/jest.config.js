/**
 * Jest config for the end-to-end tests against a real n8n server (slow: the first run installs
 * Node 24 + n8n into a cache, about 6 min). Run: npx jest -c test/e2e/jest.config.js
 */
/** @type {import('jest').Config} */
module.exports = {
	rootDir: '../..',
	preset: 'ts-jest',
	testEnvironment: 'node',
	roots: ['<rootDir>/test/e2e'],
	testMatch: ['**/*.test.ts'],
	transform: {
		'^.+\\.ts$': ['ts-jest', { tsconfig: '<rootDir>/test/tsconfig.json' }],
	},
	testTimeout: 5 * 60_000,
	// One n8n at a time on 2 cores.
	maxWorkers: 1,
};
