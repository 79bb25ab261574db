/**
 * @deprecated Kept for test/nodes/Truedy/call/place/*, which still import from here: import from
 * test/support instead, and run Place Call with
 * `runTruedy(sim, { ...run, parameters: placeCall({ ...parameters, options: { concurrency: 1, … } }) })`.
 */
import type { IDataObject, INodeParameters } from 'n8n-workflow';

import type { TruedySimulator } from '../simulator/server';
import type { RunResult } from './engine';
import { leadPhone } from './leads';
import { placeCall, runTruedy, type TruedyRun } from './truedy';

export { startFaultProxy, type Fault, type FaultProxy } from './fault-proxy';
export { loadOptionsContext, type LoadOptionsSetup } from './load-options';
export {
	agentById,
	callRequests,
	callsPerNumber,
	idempotencyKeyOf,
	items,
	NODE,
	runText,
} from './truedy';

export type PlaceCallRun = TruedyRun & { parameters: INodeParameters };

/**
 * @deprecated runTruedy with placeCall(…). Runs Call › Place Call one call at a time unless the
 * test says otherwise, so request order is item order.
 */
export async function runPlaceCall(sim: TruedySimulator, run: PlaceCallRun): Promise<RunResult> {
	const options = { concurrency: 1, ...(run.parameters.options as IDataObject | undefined) };
	return await runTruedy(sim, { ...run, parameters: placeCall({ ...run.parameters, options }) });
}

/** @deprecated leadPhone */
export const usNumber = leadPhone;
