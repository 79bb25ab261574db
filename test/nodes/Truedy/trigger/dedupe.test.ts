// The Truedy Trigger's dedupe store: bounds, expiry, and persistence the way n8n 2.41 loads and
// saves static data (a fresh copy per request, saved whole with JSON.stringify after the answer).
import { Workflow, type IDataObject, type INode } from 'n8n-workflow';

import {
	DEDUPE_LIMITS,
	DeliveryDeduper,
	LEGACY_PROPERTY,
	PERSISTED_PROPERTY,
	STORED_KEY_LENGTH,
	storedKey,
	type DedupeLimits,
	type PersistedKeysJson,
} from '../../../../nodes/Truedy/trigger/dedupe';
import { PACKAGE, PackageNodeTypes } from '../../../support/engine';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const T0 = Date.UTC(2026, 0, 15, 12, 0, 0);
const small: DedupeLimits = {
	maxKeys: 5,
	ttlMs: DAY,
	bucketMs: HOUR,
	scopes: 2,
	maxSaveLagMs: 2_000,
	saveGiveUpMs: 60_000,
};

/** What n8n does with static data: the database holds JSON; each request parses its own copy. */
class FakeDb {
	json = '{}';
	load(): IDataObject {
		return JSON.parse(this.json);
	}
	save(staticData: IDataObject): void {
		this.json = JSON.stringify(staticData);
	}
	persisted(): PersistedKeysJson | undefined {
		return JSON.parse(this.json)[PERSISTED_PROPERTY];
	}
	keyCount(): number {
		return (this.persisted()?.b ?? []).reduce(
			(sum, [, keys]) => sum + keys.length / STORED_KEY_LENGTH,
			0,
		);
	}
}

/** One delivery through the store as webhook() runs it: load, claim, and save if changed. */
function deliver(
	deduper: DeliveryDeduper,
	db: FakeDb,
	key: string,
	now: number,
	scope = 'wf:node',
): boolean {
	const staticData = db.load();
	const claimed = deduper.claim(scope, key, staticData, now) === 'answer';
	if (claimed) db.save(staticData);
	return claimed;
}

describe('claiming', () => {
	test('once per key; a repeat is refused for at least the TTL and at most TTL + one hour', () => {
		const d = new DeliveryDeduper(small);
		expect(d.claim('s', 'k', undefined, T0)).toBe('answer');
		expect(d.claim('s', 'k', undefined, T0 + 1)).toBe('duplicate');
		expect(d.claim('s', 'k', undefined, T0 + DAY - 1)).toBe('duplicate');
		expect(d.claim('s', 'k', undefined, T0 + DAY + HOUR)).toBe('answer');
	});

	test('scopes are independent and at most `scopes` are kept in memory', () => {
		const d = new DeliveryDeduper(small);
		expect(d.claim('a', 'k', undefined, T0)).toBe('answer');
		expect(d.claim('b', 'k', undefined, T0)).toBe('answer');
		d.claim('c', 'k', undefined, T0);
		expect(d.scopeCount()).toBe(2);
		expect(d.claim('a', 'k', undefined, T0)).toBe('answer'); // 'a' was evicted (and had no static data)
	});

	test('at most maxKeys keys per trigger, oldest first, in memory and in the static data', () => {
		const d = new DeliveryDeduper(small);
		const db = new FakeDb();
		for (let i = 0; i < 8; i++) expect(deliver(d, db, `k${i}`, T0 + i * HOUR)).toBe(true);
		expect(d.size('wf:node')).toBe(5);
		expect(db.keyCount()).toBe(5);
		expect(deliver(d, db, 'k7', T0 + 8 * HOUR)).toBe(false);
		expect(deliver(d, db, 'k3', T0 + 8 * HOUR)).toBe(false);
		expect(deliver(d, db, 'k2', T0 + 8 * HOUR)).toBe(true); // evicted as one of the oldest
	});

	test('the cap also trims inside one hour', () => {
		const d = new DeliveryDeduper(small);
		for (let i = 0; i < 12; i++) d.claim('s', `k${i}`, undefined, T0 + i);
		expect(d.size('s')).toBe(5);
		expect(d.claim('s', 'k11', undefined, T0 + 20)).toBe('duplicate');
		expect(d.claim('s', 'k6', undefined, T0 + 20)).toBe('answer');
	});

	test('the defaults: 20,000 keys per trigger for 24 hours', () => {
		expect(DEDUPE_LIMITS).toMatchObject({ maxKeys: 20_000, ttlMs: DAY, maxSaveLagMs: 2_000 });
	});
});

describe('static data', () => {
	test('holds 11 characters per key grouped by hour, and no key in clear', () => {
		const d = new DeliveryDeduper(small);
		const db = new FakeDb();
		deliver(d, db, 'call.ended|event:uv_evt_1', T0);
		deliver(d, db, 'call.ended|event:uv_evt_2', T0 + 60_000);
		deliver(d, db, 'call.ended|event:uv_evt_3', T0 + HOUR);
		const persisted = db.persisted()!;
		expect(persisted).toMatchObject({ v: 1, n: 3, c: 3 });
		expect(persisted.b).toEqual([
			[T0 / 1000, storedKey('call.ended|event:uv_evt_1') + storedKey('call.ended|event:uv_evt_2')],
			[(T0 + HOUR) / 1000, storedKey('call.ended|event:uv_evt_3')],
		]);
		expect(storedKey('x')).toMatch(/^[A-Za-z0-9_-]{11}$/);
		expect(db.json).not.toContain('uv_evt');
	});

	test('the property is the store itself: a later JSON.stringify has every key claimed since', () => {
		const d = new DeliveryDeduper(small);
		const first: IDataObject = {};
		const second: IDataObject = {};
		d.claim('s', 'a', first, T0);
		d.claim('s', 'b', second, T0);
		expect(first[PERSISTED_PROPERTY]).toBe(second[PERSISTED_PROPERTY]);
		expect(JSON.parse(JSON.stringify(first))[PERSISTED_PROPERTY].b[0][1]).toBe(
			storedKey('a') + storedKey('b'),
		);
		expect(Object.keys(first[PERSISTED_PROPERTY] as object)).toEqual([]); // nothing for n8n to walk into
	});

	test('a repeat does not touch the static data (n8n saves nothing)', () => {
		const d = new DeliveryDeduper(small);
		const db = new FakeDb();
		deliver(d, db, 'k', T0);
		const staticData = db.load();
		expect(d.claim('wf:node', 'k', staticData, T0 + 1)).toBe('duplicate');
		expect(JSON.stringify(staticData)).toBe(db.json);
	});

	test('expired hours are dropped from what is saved', () => {
		const d = new DeliveryDeduper(small);
		const db = new FakeDb();
		deliver(d, db, 'old', T0);
		deliver(d, db, 'new', T0 + DAY + HOUR);
		expect(db.persisted()!.b).toEqual([[(T0 + DAY + HOUR) / 1000, storedKey('new')]]);
	});

	test('junk in the static data is ignored', () => {
		for (const junk of [
			null,
			'x',
			5,
			[],
			{ v: 2 },
			{ v: 1, b: 'x' },
			{ v: 1, b: [[1, 2], ['x', 'y'], null] },
		]) {
			const d = new DeliveryDeduper(small);
			const staticData: IDataObject = { [PERSISTED_PROPERTY]: junk as any, other: 1 };
			expect(d.claim('s', 'k', staticData, T0)).toBe('answer');
			expect(staticData.other).toBe(1);
		}
	});

	test('keys saved by version 0.1 (recentDeliveries) count and are moved over', () => {
		const db = new FakeDb();
		db.json = JSON.stringify({
			[LEGACY_PROPERTY]: { 'call.ended|event:e1': T0 + HOUR, 'call.ended|event:gone': T0 - 1 },
		});
		const d = new DeliveryDeduper(small);
		expect(deliver(d, db, 'call.ended|event:e1', T0)).toBe(false);
		expect(deliver(d, db, 'call.ended|event:e2', T0)).toBe(true);
		const saved = JSON.parse(db.json);
		expect(saved).not.toHaveProperty(LEGACY_PROPERTY);
		expect(new DeliveryDeduper(small).claim('s', 'call.ended|event:e1', saved, T0)).toBe(
			'duplicate',
		);
		expect(new DeliveryDeduper(small).claim('s', 'call.ended|event:gone', saved, T0)).toBe(
			'answer',
		);
	});
});

describe('restarts and concurrency', () => {
	test.each([1, 200, 1000])('after a restart every one of %i keys is still a repeat', (count) => {
		const limits = { ...DEDUPE_LIMITS };
		const db = new FakeDb();
		const before = new DeliveryDeduper(limits);
		for (let i = 0; i < count; i++)
			expect(deliver(before, db, `call.ended|event:e${i}`, T0 + i * 1000)).toBe(true);
		const after = new DeliveryDeduper(limits); // a new process: nothing in memory
		for (let i = 0; i < count; i++)
			expect(deliver(after, db, `call.ended|event:e${i}`, T0 + DAY - 1)).toBe(false);
		expect(deliver(after, db, 'call.ended|event:new', T0 + DAY - 1)).toBe(true);
	});

	test('concurrent requests in one process: whichever save lands last holds every key', () => {
		const d = new DeliveryDeduper(small);
		const db = new FakeDb();
		// Three requests load the same row before any of them saves.
		const copies = [db.load(), db.load(), db.load()];
		copies.forEach((copy, i) => expect(d.claim('wf:node', `k${i}`, copy, T0)).toBe('answer'));
		for (const order of [
			[0, 1, 2],
			[2, 1, 0],
			[1, 2, 0],
		]) {
			for (const i of order) db.save(copies[i]);
			const restarted = new DeliveryDeduper(small);
			for (let i = 0; i < 3; i++)
				expect(restarted.claim('wf:node', `k${i}`, db.load(), T0)).toBe('duplicate');
		}
	});

	test('an earlier snapshot committed after a later one is caught up by the next save', () => {
		const d = new DeliveryDeduper(small);
		const db = new FakeDb();
		const early = db.load();
		d.claim('wf:node', 'a', early, T0);
		const earlyJson = JSON.stringify(early); // serialized before b was claimed
		deliver(d, db, 'b', T0);
		db.json = earlyJson; // ...but committed last
		expect(db.keyCount()).toBe(1);
		deliver(d, db, 'c', T0);
		expect(db.keyCount()).toBe(3);
	});

	test("two processes sharing the database converge on each other's keys", () => {
		const db = new FakeDb();
		const a = new DeliveryDeduper(DEDUPE_LIMITS);
		const b = new DeliveryDeduper(DEDUPE_LIMITS);
		expect(deliver(a, db, 'k1', T0)).toBe(true);
		expect(deliver(b, db, 'k1', T0)).toBe(false); // b merged a's save
		expect(deliver(b, db, 'k2', T0)).toBe(true);
		expect(deliver(a, db, 'k2', T0)).toBe(false);
		// Last write wins across processes: a's concurrent save without k3 overwrites b's...
		const aCopy = db.load();
		expect(deliver(b, db, 'k3', T0)).toBe(true);
		a.claim('wf:node', 'k4', aCopy, T0);
		db.save(aCopy);
		// ...until b saves again: its whole set goes back in.
		expect(deliver(b, db, 'k5', T0)).toBe(true);
		const fresh = new DeliveryDeduper(DEDUPE_LIMITS);
		for (const key of ['k1', 'k2', 'k3', 'k4', 'k5'])
			expect(fresh.claim('wf:node', key, db.load(), T0)).toBe('duplicate');
	});

	test('a process whose save another process overwrote saves again on its next request, a repeat too, and then stops', () => {
		const db = new FakeDb();
		const webhookProcess = new DeliveryDeduper(DEDUPE_LIMITS);
		const main = new DeliveryDeduper(DEDUPE_LIMITS);
		/** One request as n8n handles it: load, claim, save if the node changed the static data. */
		const request = (deduper: DeliveryDeduper, key: string, loaded = db.load()) => {
			const before = loaded[PERSISTED_PROPERTY];
			const result = deduper.claim('wf:node', key, loaded, T0);
			const saved = loaded[PERSISTED_PROPERTY] !== before;
			if (saved) db.save(loaded);
			return { result, saved };
		};
		expect(request(main, 'k0').saved).toBe(true);
		const mainsCopy = db.load(); // main's next request loads before the webhook process saves
		expect(request(webhookProcess, 'x')).toEqual({ result: 'answer', saved: true });
		expect(request(main, 'y', mainsCopy)).toEqual({ result: 'answer', saved: true });
		expect(new DeliveryDeduper(DEDUPE_LIMITS).claim('wf:node', 'x', db.load(), T0)).toBe('answer'); // x overwritten

		// The webhook process's next request is a repeat: main's snapshot lacks its claim, so it saves.
		expect(request(webhookProcess, 'x')).toEqual({ result: 'duplicate', saved: true });
		expect(request(main, 'x')).toEqual({ result: 'duplicate', saved: false });
		// In step: further repeats at either process save nothing.
		expect(request(webhookProcess, 'y').saved).toBe(false);
		expect(request(main, 'k0').saved).toBe(false);
		const fresh = new DeliveryDeduper(DEDUPE_LIMITS);
		for (const key of ['k0', 'x', 'y'])
			expect(fresh.claim('wf:node', key, db.load(), T0)).toBe('duplicate');
	});

	test('a scope evicted from memory reloads its keys from the static data', () => {
		const d = new DeliveryDeduper(small);
		const db = new FakeDb();
		deliver(d, db, 'k', T0, 's1');
		d.claim('s2', 'x', undefined, T0);
		d.claim('s3', 'x', undefined, T0);
		expect(deliver(d, db, 'k', T0, 's1')).toBe(false);
	});
});

describe('while n8n has not saved the last deliveries (its database is behind)', () => {
	const limits: DedupeLimits = { ...small, maxKeys: 100 };

	/** A store whose first save came back, so it knows n8n saves. */
	function saving(): { d: DeliveryDeduper; db: FakeDb } {
		const d = new DeliveryDeduper(limits);
		const db = new FakeDb();
		deliver(d, db, 'first', T0);
		expect(d.claim('wf:node', 'second', db.load(), T0)).toBe('answer'); // sees its own save
		return { d, db };
	}

	test("new deliveries are 'defer' once a save has stayed unseen for 2 s; they still count, repeats stay duplicates", () => {
		const { d, db } = saving();
		// The save 'second' asked for does not reach the database.
		expect(d.claim('wf:node', 'k0', db.load(), T0 + 1_000)).toBe('answer'); // 1 s: still fine
		expect(d.claim('wf:node', 'k1', db.load(), T0 + 2_001)).toBe('defer');
		expect(d.claim('wf:node', 'k1', db.load(), T0 + 2_002)).toBe('duplicate');
		expect(d.saveLag('wf:node', T0 + 2_001)).toBe(2_001);
	});

	test('a deferred delivery changes nothing n8n would save; the next save (a repeat here) carries its key', () => {
		const { d, db } = saving();
		const deferred = db.load();
		expect(d.claim('wf:node', 'k1', deferred, T0 + 3_000)).toBe('defer');
		expect(JSON.stringify(deferred)).toBe(db.json);
		const repeat = db.load();
		expect(d.claim('wf:node', 'first', repeat, T0 + 3_100)).toBe('duplicate');
		db.save(repeat); // n8n saves after the self-answered repeat
		expect(new DeliveryDeduper(limits).claim('wf:node', 'k1', db.load(), T0 + 3_200)).toBe(
			'duplicate',
		);
		// That save came back: deliveries are answered at once again.
		expect(d.claim('wf:node', 'k2', db.load(), T0 + 3_300)).toBe('answer');
	});

	test("the deferred delivery's execution saves its key (saveDeferred on the execution's copy), once", () => {
		const { d, db } = saving();
		expect(d.claim('wf:node', 'k1', db.load(), T0 + 3_000)).toBe('defer');
		const execution = db.load(); // the static data n8n loads for the execution
		expect(d.saveDeferred('wf:node', execution, T0 + 3_100)).toBe(true);
		db.save(execution); // n8n saves it when the execution ends
		expect(new DeliveryDeduper(limits).claim('wf:node', 'k1', db.load(), T0 + 3_200)).toBe(
			'duplicate',
		);
		// Nothing left unsaved: later executions, and a worker that claimed nothing, change nothing.
		const later = db.load();
		expect(d.saveDeferred('wf:node', later, T0 + 3_300)).toBe(false);
		expect(JSON.stringify(later)).toBe(db.json);
		expect(new DeliveryDeduper(limits).saveDeferred('wf:node', db.load(), T0)).toBe(false);
	});

	test('a save unseen for 60 s counts as failed: the next delivery is answered, and its save writes every key', () => {
		const { d, db } = saving();
		expect(d.claim('wf:node', 'k1', db.load(), T0 + 10_000)).toBe('defer');
		const copy = db.load();
		expect(d.claim('wf:node', 'k2', copy, T0 + 61_000)).toBe('answer');
		db.save(copy);
		const fresh = new DeliveryDeduper(limits);
		for (const key of ['first', 'second', 'k1', 'k2'])
			expect(fresh.claim('wf:node', key, db.load(), T0 + 62_000)).toBe('duplicate');
	});

	test('nothing is deferred before a save of the store has come back (an n8n that does not save)', () => {
		const d = new DeliveryDeduper(limits);
		for (let i = 0; i < 10; i++)
			expect(d.claim('wf:node', `k${i}`, {}, T0 + i * 60_000)).toBe('answer');
	});

	test('without static data (in memory only) nothing is deferred', () => {
		const d = new DeliveryDeduper(limits);
		for (let i = 0; i < 10; i++)
			expect(d.claim('s', `k${i}`, undefined, T0 + i * 60_000)).toBe('answer');
	});
});

describe("inside n8n's change tracking (n8n-workflow's Workflow and ObservableObject)", () => {
	const node: INode = {
		id: 'n1',
		name: 'Truedy Trigger',
		type: `${PACKAGE}.truedyTrigger`,
		typeVersion: 1,
		position: [0, 0],
		parameters: {},
	};
	const workflowOn = (staticData: IDataObject) =>
		new Workflow({
			id: 'wf',
			nodes: [node],
			connections: {},
			nodeTypes: new PackageNodeTypes(),
			active: true,
			staticData,
		});

	test('a claim marks the static data changed; a second Workflow on the same object (as run() builds) keeps the keys', () => {
		const d = new DeliveryDeduper(small);
		const raw: IDataObject = JSON.parse('{"node:Truedy Trigger":{"endpoint":{"url":"u"}}}');
		const workflow = workflowOn(raw);
		const nodeData = workflow.getStaticData('node', node);
		expect(d.claim('wf:n1', 'k', nodeData, T0)).toBe('answer');
		expect((workflow.staticData as IDataObject).__dataChanged).toBe(true);
		workflowOn(raw); // n8n's establishContextForPersistence: wraps the same object again
		const saved = JSON.parse(JSON.stringify(workflow.staticData));
		expect(saved['node:Truedy Trigger'].endpoint).toEqual({ url: 'u' });
		expect(saved['node:Truedy Trigger'][PERSISTED_PROPERTY].b[0][1]).toBe(storedKey('k'));
		// The next request's copy, wrapped by n8n, is merged and recognised.
		const next = workflowOn(JSON.parse(JSON.stringify(saved))).getStaticData('node', node);
		expect(new DeliveryDeduper(small).claim('wf:n1', 'k', next, T0)).toBe('duplicate');
		// And claiming keeps working after n8n wrapped the store object.
		expect(d.claim('wf:n1', 'k2', next, T0)).toBe('answer');
		expect(JSON.parse(JSON.stringify(next))[PERSISTED_PROPERTY].b[0][1]).toBe(
			storedKey('k') + storedKey('k2'),
		);
	});
});

describe('cost at the cap (20,000 keys)', () => {
	test('one delivery: load + claim + save stays in the low milliseconds', () => {
		const d = new DeliveryDeduper(DEDUPE_LIMITS);
		const db = new FakeDb();
		for (let i = 0; i < 20_000; i++)
			d.claim('wf:node', `call.ended|event:seed${i}`, undefined, T0 + i);
		deliver(d, db, 'first', T0 + 30_000);
		expect(db.keyCount()).toBe(20_000);
		expect(db.json.length).toBeLessThan(20_000 * STORED_KEY_LENGTH + 2_000);
		const rounds = 200;
		const started = process.hrtime.bigint();
		for (let i = 0; i < rounds; i++) deliver(d, db, `call.ended|event:new${i}`, T0 + 40_000 + i);
		const perDeliveryMs = Number(process.hrtime.bigint() - started) / 1e6 / rounds;
		// After a restart the first delivery merges all keys once.
		const restarted = new DeliveryDeduper(DEDUPE_LIMITS);
		const mergeStarted = process.hrtime.bigint();
		deliver(restarted, db, 'after-restart', T0 + 50_000);
		const mergeMs = Number(process.hrtime.bigint() - mergeStarted) / 1e6;
		process.stderr.write(
			`dedupe at 20,000 keys: ${perDeliveryMs.toFixed(3)} ms per delivery (parse + claim + stringify of ${(db.json.length / 1024).toFixed(0)} KB), first delivery after a restart ${mergeMs.toFixed(1)} ms\n`,
		);
		expect(perDeliveryMs).toBeLessThan(20);
		expect(mergeMs).toBeLessThan(200);
	});
});
