/**
 * Imported first by bench scripts that load the node classes from source under ts-node: Node
 * resolves `Truedy.node` to `Truedy.node.json` (the codex file) before `Truedy.node.ts`, as `.json`
 * is registered before ts-node's `.ts`. Same as ts-node's preferTsExts, set from inside the script.
 */
const extensions = require.extensions;
const ordered = Object.entries(extensions).sort(
	([a], [b]) => Number(b === '.ts') - Number(a === '.ts'),
);
for (const [ext] of ordered) delete extensions[ext];
for (const [ext, loader] of ordered) extensions[ext] = loader;

export {};
