import type {
	IDataObject,
	IExecuteFunctions,
	INodeExecutionData,
	INodeProperties,
	NodeApiError,
} from 'n8n-workflow';

import { normalizeCall } from '../../shared/calls';
import { TRUEDY_API_CREDENTIAL } from '../../shared/credentials';
import { returnAllAndLimit } from '../../shared/descriptions';
import { mapItems } from '../../shared/items';
import { fetchList, listLimit } from '../../shared/pagination';
import { toIsoTime } from '../../shared/time';
import { normalizeBaseUrl } from '../../transport/request';

const showFor = { resource: ['call'], operation: ['getAll'] };

/**
 * Truedy's API reference spells the list filter `in_progress`/`completed`, its guides
 * `in-progress`/`ended`. The reference spelling goes first; a 422 retries with the other.
 */
const STATUS_FILTER_SPELLINGS: Record<string, string[]> = {
	'in-progress': ['in_progress', 'in-progress'],
	ended: ['completed', 'ended'],
	cancelled: ['cancelled', 'canceled'],
};

/**
 * Per process and base URL: the spelling of each status filter the server last accepted, tried
 * first from then on, so the 422 fallback costs one request per server, not one per list.
 */
const acceptedSpellings = new Map<string, Map<string, string>>();

/** For tests only: forgets what every server accepted. */
export function forgetStatusSpellingsForTests(): void {
	acceptedSpellings.clear();
}

function spellingsFor(baseUrl: string, status: string): string[] {
	const all = STATUS_FILTER_SPELLINGS[status] ?? [status];
	const known = acceptedSpellings.get(baseUrl)?.get(status);
	return known ? [known, ...all.filter((spelling) => spelling !== known)] : all;
}

function rememberSpelling(baseUrl: string, status: string, spelling: string): void {
	const byStatus = acceptedSpellings.get(baseUrl) ?? new Map<string, string>();
	byStatus.set(status, spelling);
	acceptedSpellings.set(baseUrl, byStatus);
}

export const getManyCallsDescription: INodeProperties[] = [
	...returnAllAndLimit(showFor),
	{
		displayName: 'Filters',
		name: 'filters',
		type: 'collection',
		placeholder: 'Add Filter',
		default: {},
		displayOptions: { show: showFor },
		options: [
			{
				displayName: 'Agent ID',
				name: 'agentId',
				type: 'string',
				default: '',
				description: 'Only calls handled by this agent',
			},
			{
				displayName: 'Created After',
				name: 'createdAfter',
				type: 'dateTime',
				default: '',
				description: 'Only calls created at or after this time',
			},
			{
				displayName: 'Created Before',
				name: 'createdBefore',
				type: 'dateTime',
				default: '',
				description: 'Only calls created before this time',
			},
			{
				displayName: 'Direction',
				name: 'direction',
				type: 'options',
				default: 'outbound',
				options: [
					{ name: 'Inbound', value: 'inbound' },
					{ name: 'Outbound', value: 'outbound' },
					{ name: 'Web Call', value: 'webrtc' },
				],
			},
			{
				displayName: 'Status',
				name: 'status',
				type: 'options',
				default: 'ended',
				description:
					'Only calls in this state. "Ended" also matches calls Truedy reports as "completed".',
				options: [
					{ name: 'Cancelled', value: 'cancelled' },
					{ name: 'Ended', value: 'ended' },
					{ name: 'Failed', value: 'failed' },
					{ name: 'In Progress', value: 'in-progress' },
					{ name: 'Queued', value: 'queued' },
					{ name: 'Ringing', value: 'ringing' },
				],
			},
		],
	},
];

export async function getManyCalls(this: IExecuteFunctions): Promise<INodeExecutionData[]> {
	return await mapItems.call(this, async ({ itemIndex }) => {
		const limit = listLimit(this, itemIndex);
		const filters = this.getNodeParameter('filters', itemIndex, {}) as IDataObject;
		const qs: IDataObject = {};
		if (filters.direction) qs.direction = filters.direction;
		if (filters.agentId) qs.agent_id = String(filters.agentId).trim();
		if (filters.createdAfter) qs.created_after = dateFilter(filters.createdAfter);
		if (filters.createdBefore) qs.created_before = dateFilter(filters.createdBefore);
		const status = filters.status as string | undefined;
		const baseUrl = status ? await baseUrlOf(this) : '';
		const spellings = status ? spellingsFor(baseUrl, status) : [undefined];
		let failure: unknown;
		for (const spelling of spellings) {
			const query = spelling ? { ...qs, status: spelling } : qs;
			try {
				const calls = await fetchList.call(this, '/calls', query, limit, itemIndex);
				if (status && spelling) rememberSpelling(baseUrl, status, spelling);
				return calls.map(normalizeCall);
			} catch (error) {
				failure = error;
				if ((error as NodeApiError).httpCode !== '422') break;
			}
		}
		// Already a NodeApiError from the transport.
		throw failure;
	});
}

async function baseUrlOf(context: IExecuteFunctions): Promise<string> {
	const credentials = await context.getCredentials<{ baseUrl?: string }>(TRUEDY_API_CREDENTIAL);
	return normalizeBaseUrl(credentials.baseUrl);
}

/** A Date Time field's value as ISO 8601 (expressions can give epoch numbers); what is no time goes as typed, for Truedy to refuse. */
function dateFilter(value: unknown): string {
	return toIsoTime(value) ?? String(value);
}
