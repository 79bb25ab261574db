import type { IDataObject, IExecuteFunctions, INodeExecutionData } from 'n8n-workflow';

export interface ItemRun {
	itemIndex: number;
}

type ItemResult = IDataObject | IDataObject[];

/**
 * Runs `handler` for every input item, at most `concurrency` at once, and returns outputs in
 * input order with `pairedItem`. With Continue On Fail each failed item becomes `{ error, details }`;
 * otherwise no new item starts after a failure and the first failure (by item order) is thrown.
 */
export async function mapItems(
	this: IExecuteFunctions,
	handler: (run: ItemRun) => Promise<ItemResult>,
	concurrency = 1,
): Promise<INodeExecutionData[]> {
	const count = this.getInputData().length;
	const outputs: INodeExecutionData[][] = new Array(count);
	const failures: Array<{ itemIndex: number; error: Error }> = [];
	const continueOnFail = this.continueOnFail();
	let next = 0;

	const worker = async () => {
		while (next < count && (continueOnFail || failures.length === 0)) {
			const itemIndex = next++;
			try {
				const result = await handler({ itemIndex });
				const list = Array.isArray(result) ? result : [result];
				outputs[itemIndex] = list.map((json) => ({ json, pairedItem: { item: itemIndex } }));
			} catch (error) {
				if (!continueOnFail) {
					failures.push({ itemIndex, error: error as Error });
					continue;
				}
				outputs[itemIndex] = [{ json: errorJson(error as Error, itemIndex), pairedItem: { item: itemIndex } }];
			}
		}
	};
	await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, count)) }, worker));

	if (failures.length > 0) {
		throw failures.sort((a, b) => a.itemIndex - b.itemIndex)[0].error;
	}
	return outputs.flat();
}

/** Only `error`, `message` and `details` keys: n8n's "Continue (using error output)" routes such items to the error output. */
export function errorJson(error: Error & { description?: string | null; httpCode?: string | null }, itemIndex: number) {
	const details: IDataObject = { itemIndex };
	if (error.description) details.description = error.description;
	if (error.httpCode) details.httpCode = error.httpCode;
	return { error: error.message, details };
}
