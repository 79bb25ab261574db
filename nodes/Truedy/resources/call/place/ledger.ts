import type { IExecuteFunctions } from 'n8n-workflow';

import { mayHaveTakenEffect } from '../../../transport/errors';

/**
 * Which calls a Place Call run has created so far. n8n discards the output of a run that is
 * cancelled or fails (without Continue On Fail), so such a run logs what it had created, and
 * which requests were still unanswered (Truedy may have created those calls too).
 */
export class PlacedCallLedger {
	private readonly created = new Map<number, string>();
	private readonly pending = new Map<number, string>();
	private reported = false;

	constructor(private readonly context: IExecuteFunctions) {}

	/** A POST /calls for this item is about to be sent; it counts as unanswered until it settles. */
	sending(itemIndex: number, idempotencyKey: string): void {
		this.pending.set(itemIndex, idempotencyKey);
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
		const createdCalls = [...this.created].sort(([a], [b]) => a - b).map(([itemIndex, callId]) => ({ itemIndex, callId }));
		const unanswered = [...this.pending]
			.sort(([a], [b]) => a - b)
			.map(([itemIndex, idempotencyKey]) => ({ itemIndex, idempotencyKey }));
		const what = reason === 'cancelled' ? 'was cancelled' : 'failed';
		const parts = [
			`Truedy Place Call ${what} after creating ${createdCalls.length} call(s)` +
				(createdCalls.length > 0
					? `: ${listed(createdCalls.map((c) => `item ${c.itemIndex} → ${c.callId}`), 'createdCalls')}.`
					: '.'),
		];
		if (unanswered.length > 0) {
			parts.push(
				`${unanswered.length} request(s) got no clear answer, and Truedy may have created these calls too: ` +
					`${listed(unanswered.map((u) => `item ${u.itemIndex} (idempotency key ${u.idempotencyKey})`), 'unanswered')}.`,
			);
		}
		this.context.logger.warn(parts.join(' '), {
			node: this.context.getNode().name,
			executionId: this.context.getExecutionId(),
			createdCalls,
			unanswered,
		});
	}
}

/** The first entries of a list for the log message; the metadata field has all of them. */
function listed(entries: string[], field: string, max = 20): string {
	const shown = entries.slice(0, max).join(', ');
	return entries.length > max ? `${shown} and ${entries.length - max} more (all in ${field})` : shown;
}
