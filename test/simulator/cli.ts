// CLI: ts-node --transpile-only test/simulator/cli.ts --port 4010 [--api-key K] [--webhook-url U --webhook-secret S] [--fast]
import { startSimulator, StartOptions } from './server';
import type { HeaderSpelling, WebhookPayloadShape, WebhookSigning } from './types';

const USAGE = `Usage: ts-node --transpile-only test/simulator/cli.ts [flags]
  --port N                    listen port on 127.0.0.1 (default 4010; 0 = random)
  --api-key K                 API key to accept
  --webhook-url U             deliver call events to U (needs --webhook-secret)
  --webhook-secret S          signing secret
  --webhook-spelling S        Truedy (default) | Trudy header spelling
  --webhook-shape S           ultravox (default) | flat
  --webhook-events a,b        default call.ended
  --webhook-signing S         raw (default, documented) | sortedKeys (early backend)
  --expose-ultravox-ids       call objects carry ultravox_call_id, agents ultravox_agent_id (default: not)
  --rate-limit N              N requests per minute per organisation (rate-limits guide version A)
  --vocabulary V              ended (default) | completed
  --naming N                  phone_number (default) | to_from | to_number
  --shape S                   envelope (default) | bare
  --latency MS                added to every API response
  --fast                      short call timings (100/150/400 ms instead of 1/2/5 s)
  --options JSON              any SimulatorOptions as JSON, applied last`;

function parseArgs(argv: string[]): Record<string, string | true> {
	const out: Record<string, string | true> = {};
	for (let i = 0; i < argv.length; i++) {
		const arg = argv[i];
		if (!arg.startsWith('--')) throw new Error(`Unexpected argument ${arg}`);
		const [name, inline] = arg.slice(2).split(/=(.*)/s, 2);
		if (inline !== undefined) out[name] = inline;
		else if (argv[i + 1] !== undefined && !argv[i + 1].startsWith('--')) out[name] = argv[++i];
		else out[name] = true;
	}
	return out;
}

function str(args: Record<string, string | true>, name: string): string | undefined {
	const v = args[name];
	if (v === true) throw new Error(`--${name} needs a value`);
	return v;
}

function buildOptions(args: Record<string, string | true>): StartOptions {
	const opts: StartOptions = {
		port: Number(str(args, 'port') ?? 4010),
		callTimings: args.fast
			? { queuedMs: 100, ringingMs: 150, inProgressMs: 400 }
			: { queuedMs: 1000, ringingMs: 2000, inProgressMs: 5000 },
	};
	const apiKey = str(args, 'api-key');
	if (apiKey) opts.apiKey = apiKey;
	const url = str(args, 'webhook-url');
	if (url) {
		const secret = str(args, 'webhook-secret');
		if (!secret) throw new Error('--webhook-url needs --webhook-secret');
		opts.webhook = {
			url,
			secret,
			headerSpelling: (str(args, 'webhook-spelling') as HeaderSpelling | undefined) ?? 'Truedy',
			payloadShape: (str(args, 'webhook-shape') as WebhookPayloadShape | undefined) ?? 'ultravox',
			events: str(args, 'webhook-events')
				?.split(',')
				.map((e) => e.trim()),
			signing: (str(args, 'webhook-signing') as WebhookSigning | undefined) ?? 'raw',
		};
	}
	const vocabulary = str(args, 'vocabulary');
	if (vocabulary) opts.statusVocabulary = vocabulary as StartOptions['statusVocabulary'];
	const naming = str(args, 'naming');
	if (naming) opts.callFieldNaming = naming as StartOptions['callFieldNaming'];
	const shape = str(args, 'shape');
	if (shape) opts.responseShape = shape as StartOptions['responseShape'];
	if (args['expose-ultravox-ids']) opts.exposeUltravoxIds = true;
	const rateLimit = str(args, 'rate-limit');
	if (rateLimit) opts.rateLimit = { limit: Number(rateLimit) };
	const latency = str(args, 'latency');
	if (latency) opts.latencyMs = Number(latency);
	const json = str(args, 'options');
	if (json) Object.assign(opts, JSON.parse(json));
	return opts;
}

async function main(): Promise<void> {
	const args = parseArgs(process.argv.slice(2));
	if (args.help) {
		console.log(USAGE);
		return;
	}
	const sim = await startSimulator(buildOptions(args));
	console.log(`Truedy simulator listening on ${sim.url}`);
	console.log(`  Base URL: ${sim.baseUrl}`);
	console.log(`  API key:  ${sim.apiKey}`);
	console.log(
		`  Control:  ${sim.url}/__sim/{health,requests,stats,calls,deliveries,faults,config,configure,reset}`,
	);
	console.log('  Agents:');
	for (const a of sim.options.agents) {
		const numbers =
			a.outbound_phone_numbers.map((n) => n.phone_number).join(', ') || 'no outbound number';
		console.log(`    ${a.id}  ${a.name} [${a.status}] (${numbers})`);
	}
	if (sim.options.webhook)
		console.log(
			`  Webhook:  ${sim.options.webhook.url} (${sim.options.webhook.payloadShape} shape)`,
		);
	console.log(
		`SIMULATOR_READY ${JSON.stringify({ url: sim.url, baseUrl: sim.baseUrl, apiKey: sim.apiKey })}`,
	);

	let stopping = false;
	const stop = (signal: string) => {
		if (stopping) return;
		stopping = true;
		console.log(`Received ${signal}, shutting down`);
		sim.close().then(
			() => process.exit(0),
			() => process.exit(1),
		);
	};
	process.on('SIGINT', () => stop('SIGINT'));
	process.on('SIGTERM', () => stop('SIGTERM'));
}

main().catch((e) => {
	console.error(`simulator: ${(e as Error).message}`);
	console.error(USAGE);
	process.exit(1);
});
