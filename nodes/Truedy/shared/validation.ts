import type { IExecuteFunctions } from 'n8n-workflow';
import { NodeOperationError } from 'n8n-workflow';

/** A per-item input error that names the item and the field; nothing is sent for that item. */
export function fieldError(
	context: IExecuteFunctions,
	itemIndex: number,
	field: string,
	problem: string,
): NodeOperationError {
	return new NodeOperationError(context.getNode(), `Item ${itemIndex}: "${field}" ${problem}`, {
		itemIndex,
		description: `Fix the "${field}" field for item ${itemIndex}. Nothing was sent to Truedy for this item.`,
	});
}

/** A text parameter that must not be empty, trimmed. */
export function requiredText(
	context: IExecuteFunctions,
	itemIndex: number,
	parameter: string,
	field: string,
): string {
	const value = context.getNodeParameter(parameter, itemIndex, '', { extractValue: true });
	const text = typeof value === 'string' || typeof value === 'number' ? String(value).trim() : '';
	if (!text) throw fieldError(context, itemIndex, field, 'is empty');
	return text;
}

export function quote(value: unknown): string {
	const text = typeof value === 'string' ? value : (JSON.stringify(value) ?? String(value));
	return `"${text.length > 60 ? `${text.slice(0, 57)}...` : text}"`;
}
