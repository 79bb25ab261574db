// ESLint for test/ (npm run lint:test): typescript-eslint's recommended rules, with the few
// relaxations tests need. nodes/ and credentials/ are linted by the root eslint.config.mjs
// (n8n's strict community-node rules), which must stay as n8n ships it.
import tseslint from 'typescript-eslint';

export default tseslint.config(
	{
		// Most files still open with a blanket `/* eslint-disable */` from before test/ was linted;
		// they are being removed file by file. Then: 'error'.
		linterOptions: { reportUnusedDisableDirectives: 'off' },
	},
	{ ignores: ['test/e2e/fixtures/**'] },
	{
		files: ['test/**/*.{ts,js,mjs}'],
		extends: [tseslint.configs.recommended],
		rules: {
			// Tests reach into untyped n8n internals and arbitrary JSON.
			'@typescript-eslint/no-explicit-any': 'off',
			// CommonJS scripts and configs; n8n-core's own copies of @n8n/di are reached with require.resolve.
			'@typescript-eslint/no-require-imports': 'off',
			'@typescript-eslint/no-unused-vars': [
				'error',
				{ argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' },
			],
			// A test reports through expect; a stray console.log is noise in the jest output.
			'no-console': 'error',
		},
	},
	{
		// Programs that talk to the person running them.
		files: [
			'test/bench/**',
			'test/demo/**',
			'test/e2e/**',
			'test/simulator/cli.ts',
			'test/run-all.js',
			'test/reliability/report.js',
		],
		rules: { 'no-console': 'off' },
	},
);
