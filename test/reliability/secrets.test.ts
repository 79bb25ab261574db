// Suite 4 — secret hygiene (docs/reliability.md).
// Every reliability suite runs with a recognisable API key and signing secret and scans what it
// produced (output items, errors with message, description, stack and context, run data, trigger
// answers, every captured log line). This suite adds the paths where a secret is most likely to
// slip out: every kind of failure, an API that echoes the key back in its errors, the trigger's
// rejections and its call enrichment, the editor's pickers and the credential test.
import { createServer, type Server } from 'http';
import type { AddressInfo, Socket } from 'net';
import type { ICredentialTestFunctions, INode } from 'n8n-workflow';

import { searchAgents } from '../../nodes/Truedy/listSearch/searchAgents';
import { getFromNumbers } from '../../nodes/Truedy/methods/getFromNumbers';
import { testSigningSecret } from '../../nodes/Truedy/trigger/credentialTest';
import { buildCallEndedEvent, deliverWebhook, prepareDelivery } from '../simulator/webhooks';
import {
	agentById,
	createCall,
	leadPhone,
	loadOptionsContext,
	makeLeads,
	placeCall,
	runTruedy,
	SIM_AGENTS,
	startTriggerHarness,
	useSimulator,
} from '../support';
import {
	CANARY_API_KEY,
	CANARY_SIGNING_SECRET,
	FAST_POLICY,
	LeakScanner,
	NODE,
	useFastRetries,
	useReliabilitySuite,
} from './support';

const sim = useSimulator({ apiKey: CANARY_API_KEY, autoAdvance: false });
const scenarios: Array<{ name: string; texts: number; hits: number; durationMs?: number }> = [];
const suite = useReliabilitySuite('secrets', ({ logLines, logHits }) => {
	scenarios.push({ name: 'every captured log line of this suite', texts: logLines, hits: logHits });
	return { scenarios, hitsDetail: suite.scanner.hits };
});
const { scanner } = suite;
let echo: { url: string; close(): Promise<void> };
let restorePolicy: () => void;

/** A misbehaving API that repeats the Authorization header it got in every error it sends. */
async function startEchoServer(): Promise<{ url: string; close(): Promise<void> }> {
	const sockets = new Set<Socket>();
	const server: Server = createServer((req, res) => {
		const auth = String(req.headers.authorization ?? '');
		const status = Number(/\/echo-(\d{3})\//.exec(req.url ?? '')?.[1] ?? 401);
		const body = JSON.stringify({
			error: {
				code: status === 422 ? 'validation_error' : 'unauthorized',
				message: `Rejected credentials: ${auth}`,
				details: { received: auth, key: auth.replace(/^Bearer /, '') },
			},
			meta: { request_id: `req_${auth.slice(-12)}` },
		});
		res.writeHead(status, { 'Content-Type': 'application/json', 'X-Echo-Authorization': auth });
		res.end(body);
	});
	server.on('connection', (s: Socket) => {
		sockets.add(s);
		s.on('close', () => sockets.delete(s));
	});
	await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
	return {
		url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
		close: () =>
			new Promise<void>((resolve) => {
				for (const s of sockets) s.destroy();
				server.close(() => resolve());
			}),
	};
}

async function deadUrl(): Promise<string> {
	const server = createServer();
	await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
	const { port } = server.address() as AddressInfo;
	await new Promise<void>((resolve) => server.close(() => resolve()));
	return `http://127.0.0.1:${port}/api/public/v1`;
}

beforeAll(async () => {
	// Three attempts are enough to walk every retry path; this suite is about what gets printed.
	restorePolicy = useFastRetries({ ...FAST_POLICY, maxAttempts: 3, requestTimeoutMs: 150 });
	echo = await startEchoServer();
});

afterAll(async () => {
	await echo.close();
	restorePolicy();
});

/** Scans what a scenario produced and records how much was scanned. */
async function scenario(name: string, produce: () => Promise<unknown[]>) {
	const texts = scanner.texts;
	const hits = scanner.hits.length;
	const started = Date.now();
	const linesBefore = suite.logs.lines.length;
	const produced = await produce();
	produced.forEach((value, i) => scanner.scan(`${name} #${i}`, value));
	for (const line of suite.logs.lines.slice(linesBefore)) scanner.scan(`${name} (log)`, line.text);
	const row = {
		name,
		texts: scanner.texts - texts,
		hits: scanner.hits.length - hits,
		durationMs: Date.now() - started,
	};
	scenarios.push(row);
	expect(scanner.hits.slice(hits)).toEqual([]);
	return row;
}

const place = placeCall({ agent: agentById(SIM_AGENTS.active), phoneNumber: '={{ $json.phone }}' });
const two = makeLeads(2);

async function placeEverywhere(baseUrl: string, apiKey = CANARY_API_KEY): Promise<unknown[]> {
	const out: unknown[] = [];
	for (const settings of [
		{},
		{ onError: 'continueRegularOutput' },
		{ retryOnFail: true, maxTries: 2, waitBetweenTries: 10 },
	]) {
		const result = await runTruedy(sim, {
			parameters: place,
			items: two,
			settings: settings as Partial<INode>,
			baseUrl,
			apiKey,
		});
		const error = result.nodeError(NODE);
		out.push(
			result.run,
			error,
			error && { message: error.message, description: error.description, stack: error.stack },
		);
	}
	for (const parameters of [
		{ resource: 'call', operation: 'get', callId: 'call_x' },
		{ resource: 'call', operation: 'getAll', returnAll: true },
		{ resource: 'agent', operation: 'get', agent: agentById(SIM_AGENTS.active) },
	]) {
		const result = await runTruedy(sim, {
			parameters,
			settings: { onError: 'continueRegularOutput' },
			apiKey,
			baseUrl,
		});
		out.push(result.run, result.nodeError(NODE));
	}
	return out;
}

test('the API rejects the key (401) everywhere: Place Call, Get Call, Get Many, Get Agent', async () => {
	sim.configure({ apiKey: 'truedy_some_other_key' });
	await scenario('API answers 401', () => placeEverywhere(sim.baseUrl));
});

test('an API that echoes the Authorization header in its 401, 422 and 500 errors', async () => {
	for (const status of [401, 422, 500]) {
		await scenario(`API echoes the key in a ${status}`, () =>
			placeEverywhere(`${echo.url}/echo-${status}/api/public/v1`),
		);
	}
});

test('network failures: refused, reset, time-out, malformed answers, 5xx and 429 until retries give up', async () => {
	await scenario('connection refused', async () => placeEverywhere(await deadUrl()));
	for (const fault of ['resetAfter', 'slow', 'malformedJson', 'status500', 'status429'] as const) {
		sim.reset();
		sim.configure({ faults: { slowMs: 600, retryAfterMs: 20, rules: [{ fault }] } });
		await scenario(`${fault} on every request`, () => placeEverywhere(sim.baseUrl));
	}
});

test('the editor: agent search and From Number list, against a failing and an echoing API', async () => {
	for (const baseUrl of [
		await deadUrl(),
		`${echo.url}/echo-401/api/public/v1`,
		`${echo.url}/echo-500/api/public/v1`,
	]) {
		await scenario(
			`pickers against ${baseUrl.includes('echo') ? `an API echoing the key in a ${baseUrl.includes('500') ? 500 : 401}` : 'a dead URL'}`,
			async () => {
				const search = loadOptionsContext({ apiKey: CANARY_API_KEY, baseUrl });
				const numbers = loadOptionsContext({
					apiKey: CANARY_API_KEY,
					baseUrl,
					parameters: { agent: agentById(SIM_AGENTS.active) },
					path: 'parameters.fromNumber',
				});
				const errors = await Promise.all([
					searchAgents.call(search, 'a').catch((e) => e),
					getFromNumbers.call(numbers).catch((e) => e),
				]);
				return errors.flatMap((e) => [e, e?.message, e?.description]);
			},
		);
	}
});

test('the credential test of the signing secret', async () => {
	await scenario('credential test', async () =>
		Promise.all(
			[CANARY_SIGNING_SECRET, ` ${CANARY_SIGNING_SECRET}\n`, `${CANARY_SIGNING_SECRET} x`, ''].map(
				(signingSecret) =>
					testSigningSecret.call({} as ICredentialTestFunctions, {
						id: 'c',
						name: 'c',
						type: 'truedyWebhookApi',
						data: { signingSecret },
					}),
			),
		),
	);
});

test('the trigger: rejected, accepted and enriched deliveries, with the call fetch failing', async () => {
	const deadBaseUrl = await deadUrl();
	for (const baseUrl of [sim.baseUrl, deadBaseUrl, `${echo.url}/echo-401/api/public/v1`]) {
		await scenario(
			`trigger with call enrichment against ${baseUrl === sim.baseUrl ? 'the simulator' : baseUrl === deadBaseUrl ? 'a dead URL' : 'an echoing API'}`,
			async () => {
				const harness = await startTriggerHarness({
					parameters: { events: ['call.ended'], fetchCallDetails: true, transcriptWaitSeconds: 1 },
					credentials: {
						truedyWebhookApi: { signingSecret: CANARY_SIGNING_SECRET },
						truedyApi: { apiKey: CANARY_API_KEY, baseUrl },
					},
				});
				const answers: unknown[] = [];
				try {
					sim.configure({
						callTimings: { queuedMs: 5, ringingMs: 5, inProgressMs: 5 },
						autoAdvance: true,
					});
					const callId = await createCall(sim, {
						agent_id: SIM_AGENTS.active,
						phone_number: leadPhone(5),
					});
					await sim.waitFor((s) => s.calls.get(callId)?.status === 'ended');
					const envelope = buildCallEndedEvent(sim.calls.get(callId)!, 'ultravox');
					// Accepted (and enriched), forged, stale, and without headers.
					for (const opts of [
						{ secret: CANARY_SIGNING_SECRET },
						{ secret: 'whsec_forged' },
						{ secret: CANARY_SIGNING_SECRET, timestamp: Math.floor(Date.now() / 1000) - 3600 },
						{ secret: CANARY_SIGNING_SECRET, omitHeaders: true as const },
						{ secret: CANARY_SIGNING_SECRET, signatureOverride: 'zz' },
					]) {
						const r = await deliverWebhook(
							harness.url,
							{ ...envelope, data: { ...envelope.data, id: `evt_${Math.random()}` } },
							opts,
						);
						answers.push(r.body, r.headers, prepareDelivery('x', {}).headers);
					}
					await harness.waitForExecutions(1);
					await harness.idle();
					answers.push(
						...harness.executions.map((e) => e.run),
						...harness.requests.map((r) => ({ ...r, rawBody: undefined })),
					);
				} finally {
					await harness.close();
				}
				return answers;
			},
		);
	}
});

test('the canary is really there to be found (the scanner is not blind)', () => {
	const probe = new LeakScanner();
	probe.scan('probe', new Error(`Authorization: Bearer ${CANARY_API_KEY}`));
	probe.scan('probe', { nested: [{ secret: CANARY_SIGNING_SECRET.slice(0, 20) }] });
	probe.scan('probe', Buffer.from(`Basic ${CANARY_API_KEY}`).toString('base64'));
	probe.scan('probe', Buffer.from(CANARY_API_KEY));
	expect(probe.hits.length).toBeGreaterThanOrEqual(4);
});
