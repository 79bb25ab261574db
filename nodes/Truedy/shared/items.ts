import type {
	IDataObject,
	IExecuteFunctions,
	INodeExecutionData,
	IPairedItemData,
} from 'n8n-workflow';

export interface ItemRun {
	itemIndex: number;
}

type ItemResult = IDataObject | IDataObject[];

/**
 * Runs `handler` for every input item, at most `concurrency` at once, and returns outputs in
 * input order with `pairedItem`. With Continue On Fail each failed item becomes an error item (see
 * errorItem); otherwise no new item starts after a failure and the first failure (by item order) is thrown.
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
				outputs[itemIndex] = [errorItem(this, error as Error, itemIndex)];
			}
		}
	};
	await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, count)) }, worker));

	if (failures.length > 0) {
		throw failures.sort((a, b) => a.itemIndex - b.itemIndex)[0].error;
	}
	return outputs.flat();
}

/** The json of an error item: `{ error, details: { itemIndex, description?, httpCode? } }`. */
export function errorJson(
	error: Error & { description?: string | null; httpCode?: string | null },
	itemIndex: number,
) {
	const details: IDataObject = { itemIndex };
	if (error.description) details.description = error.description;
	if (error.httpCode) details.httpCode = error.httpCode;
	return { error: error.message, details };
}

/**
 * The output item of a failed input item under Continue On Fail.
 *
 * "Continue (using regular output)": `{ error, details }` (details extended by `extraDetails`).
 *
 * "Continue (using error output)": `{ error, message }` (the message, then what to do), because that
 * is the shape every n8n routes to the error output: 1.x and 2.x before 2.35.5 route only items
 * whose json is `{ error }` or `{ error, message }` (or whose `error` field is set, but n8n then
 * replaces the json with `{ error }` alone). n8n adds the input item's fields to it, so a workflow
 * still has e.g. the lead it was calling.
 */
export function errorItem(
	context: Pick<IExecuteFunctions, 'getNode'>,
	error: Error & { description?: string | null; httpCode?: string | null },
	itemIndex: number,
	pairedItem: IPairedItemData | IPairedItemData[] | number = { item: itemIndex },
	extraDetails: IDataObject = {},
): INodeExecutionData {
	if (context.getNode().onError === 'continueErrorOutput') {
		const json: IDataObject = { error: error.message };
		if (error.description) json.message = error.description;
		return { json, pairedItem };
	}
	const json = errorJson(error, itemIndex);
	Object.assign(json.details, extraDetails);
	return { json, pairedItem };
}
