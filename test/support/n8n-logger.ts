/**
 * Replaces n8n's Logger with jest mocks, so tests can read what a node logs. n8n-core resolves its
 * own copies of @n8n/di and @n8n/backend-common, so the Logger is set in those. Call at module
 * level of a test file (it needs jest's globals).
 */
import path from 'path';

export interface CapturedLogger {
	error: jest.Mock;
	warn: jest.Mock;
	info: jest.Mock;
	debug: jest.Mock;
	verbose: jest.Mock;
	scoped(): CapturedLogger;
}

export function captureN8nLogger(): CapturedLogger {
	const logger: CapturedLogger = {
		error: jest.fn(),
		warn: jest.fn(),
		info: jest.fn(),
		debug: jest.fn(),
		verbose: jest.fn(),
		scoped() {
			return logger;
		},
	};
	const fromCore = (name: string) =>
		require(require.resolve(name, { paths: [path.dirname(require.resolve('n8n-core'))] }));
	fromCore('@n8n/di').Container.set(fromCore('@n8n/backend-common').Logger, logger);
	return logger;
}
