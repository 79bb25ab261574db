/**
 * The n8n install a compatibility run targets, handed over by run-matrix.js: the install script's
 * result line (TRUEDY_COMPAT_INSTALL) and the matrix row's extra environment (TRUEDY_COMPAT_ENV).
 */
import * as path from 'path';

import type { N8nInstall } from '../n8n-server';

export interface CompatTarget {
	install: N8nInstall;
	/** Environment for every n8n process of this version, over the harness defaults. */
	env: Record<string, string>;
	/** 'works' (the default) or 'refused' (a version below the stated minimum). */
	expect: 'works' | 'refused';
}

export function compatTarget(): CompatTarget {
	const raw = process.env.TRUEDY_COMPAT_INSTALL;
	if (!raw) {
		throw new Error(
			'no TRUEDY_COMPAT_INSTALL: run the matrix with `node test/e2e/compat/run-matrix.js [version ...]`',
		);
	}
	const result = JSON.parse(raw) as Omit<N8nInstall, 'n8nDir'>;
	// n8nBin = <n8nDir>/node_modules/n8n/bin/n8n, as n8n-server.ts derives it.
	const install: N8nInstall = {
		...result,
		n8nDir: path.resolve(result.n8nBin, '..', '..', '..', '..'),
	};
	return {
		install,
		env: JSON.parse(process.env.TRUEDY_COMPAT_ENV || '{}') as Record<string, string>,
		expect: process.env.TRUEDY_COMPAT_EXPECT === 'refused' ? 'refused' : 'works',
	};
}
