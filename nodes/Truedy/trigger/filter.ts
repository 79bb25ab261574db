import type { TruedyDelivery } from './delivery';
import { CALL_OUTCOME_EVENTS } from './events';

export interface DeliveryFilters {
	/** Truedy or Ultravox agent IDs separated by commas, spaces or new lines. Empty: any agent. */
	agentIds?: string;
	/** Truedy agent IDs chosen in the Agents picker (an expression may give a string). Adds to agentIds. */
	agents?: string[] | string;
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

export interface FilterOptions {
	/**
	 * The Truedy agent ID is not known yet but the call is still to be resolved: an agent that does
	 * not match is not a mismatch yet (the filter is applied again after the resolution).
	 */
	agentPending?: boolean;
}

/**
 * Why a delivery does not pass the filters, or undefined when it does.
 * - Agent IDs apply to every event and match the Truedy agent ID (known from the flat payload or
 *   once the call is resolved) or the Ultravox one (the passthrough payload); an event without an
 *   agent ID does not match.
 * - Final status and end reason apply only to events that report a call's outcome
 *   (call.ended, call.failed, call.billed); other events pass them.
 */
export function filterMismatch(
	delivery: TruedyDelivery,
	filters: DeliveryFilters,
	options: FilterOptions = {},
): string | undefined {
	const picked = Array.isArray(filters.agents) ? filters.agents.join(',') : filters.agents;
	const agentIds = [...parseIdList(filters.agentIds), ...parseIdList(picked)];
	const agents = [delivery.agentId, delivery.ultravoxAgentId].filter((id) => id !== null);
	if (agentIds.length > 0 && !options.agentPending && !agents.some((id) => agentIds.includes(id))) {
		return agentMismatch(delivery);
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

function agentMismatch(delivery: TruedyDelivery): string {
	const { agentId, ultravoxAgentId, resolution } = delivery;
	if (agentId !== null) {
		const alias = ultravoxAgentId !== null ? ` (Ultravox agent ${ultravoxAgentId})` : '';
		return `agent ${agentId}${alias} is not in the Agent IDs filter`;
	}
	if (ultravoxAgentId === null) {
		return 'the delivery carries no agent ID, and the Agent IDs filter is set';
	}
	const unresolved = resolution.resolved
		? ''
		: `; its Truedy agent is unknown (${resolution.reason ?? 'the call was not resolved'})`;
	return `Ultravox agent ${ultravoxAgentId} is not in the Agent IDs filter${unresolved}`;
}
