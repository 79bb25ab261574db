import { createHash } from 'crypto';
import type { IDataObject, IExecuteFunctions } from 'n8n-workflow';

/** The user's key, or one derived from execution, node, item and request, stable across retries. */
export function idempotencyKeyFor(
	this: IExecuteFunctions,
	itemIndex: number,
	body: IDataObject,
	options: IDataObject,
): string {
	const custom = String(options.idempotencyKey ?? '').trim();
	if (custom) return custom;
	const bodyHash = createHash('sha256').update(canonicalJson(body)).digest('hex').slice(0, 16);
	return ['n8n', this.getExecutionId() ?? 'manual', this.getNode().id, itemIndex, bodyHash].join(':');
}

function canonicalJson(value: unknown): string {
	if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
	if (value && typeof value === 'object') {
		const entries = Object.keys(value)
			.sort()
			.map((key) => `${JSON.stringify(key)}:${canonicalJson((value as IDataObject)[key])}`);
		return `{${entries.join(',')}}`;
	}
	return JSON.stringify(value);
}
