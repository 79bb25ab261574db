import type { TruedyDelivery } from './delivery';
import { CALL_OUTCOME_EVENTS } from './events';

export interface DeliveryFilters {
	/** Agent IDs separated by commas, spaces or new lines. Empty: any agent. */
	agentIds?: string;
	/** Final statuses (ended, failed, cancelled). Empty: any. */
	statuses?: string[];
	/** Ultravox end reasons (unjoined, hangup, …). Empty: any. */
	endReasons?: string[];
}

export function parseIdList(value: string | undefined): string[] {
	return (value ?? '')
		.split(/[\s,;]+/)
		.map((id) => id.trim())
		.filter((id) => id !== '');
}

/**
 * Why a delivery does not pass the filters, or undefined when it does.
 * - Agent IDs apply to every event; an event without an agent ID does not match.
 * - Final status and end reason apply only to events that report a call's outcome
 *   (call.ended, call.failed, call.billed); other events pass them.
 */
export function filterMismatch(
	delivery: TruedyDelivery,
	filters: DeliveryFilters,
): string | undefined {
	const agentIds = parseIdList(filters.agentIds);
	if (agentIds.length > 0 && (delivery.agentId === null || !agentIds.includes(delivery.agentId))) {
		return `agent ${delivery.agentId ?? '(none)'} is not in the Agent IDs filter`;
	}
	if (!CALL_OUTCOME_EVENTS.includes(delivery.event)) return undefined;

	const statuses = filters.statuses ?? [];
	if (statuses.length > 0 && (delivery.status === null || !statuses.includes(delivery.status))) {
		return `status ${delivery.status ?? '(none)'} is not in the Final Status filter`;
	}
	const endReasons = filters.endReasons ?? [];
	const endReason = delivery.endReason?.toLowerCase() ?? null;
	if (endReasons.length > 0 && (endReason === null || !endReasons.includes(endReason))) {
		return `end reason ${delivery.endReason ?? '(none)'} is not in the End Reason filter`;
	}
	return undefined;
}
