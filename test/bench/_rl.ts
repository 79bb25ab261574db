/* eslint-disable */
// TEMPORARY: rate-limit timeline of Place Call in-process.
import '../../nodes/Truedy/Truedy.node';
import { startSimulator, SIM_AGENTS } from '../simulator/server';
import { runPlaceCall, agentById, items } from '../support/place-call-helpers';
(async () => {
	const sim = await startSimulator({ autoAdvance: false, failNumbers: [], rateLimit: { limit: 100, windowMs: 2000, style: 'reset_at' } });
	const c = Number(process.argv[2] ?? 10);
	const leads = items(...Array.from({ length: 1000 }, (_, i) => ({ phone: '+1415555' + String(i).padStart(4, '0') })));
	for (let r = 0; r < 2; r++) {
		sim.reset();
		const t0 = Date.now();
		const res = await runPlaceCall(sim, { parameters: { agent: agentById(SIM_AGENTS.active), phoneNumber: '={{ $json.phone }}', options: { concurrency: c } }, items: leads });
		const ms = Date.now() - t0;
		const posts = sim.requests.filter((q) => q.method === 'POST');
		// per window stats
		const byWin = new Map<number, { ok: number; rej: number; first: number; lastOk: number }>();
		for (const q of posts) {
			const w = Math.floor(q.receivedAt / 2000) * 2000;
			const e = byWin.get(w) ?? { ok: 0, rej: 0, first: q.receivedAt - w, lastOk: 0 };
			if (q.status === 201) { e.ok++; e.lastOk = q.receivedAt - w; } else e.rej++;
			byWin.set(w, e);
		}
		console.log(`c=${c} total ${ms} ms, start phase ${(t0 % 2000)} ms, calls ${sim.calls.size}, 429s ${posts.filter((q) => q.status === 429).length}`);
		for (const [w, e] of byWin) console.log(`  window +${w - Math.floor(t0 / 2000) * 2000}: ok ${e.ok} rej ${e.rej} first ${e.first} lastOk ${e.lastOk}`);
	}
	await sim.close();
})();
