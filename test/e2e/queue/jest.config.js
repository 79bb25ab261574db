/**
 * Jest config for the queue-mode end-to-end suite (npm run test:queue): Redis, PostgreSQL and
 * n8n main + 2 workers + a webhook process, started by the suite (test/e2e/queue/queue-cluster.ts).
 */
/** @type {import('jest').Config} */
module.exports = {
	rootDir: '../../..',
	preset: 'ts-jest',
	testEnvironment: 'node',
	roots: ['<rootDir>/test/e2e/queue'],
	testMatch: ['**/*.queue.ts'],
	transform: {
		'^.+\\.ts$': ['ts-jest', { tsconfig: '<rootDir>/test/tsconfig.json' }],
	},
	testTimeout: 5 * 60_000,
	maxWorkers: 1,
};
