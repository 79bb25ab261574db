import type {
	ICredentialsDecrypted,
	ICredentialTestFunctions,
	INodeCredentialTestResult,
} from 'n8n-workflow';

import { parseSecrets } from './signature';

/** Shorter than this is a fragment of a copy (for example a secret split at a space), not a secret. */
const MIN_SECRET_LENGTH = 8;

/**
 * Credential test for the signing secrets. Truedy offers no API to check a secret, so this only
 * checks that each value can be a key; a delivery signed with none of them is answered with 401.
 * The message names how many secrets were found, never a secret.
 */
export async function testSigningSecret(
	this: ICredentialTestFunctions,
	credential: ICredentialsDecrypted,
): Promise<INodeCredentialTestResult> {
	const secrets = parseSecrets(String(credential.data?.signingSecret ?? ''));
	if (secrets.length === 0) {
		return {
			status: 'Error',
			message: 'Paste the signing secret of the endpoint from Truedy → Settings → Webhooks',
		};
	}
	const tooShort = secrets.findIndex((secret) => secret.length < MIN_SECRET_LENGTH);
	if (tooShort >= 0) {
		return {
			status: 'Error',
			message: `Secret ${tooShort + 1} of ${secrets.length} is only a few characters long; copy the whole Signing Secret again from Truedy (separate several with spaces, commas or new lines)`,
		};
	}
	const count = secrets.length === 1 ? 'The secret' : `All ${secrets.length} secrets`;
	return {
		status: 'OK',
		message: `${count} can be used. Truedy has no API to confirm them: deliveries signed with none of them are answered with 401.`,
	};
}
