import type { Icon, ICredentialType, INodeProperties } from 'n8n-workflow';

/**
 * The signing secrets of the Truedy webhook endpoints that deliver to one trigger: each endpoint
 * has its own (the Production URL's and the Test URL's), and during a rotation the old and the new
 * one are both valid. Truedy has no API to read or rotate them, so the credential is tested by the
 * Truedy Trigger node (`testedBy`), which can only check that the values are usable as keys. The
 * field keeps its name, `signingSecret`, so credentials saved with one secret keep working.
 */
export class TruedyWebhookApi implements ICredentialType {
	name = 'truedyWebhookApi';

	displayName = 'Truedy Webhook API';

	icon: Icon = {
		light: 'file:../nodes/Truedy/truedy.svg',
		dark: 'file:../nodes/Truedy/truedy.dark.svg',
	};

	documentationUrl = 'https://docs.truedy.ai/guides/securing-webhooks';

	properties: INodeProperties[] = [
		{
			displayName: 'Signing Secrets',
			name: 'signingSecret',
			type: 'string',
			typeOptions: { password: true },
			required: true,
			default: '',
			placeholder: 'whsec_... whsec_...',
			description:
				'In Truedy, open Settings → Webhooks, select the endpoint and copy its Signing Secret. Paste the whole value: the "whsec_" prefix is part of the key. Several secrets (for example the Production URL\'s and the Test URL\'s endpoint, or an old and a new one) go in this one field, separated by spaces, commas or new lines; a delivery signed with any of them is accepted.',
		},
	];
}
