/**
 * The n8n versions the compatibility matrix runs, each with the Node major its engine needs
 * (n8n 2.40+ wants Node 24; 1.123 and 2.0–2.7 run on Node ≥ 20.19, 22 here) and the environment
 * that differs from the harness defaults (n8n-server.ts, written for 2.41.1).
 *
 * `ci: true` rows run in .ci/run; the others on request (`node test/e2e/compat/run-matrix.js 1.101.1`).
 * `expect: 'refused'` is a version below the stated minimum: the test there asserts that both nodes
 * refuse to load with a message naming the minimum (no TypeError), nothing else.
 */

/**
 * Harness defaults that older engines do not know: the vm expression engine instead of quickjs
 * (2.41+), and no disabled module (mcp-registry is unknown there, and an unknown name stops n8n).
 */
const OLDER_ENGINE_ENV = { N8N_EXPRESSION_ENGINE: 'vm', N8N_DISABLED_MODULES: '' };

const MATRIX = [
	{ n8n: '2.41.1', node: 24, ci: true, env: {}, note: 'the e2e default' },
	{ n8n: '1.123.81', node: 22, ci: true, env: OLDER_ENGINE_ENV, note: 'newest 1.x' },
	{ n8n: '2.7.5', node: 22, ci: true, env: OLDER_ENGINE_ENV, note: 'early 2.x' },
	{ n8n: '1.101.1', node: 22, ci: false, env: OLDER_ENGINE_ENV, note: 'the stated minimum' },
	// 1.82.0 does not install from the registry (@n8n/api-types@0.17.0 is missing there).
	{
		n8n: '1.81.4',
		node: 22,
		ci: false,
		env: {},
		expect: 'refused',
		note: 'below the minimum, no NodeConnectionTypes',
	},
];

module.exports = { MATRIX };
