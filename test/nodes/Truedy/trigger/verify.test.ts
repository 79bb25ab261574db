// The Truedy Trigger reads its Truedy Webhook credential at most once a minute while deliveries
// verify (n8n resolves every credential read in a webhook in an expression isolate of its own),
// and reads it again before refusing a delivery the remembered secrets do not verify.
// Real HTTP to the trigger served by test/support/webhook-engine.ts (n8n-core's WebhookContext).
import { TestCredentialsHelper } from '../../../support/engine';
import { startTriggerHarness, type TriggerHarness } from '../../../support/webhook-engine';
import { deliverWebhook, type WebhookEnvelope } from '../../../simulator/webhooks';
import { clearRememberedSecrets, SECRET_CACHE } from '../../../../nodes/Truedy/trigger/verify';

const FIRST = 'whsec_first_endpoint_0123456789abcdef';
const SECOND = 'whsec_second_endpoint_fedcba9876543210';
const THIRD = 'whsec_third_added_later_00112233445566';

let harness: TriggerHarness;
let credentials: { truedyWebhookApi: { signingSecret: string } };
let seq = 0;
let reads: jest.SpyInstance;
const webhookReads = () => reads.mock.calls.filter((call) => call[2] === 'truedyWebhookApi').length;

const event = (): WebhookEnvelope => ({
	event: 'call.ended',
	timestamp: new Date().toISOString(),
	data: { id: `evt_verify_${++seq}`, call_id: `call_verify_${seq}`, status: 'completed' },
});

beforeEach(async () => {
	clearRememberedSecrets();
	credentials = { truedyWebhookApi: { signingSecret: `${FIRST} ${SECOND}` } };
	harness = await startTriggerHarness({
		parameters: { events: ['call.ended'], resolveCall: false },
		credentials,
	});
	reads = jest.spyOn(TestCredentialsHelper.prototype, 'getDecrypted');
});

afterEach(async () => {
	jest.restoreAllMocks();
	await harness.close();
});

test('ten deliveries read the credential once', async () => {
	for (let i = 0; i < 10; i++) {
		expect(
			(await deliverWebhook(harness.url, event(), { secret: i % 2 ? SECOND : FIRST })).status,
		).toBe(204);
	}
	await harness.waitForExecutions(10);
	expect(webhookReads()).toBe(1);
});

test('a secret added to the credential works at once; a refused delivery always re-reads it', async () => {
	expect((await deliverWebhook(harness.url, event(), { secret: FIRST })).status).toBe(204);
	credentials.truedyWebhookApi.signingSecret = `${FIRST} ${SECOND} ${THIRD}`;
	expect((await deliverWebhook(harness.url, event(), { secret: THIRD })).status).toBe(204);
	expect(webhookReads()).toBe(2);
	const forged = await deliverWebhook(harness.url, event(), {
		secret: 'whsec_forged_000000000000',
	});
	expect(forged.status).toBe(401);
	expect(webhookReads()).toBe(3);
	await harness.waitForExecutions(2);
});

test(`a secret removed from the credential is refused at the latest ${SECRET_CACHE.ttlMs / 1000} s later`, async () => {
	expect((await deliverWebhook(harness.url, event(), { secret: SECOND })).status).toBe(204);
	credentials.truedyWebhookApi.signingSecret = FIRST;
	// Still remembered: accepted without reading the credential.
	expect((await deliverWebhook(harness.url, event(), { secret: SECOND })).status).toBe(204);
	expect(webhookReads()).toBe(1);
	const realNow = Date.now.bind(Date);
	jest.spyOn(Date, 'now').mockImplementation(() => realNow() + SECRET_CACHE.ttlMs + 1);
	expect((await deliverWebhook(harness.url, event(), { secret: SECOND })).status).toBe(401);
	expect((await deliverWebhook(harness.url, event(), { secret: FIRST })).status).toBe(204);
	expect(webhookReads()).toBe(2);
});

test('failures that do not depend on the secret (no signature, stale) do not re-read it', async () => {
	expect((await deliverWebhook(harness.url, event(), { secret: FIRST })).status).toBe(204);
	expect((await deliverWebhook(harness.url, event())).status).toBe(401);
	expect(
		(
			await deliverWebhook(harness.url, event(), {
				secret: FIRST,
				timestamp: Math.floor(Date.now() / 1000) - 3600,
			})
		).status,
	).toBe(401);
	expect(webhookReads()).toBe(1);
});
