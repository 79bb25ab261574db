import type { IDataObject, IExecuteFunctions } from 'n8n-workflow';
import { NodeOperationError } from 'n8n-workflow';

import { normalizePhoneNumber } from '../../../shared/phone';
import { firstNonEmptyString } from '../../../shared/values';

/**
 * A call Truedy answered with (created, or replayed for the idempotency key) must be the call this
 * item asked for: same agent, same destination. Some APIs replay on a key match without comparing
 * the request, so a key reused for another person returns that person's call. A field the answer
 * does not carry cannot be checked and passes. Returns the item's error when the call is another's.
 */
export function otherCallError(
	context: IExecuteFunctions,
	call: IDataObject,
	body: IDataObject,
	idempotencyKey: string,
	itemIndex: number,
): NodeOperationError | undefined {
	const answeredAgent = firstNonEmptyString(call.agent_id);
	const answeredNumber = firstNonEmptyString(call.phone_number, call.to_number, call.to);
	const otherAgent = answeredAgent !== undefined && answeredAgent.trim() !== String(body.agent_id);
	const otherNumber =
		answeredNumber !== undefined && !sameNumber(answeredNumber, String(body.phone_number));
	if (!otherAgent && !otherNumber) return undefined;

	const describe = (number: unknown, agent: unknown) =>
		`${String(number ?? 'an unknown number')} (agent ${String(agent ?? 'unknown')})`;
	return new NodeOperationError(
		context.getNode(),
		`Item ${itemIndex}: "Idempotency Key" "${idempotencyKey}" already belongs to another call: Truedy answered with call ${String(call.id)} to ${describe(answeredNumber, answeredAgent)}, this item asked for ${describe(body.phone_number, body.agent_id)}`,
		{
			itemIndex,
			description:
				`Truedy returns the call it already made under an idempotency key, so this item was not dialled and call ${String(call.id)} is not output as its call. ` +
				'Give every call its own key: leave Options → Idempotency Key empty (a key per execution, run, item, agent and number), or make it unique per call, e.g. {{ $json.leadId }}.',
		},
	);
}

/** Equal as E.164 numbers when both parse, else digit for digit. */
function sameNumber(a: string, b: string): boolean {
	const [x, y] = [normalizePhoneNumber(a), normalizePhoneNumber(b)];
	if (x.ok && y.ok) return x.e164 === y.e164;
	return a.replace(/\D/g, '') === b.replace(/\D/g, '');
}
