/**
 * Jest config for the compatibility matrix (one n8n version per run, chosen by run-matrix.js).
 * Its files end in .compat.ts, so neither the in-process nor the e2e config picks them up.
 */
/** @type {import('jest').Config} */
module.exports = {
	rootDir: '../../..',
	preset: 'ts-jest',
	testEnvironment: 'node',
	roots: ['<rootDir>/test/e2e/compat'],
	testMatch: ['**/*.compat.ts'],
	transform: {
		'^.+\\.ts$': ['ts-jest', { tsconfig: '<rootDir>/test/tsconfig.json' }],
	},
	testTimeout: 5 * 60_000,
	maxWorkers: 1,
};
