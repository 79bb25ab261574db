// What users install: the packed tarball's contents and manifest, and the built code's imports.
import { execFileSync } from 'child_process';
import fs from 'fs';
import path from 'path';

const root = path.resolve(__dirname, '..');
const manifest = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
const ALLOWED_RUNTIME_IMPORTS = new Set(['n8n-workflow', 'crypto', 'node:crypto']);

function packedFiles(): string[] {
	const out = execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], {
		cwd: root,
		encoding: 'utf8',
		stdio: ['ignore', 'pipe', 'ignore'],
	});
	return JSON.parse(out)[0].files.map((file: { path: string }) => file.path);
}

function builtJsFiles(dir = path.join(root, 'dist')): string[] {
	return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
		const full = path.join(dir, entry.name);
		if (entry.isDirectory()) return builtJsFiles(full);
		return entry.name.endsWith('.js') ? [full] : [];
	});
}

describe('published package', () => {
	beforeAll(() => {
		if (!fs.existsSync(path.join(root, 'dist'))) throw new Error('Run `npm run build` first');
	});

	test('has no runtime dependencies and only n8n-workflow as peer', () => {
		expect(manifest.dependencies ?? {}).toEqual({});
		expect(manifest.peerDependencies).toEqual({ 'n8n-workflow': '*' });
		expect(manifest.license).toBe('MIT');
		expect(manifest.keywords).toContain('n8n-community-node-package');
	});

	test('ships only dist, README, license and package.json', () => {
		const files = packedFiles();
		const outside = files.filter(
			(file) =>
				!file.startsWith('dist/') && !['README.md', 'LICENSE.md', 'package.json'].includes(file),
		);
		expect(outside).toEqual([]);
		expect(files).toEqual(expect.arrayContaining(['README.md', 'LICENSE.md', 'package.json']));
		expect(files.filter((file) => /simulator|\.test\.|(^|\/)test\//.test(file))).toEqual([]);
	});

	test('every node and credential listed in package.json is built, with its icons', () => {
		const files = packedFiles();
		for (const entry of [...manifest.n8n.nodes, ...manifest.n8n.credentials]) {
			expect(files).toContain(entry);
		}
		expect(files).toEqual(
			expect.arrayContaining(['dist/nodes/Truedy/truedy.svg', 'dist/nodes/Truedy/truedy.dark.svg']),
		);
		// Both nodes live in one service folder, as n8n's own Stripe and GitHub nodes do.
		expect(files).toEqual(
			expect.arrayContaining([
				'dist/nodes/Truedy/Truedy.node.json',
				'dist/nodes/Truedy/TruedyTrigger.node.json',
			]),
		);
		expect(files.filter((file) => file.startsWith('dist/nodes/TruedyTrigger/'))).toEqual([]);
	});

	test('built code imports nothing but n8n-workflow, crypto and its own files', () => {
		const offenders: string[] = [];
		for (const file of builtJsFiles()) {
			const source = fs.readFileSync(file, 'utf8');
			for (const [, name] of source.matchAll(/require\(["']([^"']+)["']\)/g)) {
				if (!name.startsWith('.') && !ALLOWED_RUNTIME_IMPORTS.has(name)) {
					offenders.push(`${path.relative(root, file)} → ${name}`);
				}
			}
		}
		expect(offenders).toEqual([]);
	});

	test('the bundled phone library works without libphonenumber-js installed', () => {
		const script = `
			const Module = require('module');
			const resolve = Module._resolveFilename;
			Module._resolveFilename = function (request, ...rest) {
				if (request.startsWith('libphonenumber-js')) throw new Error('not installed');
				return resolve.call(this, request, ...rest);
			};
			const { normalizePhoneNumber } = require('./dist/nodes/Truedy/shared/phone.js');
			console.log(JSON.stringify(normalizePhoneNumber('(415) 555-1234', 'US')));`;
		const out = execFileSync(process.execPath, ['-e', script], { cwd: root, encoding: 'utf8' });
		expect(JSON.parse(out)).toEqual({ ok: true, e164: '+14155551234' });
	});

	test('ships the licence notice of the bundled libphonenumber-js (MIT, metadata Apache-2.0)', () => {
		const notice = 'dist/nodes/Truedy/shared/vendor/libphonenumber.LICENSE.txt';
		expect(packedFiles()).toContain(notice);
		const text = fs.readFileSync(path.join(root, notice), 'utf8');
		expect(text).toContain('(The MIT License)');
		expect(text).toContain('Apache License');
	});
});
