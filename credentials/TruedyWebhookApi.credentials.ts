import type { Icon, ICredentialType, INodeProperties } from 'n8n-workflow';

/**
 * The signing secret of one Truedy webhook endpoint. Truedy has no API to read or rotate it,
 * so the credential is tested by the Truedy Trigger node (`testedBy`), which can only check
 * that the pasted value is usable as a key. The first signed delivery proves it matches.
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
			displayName: 'Signing Secret',
			name: 'signingSecret',
			type: 'string',
			typeOptions: { password: true },
			required: true,
			default: '',
			placeholder: 'whsec_...',
			description:
				'In Truedy, open Settings → Webhooks, select the endpoint and copy its Signing Secret. Paste the whole value: the "whsec_" prefix is part of the key that signs each delivery. Spaces around it are ignored.',
		},
	];
}
