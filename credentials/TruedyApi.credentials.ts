import type {
	IAuthenticateGeneric,
	Icon,
	ICredentialTestRequest,
	ICredentialType,
	INodeProperties,
} from 'n8n-workflow';

export class TruedyApi implements ICredentialType {
	name = 'truedyApi';

	displayName = 'Truedy API';

	icon: Icon = {
		light: 'file:../nodes/Truedy/truedy.svg',
		dark: 'file:../nodes/Truedy/truedy.dark.svg',
	};

	documentationUrl = 'https://docs.truedy.ai/authentication';

	properties: INodeProperties[] = [
		{
			displayName: 'API Key',
			name: 'apiKey',
			type: 'string',
			typeOptions: { password: true },
			required: true,
			default: '',
			description:
				'Create a key in the Truedy dashboard under Settings → API Keys. It starts with "truedy_" and is shown only once.',
		},
		{
			displayName: 'Base URL',
			name: 'baseUrl',
			type: 'string',
			default: 'https://api.truedy.ai/api/public/v1',
			description:
				'Change this only for a self-hosted Truedy deployment or a local simulator. Include the /api/public/v1 path.',
		},
	];

	authenticate: IAuthenticateGeneric = {
		type: 'generic',
		properties: {
			headers: {
				Authorization: '=Bearer {{$credentials.apiKey}}',
			},
		},
	};

	test: ICredentialTestRequest = {
		request: {
			baseURL: '={{$credentials.baseUrl.replace(/\\/+$/, "")}}',
			url: '/agents',
			qs: { limit: 1 },
		},
	};
}
