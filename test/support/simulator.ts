/**
 * The simulator fixture: one Truedy simulator per test file, started before the first test,
 * reset after each test (requests, calls, faults and every option back to `options`), stopped
 * after the last one.
 *
 *   const sim = useSimulator({ autoAdvance: false });
 *   test('…', async () => { sim.configure({ extraAgents: 150 }); … });   // undone after the test
 */
import { startSimulator, type StartOptions, type TruedySimulator } from '../simulator/server';

export function useSimulator(options: StartOptions = {}): TruedySimulator {
	let current: TruedySimulator | undefined;

	beforeAll(async () => {
		current = await startSimulator(options);
	});

	afterEach(() => {
		current?.reset();
	});

	afterAll(async () => {
		await current?.close();
		current = undefined;
	});

	const started = (): TruedySimulator => {
		if (!current) throw new Error('useSimulator(): the simulator runs only inside tests and hooks');
		return current;
	};
	// The handle exists before the simulator does: every read goes to the started instance.
	return new Proxy({} as TruedySimulator, {
		get(_target, property) {
			const sim = started();
			const value: unknown = Reflect.get(sim, property, sim);
			return typeof value === 'function' ? value.bind(sim) : value;
		},
		set(_target, property, value) {
			return Reflect.set(started(), property, value);
		},
		has(_target, property) {
			return Reflect.has(started(), property);
		},
	});
}
