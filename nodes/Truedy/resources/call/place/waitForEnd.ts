import type {
	IDataObject,
	IExecuteFunctions,
	INodeExecutionData,
	INodeProperties,
} from 'n8n-workflow';
import { NodeOperationError } from 'n8n-workflow';

import {
	isTerminalStatus,
	MIN_POLL_INTERVAL_SECONDS,
	normalizeCall,
	normalizeCallStatus,
	transcriptExpected,
} from '../../../shared/calls';
import { errorItem } from '../../../shared/items';
import { sleepWithAbort } from '../../../shared/sleep';
import type { TruedyRequest } from '../../../transport/request';
import { createCallWatcher, type CallSource } from './callWatcher';
const MAX_POLL_INTERVAL_MS = 30_000;
/** Polls stay at the base interval this long, then slow down gently. */
const STEADY_POLLING_MS = 120_000;

export interface WaitSettings {
	maxWaitMs: number;
	pollIntervalMs: number;
	transcriptWaitMs: number;
	errorOnTimeout: boolean;
}

export function waitOptionsDescription(show: Record<string, string[]>): INodeProperties[] {
	return [
		{
			displayName: 'Wait for Call to End',
			name: 'waitForEnd',
			type: 'boolean',
			default: false,
			description:
				'Whether to keep the execution open until each call ends and output the final call (status, duration, summary, transcript, recording URL). Polls Truedy every 5 seconds or more. Ignored when the node runs as an AI tool.',
			displayOptions: { show },
		},
		{
			displayName: 'Wait Options',
			name: 'waitOptions',
			type: 'collection',
			placeholder: 'Add Option',
			default: {},
			displayOptions: { show: { ...show, waitForEnd: [true] } },
			options: [
				{
					displayName: 'Error on Time-Out',
					name: 'errorOnTimeout',
					type: 'boolean',
					default: false,
					description:
						'Whether a call still going at Max Wait fails the item. Otherwise the call is returned as it stands with waitTimedOut: true.',
				},
				{
					displayName: 'Max Wait (Seconds)',
					name: 'maxWait',
					type: 'number',
					typeOptions: { minValue: 1 },
					default: 1800,
					description: 'How long to wait for each call to end',
				},
				{
					displayName: 'Poll Interval (Seconds)',
					name: 'pollInterval',
					type: 'number',
					typeOptions: { minValue: MIN_POLL_INTERVAL_SECONDS },
					default: MIN_POLL_INTERVAL_SECONDS,
					description:
						'Time between status checks; it grows gently on calls longer than two minutes',
				},
				{
					displayName: 'Transcript Wait (Seconds)',
					name: 'transcriptWait',
					type: 'number',
					typeOptions: { minValue: 0 },
					default: 30,
					description:
						'The transcript can be missing for a few seconds after a call ends. How long to keep checking for it, once per poll interval.',
				},
			],
		},
	];
}

export function readWaitSettings(context: IExecuteFunctions): WaitSettings {
	const options = context.getNodeParameter('waitOptions', 0, {}) as IDataObject;
	const seconds = (value: unknown, fallback: number) => {
		const number = Number(value);
		return Number.isFinite(number) && number >= 0 ? number : fallback;
	};
	return {
		maxWaitMs: seconds(options.maxWait, 1800) * 1000,
		pollIntervalMs:
			Math.max(
				MIN_POLL_INTERVAL_SECONDS,
				seconds(options.pollInterval, MIN_POLL_INTERVAL_SECONDS),
			) * 1000,
		transcriptWaitMs: seconds(options.transcriptWait, 30) * 1000,
		errorOnTimeout: options.errorOnTimeout === true,
	};
}

/** The base interval for the first two minutes, then 20% longer per poll, up to 30 s. */
export function pollDelay(elapsedMs: number, baseMs: number, previousMs: number): number {
	if (elapsedMs < STEADY_POLLING_MS) return baseMs;
	return Math.min(Math.max(baseMs, MAX_POLL_INTERVAL_MS), Math.round(previousMs * 1.2));
}

/**
 * Waits for every placed call (items without `error`) to end, all at once, and replaces each
 * with the final call. Items that fail while waiting become errors, or fail the node.
 */
export async function waitForPlacedCalls(
	this: IExecuteFunctions,
	placed: INodeExecutionData[],
	settings: WaitSettings,
	beforeSend?: TruedyRequest['beforeSend'],
): Promise<INodeExecutionData[]> {
	// One list read per poll cycle answers for every call (callWatcher.ts).
	const calls = placed.filter((item) => item.json.error === undefined).map((item) => item.json);
	const source = createCallWatcher(this, calls, beforeSend);
	const results = await Promise.allSettled(
		placed.map(async (item) => {
			if (item.json.error !== undefined) return item;
			const itemIndex = pairedIndex(item);
			return {
				...item,
				json: await waitForCallEnd.call(this, item.json, itemIndex, settings, source),
			};
		}),
	);
	return results.map((result, position) => {
		if (result.status === 'fulfilled') return result.value;
		const item = placed[position];
		if (!this.continueOnFail()) throw result.reason;
		return errorItem(this, result.reason as Error, pairedIndex(item), item.pairedItem, {
			call: item.json,
		});
	});
}

export async function waitForCallEnd(
	this: IExecuteFunctions,
	call: IDataObject,
	itemIndex: number,
	settings: WaitSettings,
	source: CallSource = createCallWatcher(this, [call]),
): Promise<IDataObject> {
	const callId = String(call.id ?? '');
	try {
		return await followCall.call(this, call, callId, itemIndex, settings, source);
	} finally {
		source.done(callId);
	}
}

async function followCall(
	this: IExecuteFunctions,
	call: IDataObject,
	callId: string,
	itemIndex: number,
	settings: WaitSettings,
	source: CallSource,
): Promise<IDataObject> {
	const signal = this.getExecutionCancelSignal();
	const started = Date.now();
	let current = call;
	let delay = settings.pollIntervalMs;
	let polled = false;

	// Checks are never closer together than the poll interval, and never later than Max Wait.
	while (!isTerminalStatus(current.status)) {
		const elapsed = Date.now() - started;
		delay = pollDelay(elapsed, settings.pollIntervalMs, delay);
		const wait = Math.min(delay, settings.maxWaitMs - elapsed);
		if (wait <= 0 || (polled && wait < settings.pollIntervalMs)) {
			return timedOut(this, current, itemIndex, settings);
		}
		await sleepWithAbort(wait, signal);
		current = await source.fetch(callId, itemIndex);
		polled = true;
	}

	const transcriptDeadline = Date.now() + settings.transcriptWaitMs;
	while (
		transcriptExpected(current) &&
		Date.now() + settings.pollIntervalMs <= transcriptDeadline
	) {
		await sleepWithAbort(settings.pollIntervalMs, signal);
		current = await source.fetchOne(callId, itemIndex);
	}
	return { ...normalizeCall(current), waitTimedOut: false };
}

function timedOut(
	context: IExecuteFunctions,
	call: IDataObject,
	itemIndex: number,
	settings: WaitSettings,
): IDataObject {
	if (settings.errorOnTimeout) {
		throw new NodeOperationError(
			context.getNode(),
			`Item ${itemIndex}: call ${String(call.id)} had not ended after ${settings.maxWaitMs / 1000} s (status: ${String(normalizeCallStatus(call.status))})`,
			{
				itemIndex,
				description:
					'The call was placed and may still be going. Raise Max Wait, or turn off Error on Time-Out to get the call as it stands.',
			},
		);
	}
	return { ...normalizeCall(call), waitTimedOut: true };
}

function pairedIndex(item: INodeExecutionData): number {
	const paired = Array.isArray(item.pairedItem) ? item.pairedItem[0] : item.pairedItem;
	return typeof paired === 'object' && paired !== null ? paired.item : 0;
}
