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
 * Replaces each compiled `vendor/*.js` re-export with a self-contained bundle, so the
 * published package needs no runtime dependencies.
 */
async function bundleVendor() {
	const vendorDir = 'nodes/Truedy/shared/vendor';
	for (const name of ['libphonenumber']) {
		await esbuild.build({
			entryPoints: [path.join(vendorDir, `${name}.ts`)],
			outfile: path.join('dist', vendorDir, `${name}.js`),
			bundle: true,
			platform: 'node',
			format: 'cjs',
			target: 'es2019',
			minify: true,
			legalComments: 'eof',
			logLevel: 'warning',
		});
	}
}

exports.clean = clean;
exports.build = series(copyAssets, bundleVendor);
exports.default = exports.build;
