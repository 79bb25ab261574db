/**
 * The test support module: import from here.
 *
 * - useSimulator(options): one simulator per test file, reset after every test (simulator.ts)
 * - runTruedy(sim, run), placeCall(…), outputJson, the request-log readers (truedy.ts)
 * - leadPhone(i), makeLeads(n): numbers and items to call (leads.ts)
 * - sleep (time.ts)
 * - the engine underneath, for workflows of other shapes (engine.ts)
 * - loadOptionsContext for the editor's pickers (load-options.ts)
 * - startTriggerHarness for the trigger over real HTTP (webhook-engine.ts)
 * - startFaultProxy between the node and the simulator (fault-proxy.ts)
 * - captureN8nLogger: n8n's Logger as jest mocks (n8n-logger.ts)
 * - fast-check generators of bad input (generators.ts)
 */
export * from './engine';
export * from './fault-proxy';
export * from './generators';
export * from './leads';
export * from './load-options';
export * from './n8n-logger';
export * from './simulator';
export * from './time';
export * from './truedy';
export {
	AFTER_NAME,
	startTriggerHarness,
	TRIGGER_NAME,
	type HandledRequest,
	type RequestOutcome,
	type TriggerExecution,
	type TriggerHarness,
	type TriggerHarnessOptions,
} from './webhook-engine';
export {
	SIM_AGENTS,
	SIM_NUMBERS,
	type RecordedRequest,
	type TruedySimulator,
} from '../simulator/server';
