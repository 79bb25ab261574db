import type { IDataObject, IExecuteFunctions } from 'n8n-workflow';

import { mayHaveTakenEffect } from '../../../transport/errors';

/**
 * Which calls a Place Call run has created so far. n8n discards the output of a run that is
 * cancelled or fails (without Continue On Fail), so such a run logs what it had created, and
 * which requests were still unanswered (Truedy may have created those calls too).
 */
export class PlacedCallLedger {
	private readonly created = new Map<number, string>();
	private readonly pending = new Map<number, string>();
	/** Items whose key is the user's Idempotency Key (a re-run with it replays them). */
	private readonly customKeys = new Set<number>();
	private reported = false;

	constructor(private readonly context: IExecuteFunctions) {}

	/** A POST /calls for this item is about to be sent; it counts as unanswered until it settles. */
	sending(itemIndex: number, idempotencyKey: string, customKey: boolean): void {
		this.pending.set(itemIndex, idempotencyKey);
		if (customKey) this.customKeys.add(itemIndex);
	}

	/** The request for this item got a call back. */
	placed(itemIndex: number, callId: unknown): void {
		this.pending.delete(itemIndex);
		if (typeof callId === 'string' && callId !== '') this.created.set(itemIndex, callId);
	}

	/**
	 * The request for this item failed. If any attempt may have created the call (lost or
	 * unreadable answer, 5xx), the item stays listed as unanswered.
	 */
	failed(itemIndex: number, error: unknown): void {
		if (!mayHaveTakenEffect(error)) this.pending.delete(itemIndex);
	}

	/**
	 * The error that fails the run, told which calls were already placed (and which requests may have
	 * placed one): n8n drops the output of a failed run, so this is where the user sees them.
	 */
	explainFailure<T>(error: T): T {
		if (this.created.size === 0 && this.pending.size === 0) return error;
		const { createdCalls, unanswered } = this.entries();
		const items = [...createdCalls.map((c) => c.itemIndex), ...unanswered.map((u) => u.itemIndex)];
		const parts = [
			createdCalls.length > 0
				? `Before this error, Truedy Place Call had placed ${createdCalls.length} call(s): ${listed(
						createdCalls.map((c) => `item ${c.itemIndex} → ${c.callId}`),
						'context.placedCalls',
					)}.`
				: '',
			unanswered.length > 0
				? `Truedy may ${createdCalls.length > 0 ? 'also ' : ''}have placed calls for ${listed(
						unanswered.map((u) => `item ${u.itemIndex} (idempotency key ${u.idempotencyKey})`),
						'context.unansweredCalls',
					)}: their answers were lost.`
				: '',
			items.every((itemIndex) => this.customKeys.has(itemIndex))
				? 'These calls were placed under your Idempotency Key, so a re-run with the same keys gets them back without dialling again.'
				: 'n8n drops the output of a failed run, and a re-run is a new execution with new default keys, so it would dial these people again: remove these rows before re-running. To make re-runs safe, set Options → Idempotency Key to a stable per-lead value such as {{ $json.leadId }}.',
		];
		const target = error as { description?: string | null; context?: IDataObject };
		if (typeof target !== 'object' || target === null) return error;
		target.description = [target.description, ...parts].filter(Boolean).join(' ');
		if (target.context)
			Object.assign(target.context, { placedCalls: createdCalls, unansweredCalls: unanswered });
		return error;
	}

	/** Reports as soon as the execution is cancelled. Returns a function that stops listening. */
	reportOnCancel(signal: AbortSignal | undefined): () => void {
		if (!signal) return () => {};
		const onAbort = () => this.report('cancelled');
		if (signal.aborted) onAbort();
		else signal.addEventListener('abort', onAbort, { once: true });
		return () => signal.removeEventListener('abort', onAbort);
	}

	/** Logs the created calls and the unanswered requests, once, if there are any. */
	report(reason: 'cancelled' | 'failed'): void {
		if (this.reported || (this.created.size === 0 && this.pending.size === 0)) return;
		this.reported = true;
		const { createdCalls, unanswered } = this.entries();
		const what = reason === 'cancelled' ? 'was cancelled' : 'failed';
		const parts = [
			`Truedy Place Call ${what} after creating ${createdCalls.length} call(s)` +
				(createdCalls.length > 0
					? `: ${listed(
							createdCalls.map((c) => `item ${c.itemIndex} → ${c.callId}`),
							'createdCalls',
						)}.`
					: '.'),
		];
		if (unanswered.length > 0) {
			parts.push(
				`${unanswered.length} request(s) got no clear answer, and Truedy may have created these calls too: ` +
					`${listed(
						unanswered.map((u) => `item ${u.itemIndex} (idempotency key ${u.idempotencyKey})`),
						'unanswered',
					)}.`,
			);
		}
		this.context.logger.warn(parts.join(' '), {
			node: this.context.getNode().name,
			executionId: this.context.getExecutionId(),
			createdCalls,
			unanswered,
		});
	}

	private entries() {
		const createdCalls = [...this.created]
			.sort(([a], [b]) => a - b)
			.map(([itemIndex, callId]) => ({ itemIndex, callId }));
		const unanswered = [...this.pending]
			.sort(([a], [b]) => a - b)
			.map(([itemIndex, idempotencyKey]) => ({ itemIndex, idempotencyKey }));
		return { createdCalls, unanswered };
	}
}

/** The first entries of a list for the log message; the metadata field has all of them. */
function listed(entries: string[], field: string, max = 20): string {
	const shown = entries.slice(0, max).join(', ');
	return entries.length > max
		? `${shown} and ${entries.length - max} more (all in ${field})`
		: shown;
}
