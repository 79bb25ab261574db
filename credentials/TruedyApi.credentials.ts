import type {
	ICredentialDataDecryptedObject,
	Icon,
	ICredentialTestRequest,
	ICredentialType,
	IHttpRequestOptions,
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

	// A function rather than a `=Bearer {{$credentials.apiKey}}` expression: n8n would evaluate
	// that expression in its sandbox on every request (see docs/benchmarks.md).
	async authenticate(
		credentials: ICredentialDataDecryptedObject,
		requestOptions: IHttpRequestOptions,
	): Promise<IHttpRequestOptions> {
		return {
			...requestOptions,
			headers: { ...requestOptions.headers, Authorization: `Bearer ${String(credentials.apiKey)}` },
		};
	}

	test: ICredentialTestRequest = {
		request: {
			baseURL: '={{$credentials.baseUrl.replace(/\\/+$/, "")}}',
			url: '/agents',
			qs: { limit: 1 },
		},
	};
}
