import type {
	ICredentialsDecrypted,
	ICredentialTestFunctions,
	INodeCredentialTestResult,
} from 'n8n-workflow';

/**
 * Credential test for the signing secret. Truedy offers no API to check a secret, so this only
 * checks that the value can be a key; a delivery signed with another secret is answered with 401.
 */
export async function testSigningSecret(
	this: ICredentialTestFunctions,
	credential: ICredentialsDecrypted,
): Promise<INodeCredentialTestResult> {
	const secret = String(credential.data?.signingSecret ?? '').trim();
	if (secret === '') {
		return {
			status: 'Error',
			message: 'Paste the signing secret of the endpoint from Truedy → Settings → Webhooks',
		};
	}
	if (/\s/.test(secret)) {
		return {
			status: 'Error',
			message: 'The signing secret contains spaces or line breaks; copy it again from Truedy',
		};
	}
	return {
		status: 'OK',
		message:
			'The secret can be used. Truedy has no API to confirm it: deliveries signed with another secret are answered with 401.',
	};
}
