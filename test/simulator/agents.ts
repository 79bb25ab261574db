// Seed agents of the simulator (the agent shape in docs/truedy-api.md, "Agents").
import { randomUUID } from 'crypto';
import { ultravoxAgentIdOf } from './calls';
import type { PhoneNumberRef, SimAgent } from './types';

/** Ids of the seeded agents. */
export const SIM_AGENTS = {
	/** "Appointment Reminder": active, two outbound numbers. */
	active: '3f1c2a9e-7b4d-4e8a-9c1f-0a1b2c3d4e01',
	/** "Lead Qualifier": active, one outbound number. */
	leadQualifier: '3f1c2a9e-7b4d-4e8a-9c1f-0a1b2c3d4e02',
	/** "Sales Follow-up": active, one outbound number. */
	salesFollowUp: '3f1c2a9e-7b4d-4e8a-9c1f-0a1b2c3d4e03',
	/** "Onboarding Survey (Draft)": draft (has numbers, so only agent_not_active applies). */
	draft: '3f1c2a9e-7b4d-4e8a-9c1f-0a1b2c3d4e04',
	/** "Inbound Support": active, inbound number only, no outbound numbers. */
	noNumbers: '3f1c2a9e-7b4d-4e8a-9c1f-0a1b2c3d4e05',
} as const;

/**
 * Ultravox ids of the seeded agents (UUIDs, fixed from run to run): what the passthrough webhook carries
 * in `data.call.agent.agentId`, and what agent objects expose as `ultravox_agent_id` with `exposeUltravoxIds`.
 */
export const SIM_ULTRAVOX_AGENTS = Object.fromEntries(
	Object.entries(SIM_AGENTS).map(([name, id]) => [name, ultravoxAgentIdOf(id)]),
) as { readonly [K in keyof typeof SIM_AGENTS]: string };

/** Outbound numbers of the seeded agents (first one is the default caller ID). */
export const SIM_NUMBERS = {
	appointmentReminder: ['+18005559876', '+14155550101'],
	leadQualifier: ['+14155550102'],
	salesFollowUp: ['+442079460103'],
	draft: ['+14155550104'],
	inboundSupport: ['+14155550105'],
} as const;

const SEED_TIME = '2025-01-15T09:30:00.000Z';

function numbers(prefix: string, list: readonly string[]): PhoneNumberRef[] {
	return list.map((phone_number, i) => ({
		id: `${prefix}-0000-4000-8000-00000000000${i + 1}`,
		phone_number,
	}));
}

function agent(fields: Partial<SimAgent> & Pick<SimAgent, 'id' | 'name'>): SimAgent {
	const { id, name, ...rest } = fields;
	return {
		id,
		ultravox_agent_id: ultravoxAgentIdOf(id),
		name,
		description: '',
		voice_id: '7c9e6679-7425-40de-944b-e07fc1f90ae7',
		system_prompt: 'You are a friendly assistant calling {{first_name}}.',
		model: 'ultravox-v0.7',
		status: 'active',
		inbound_phone_numbers: [],
		outbound_phone_numbers: [],
		created_at: SEED_TIME,
		updated_at: SEED_TIME,
		...rest,
	};
}

export function seedAgents(): SimAgent[] {
	return [
		agent({
			id: SIM_AGENTS.active,
			name: 'Appointment Reminder',
			description: 'Confirms upcoming appointments.',
			system_prompt:
				'You are calling {{first_name}} to confirm their appointment on {{appointment_date}} at {{appointment_time}}.',
			outbound_phone_numbers: numbers('0b000001', SIM_NUMBERS.appointmentReminder),
			inbound_phone_numbers: numbers('0b000001', ['+18005559876']),
		}),
		agent({
			id: SIM_AGENTS.leadQualifier,
			name: 'Lead Qualifier',
			description: 'Qualifies inbound leads.',
			outbound_phone_numbers: numbers('0b000002', SIM_NUMBERS.leadQualifier),
			inbound_phone_numbers: numbers('0b000002', SIM_NUMBERS.leadQualifier),
		}),
		agent({
			id: SIM_AGENTS.salesFollowUp,
			name: 'Sales Follow-up',
			description: 'Follows up after demos.',
			outbound_phone_numbers: numbers('0b000003', SIM_NUMBERS.salesFollowUp),
		}),
		agent({
			id: SIM_AGENTS.draft,
			name: 'Onboarding Survey (Draft)',
			description: 'Not published yet.',
			status: 'draft',
			outbound_phone_numbers: numbers('0b000004', SIM_NUMBERS.draft),
		}),
		agent({
			id: SIM_AGENTS.noNumbers,
			name: 'Inbound Support',
			description: 'Answers inbound calls only; no outbound number assigned.',
			inbound_phone_numbers: numbers('0b000005', SIM_NUMBERS.inboundSupport),
		}),
	];
}

/** Deterministic filler agents for paging tests: "Generated Agent 001".. (active, one outbound number). */
export function generateAgents(count: number): SimAgent[] {
	const out: SimAgent[] = [];
	for (let i = 1; i <= count; i++) {
		const n = String(i).padStart(3, '0');
		out.push(
			agent({
				id: `9e000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
				name: `Generated Agent ${n}`,
				description: `Filler agent #${i}.`,
				outbound_phone_numbers: [
					{
						id: `9f000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
						phone_number: `+1415600${String(i).padStart(4, '0')}`,
					},
				],
			}),
		);
	}
	return out;
}

/** Completes a partial agent given to addAgent(). */
export function completeAgent(partial: Partial<SimAgent> & { name: string }): SimAgent {
	const now = new Date().toISOString();
	const id = partial.id ?? randomUUID();
	return agent({
		id,
		ultravox_agent_id: randomUUID(),
		created_at: now,
		updated_at: now,
		...partial,
	});
}
