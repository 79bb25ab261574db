const fs = require('fs');
const path = require('path');
const { src, dest, series } = require('gulp');
const esbuild = require('esbuild');

/** Removes the previous build, so files of moved or deleted sources are never shipped. */
async function clean() {
	fs.rmSync('dist', { recursive: true, force: true });
}

/** Icons and codex files next to the compiled nodes and credentials. */
function copyAssets() {
	return src(['nodes/**/*.{png,svg,json}', 'credentials/**/*.{png,svg}'], {
		base: '.',
		encoding: false,
	}).pipe(dest('dist'));
}

/**
 * Bundled packages: the vendor entry point, the npm package it bundles, that package's licences
 * (SPDX, for the bundle's banner) and licence files, and what else the notice must say.
 */
const VENDOR_BUNDLES = [
	{
		name: 'libphonenumber',
		package: 'libphonenumber-js',
		spdx: 'MIT; metadata Apache-2.0',
		licenses: ['LICENSE', 'LICENSE.Apache'],
		about:
			"Its phone-number metadata is derived from Google's libphonenumber (https://github.com/google/libphonenumber),\n" +
			'licensed under the Apache License 2.0 (LICENSE.Apache below).',
	},
];

/**
 * Replaces each compiled `vendor/*.js` re-export with a self-contained bundle, so the
 * published package needs no runtime dependencies, and puts the bundled package's licence notice
 * next to it (`vendor/<name>.LICENSE.txt`).
 */
async function bundleVendor() {
	const vendorDir = 'nodes/Truedy/shared/vendor';
	for (const bundle of VENDOR_BUNDLES) {
		const { name, package: packageName } = bundle;
		await esbuild.build({
			entryPoints: [path.join(vendorDir, `${name}.ts`)],
			outfile: path.join('dist', vendorDir, `${name}.js`),
			bundle: true,
			platform: 'node',
			format: 'cjs',
			target: 'es2019',
			minify: true,
			legalComments: 'eof',
			banner: { js: `/*! Bundles ${packageName} (${bundle.spdx}): see ${name}.LICENSE.txt */` },
			logLevel: 'warning',
		});
		fs.writeFileSync(path.join('dist', vendorDir, `${name}.LICENSE.txt`), licenseNotice(bundle));
	}
}

/** The notice shipped with a bundle: what it contains, then the package's licence files verbatim. */
function licenseNotice({ name, package: packageName, licenses, about }) {
	const packageDir = path.dirname(require.resolve(`${packageName}/package.json`));
	const manifest = JSON.parse(fs.readFileSync(path.join(packageDir, 'package.json'), 'utf8'));
	const parts = [
		`${name}.js in this folder is a bundle of ${packageName} ${manifest.version} (${manifest.homepage ?? manifest.repository?.url ?? ''}).`,
		`${packageName} is licensed under the ${manifest.license} licence (${licenses[0]} below).`,
		about,
	];
	for (const file of licenses) {
		const text = fs.readFileSync(path.join(packageDir, file), 'utf8').trim();
		parts.push('', `===== ${packageName}/${file} =====`, '', text);
	}
	return parts.join('\n') + '\n';
}

exports.clean = clean;
exports.build = series(copyAssets, bundleVendor);
exports.default = exports.build;
