import type { IWebhookFunctions } from 'n8n-workflow';

import { TRUEDY_WEBHOOK_CREDENTIAL } from '../shared/credentials';
import { TtlLru } from './lru';
import { type VerificationResult, type VerifyOptions, verifySignature } from './signature';

/**
 * Verifies a delivery against the Truedy Webhook credential's secrets, reading the credential at
 * most once a minute per trigger while deliveries keep verifying.
 *
 * Why: in a webhook, n8n 2.41 reads a credential from the database, decrypts it and then resolves
 * it in an expression isolate of its own (credentials-helper `applyDefaultsAndOverwrites`: a new
 * Workflow and `acquireIsolate`, even when no field holds an expression). With the default `vm`
 * and with `quickjs` that is a new isolate per delivery, before the answer.
 *
 * Freshness: whenever the remembered secrets do not verify a delivery (wrong or missing
 * signature), the credential is read again before the delivery is refused, so a secret added to
 * the credential works at once. A secret removed from it is still accepted for up to
 * {@link SECRET_CACHE}.ttlMs.
 */
export const SECRET_CACHE = { triggers: 200, ttlMs: 60_000 };

const remembered = new TtlLru<string>(SECRET_CACHE.triggers, SECRET_CACHE.ttlMs);

/** Failures another (newer) set of secrets could turn into a success. */
const SECRET_DEPENDENT = new Set(['missing_secret', 'signature_mismatch']);

export async function verifyDelivery(
	this: IWebhookFunctions,
	options: Omit<VerifyOptions, 'secrets'>,
): Promise<VerificationResult> {
	const node = this.getNode();
	const credentialId = node.credentials?.[TRUEDY_WEBHOOK_CREDENTIAL]?.id ?? '';
	const key = `${this.getWorkflow().id ?? ''}:${node.id}:${credentialId}`;
	const cached = remembered.get(key);
	if (cached !== undefined) {
		const result = verifySignature({ ...options, secrets: cached });
		if (result.valid || !SECRET_DEPENDENT.has(result.reason)) return result;
	}
	const { signingSecret } = await this.getCredentials<{ signingSecret?: string }>(
		TRUEDY_WEBHOOK_CREDENTIAL,
	);
	const secrets = typeof signingSecret === 'string' ? signingSecret : '';
	remembered.set(key, secrets);
	return verifySignature({ ...options, secrets });
}

/** Forgets every remembered secret (tests; a restart does the same). */
export function clearRememberedSecrets(): void {
	remembered.clear();
}
