// bench/signin.js N: what a full node-oidc-provider sign-in costs in idsess.
// Runs N sign-ins (a new user agent each: authorization request, login and
// consent through devInteractions, the code exchanged at the token
// endpoint) with the Session model in idsess and in the provider's in-memory
// adapter, after a warm-up of each.  Counts the Session adapter's
// calls and the statements it sends (each one round trip), and times the
// adapter calls (the wait for idsess, seen from the identity server).
// Prints a Markdown table.  test/run.sh --bench N runs it on a throwaway
// cluster; other models stay in memory in every run.  idsess runs twice:
// with durable commits (the server's default: each save waits for its WAL
// to reach the disk) and with synchronous_commit = off for the adapter's
// connections, which shows what the commit's flush costs (the in-memory
// adapter keeps nothing across a crash).  A plain SQL table in the same
// database, with the adapter such a table usually gets (one statement per
// call, no sealing, no clients, no revocation), is the baseline that shows
// what any SQL store pays for the provider's round trips.

import { performance } from 'node:perf_hooks';

import pg from 'pg';
import MemoryAdapter from 'oidc-provider/lib/adapters/memory_adapter.js';

import { IdsessSessionAdapter } from '../index.js';
import {
	Agent, authorize, exchange, startOp, startRp,
} from '../test/harness.js';

const N = Number(process.argv[2] ?? 50);
const WARMUP = 10;
const METHODS = ['find', 'findByUid', 'upsert', 'destroy'];

// Counts what a pg.Pool sends: one round trip per query, on the pool or on
// a client checked out of it.
function countingPool(pool, stats) {
	const wrapQuery = (target) => {
		const query = target.query.bind(target);
		return (...args) => {
			stats.roundTrips += 1;
			return query(...args);
		};
	};
	return {
		query: wrapQuery(pool),
		connect: async () => {
			const client = await pool.connect();
			return Object.assign(Object.create(client), { query: wrapQuery(client), release: (e) => client.release(e) });
		},
	};
}

// Wraps a Session adapter so that each call the provider makes is counted
// and timed (the in-memory adapter's findByUid calls its own find: that
// inner call is not the provider's).
function measured(adapter, stats) {
	let depth = 0;
	for (const m of METHODS) {
		const f = adapter[m].bind(adapter);
		adapter[m] = async (...args) => {
			if (depth > 0) return f(...args);
			depth += 1;
			const t0 = performance.now();
			try {
				return await f(...args);
			} finally {
				depth -= 1;
				const dt = performance.now() - t0;
				stats.ms += dt;
				stats.methodMs[m] = (stats.methodMs[m] ?? 0) + dt;
				stats.calls[m] = (stats.calls[m] ?? 0) + 1;
			}
		};
	}
	return adapter;
}

// The usual SQL Session adapter: the payload as JSON text in a table keyed
// by id, found by id or by uid, saved by an upsert; the provider's key
// change is its destroy and then its upsert.  Named statements, as
// idsess's adapter sends.
class PlainSqlAdapter {
	constructor(pool) {
		this.pool = pool;
	}

	async find(id) {
		const { rows } = await this.pool.query({ name: 'plain_find', text: `SELECT payload FROM bench_plain.sessions
			WHERE id = $1 AND expires_at > now()`, values: [id] });
		return rows.length ? JSON.parse(rows[0].payload) : undefined;
	}

	async findByUid(uid) {
		const { rows } = await this.pool.query({ name: 'plain_find_uid', text: `SELECT payload FROM bench_plain.sessions
			WHERE uid = $1 AND expires_at > now()`, values: [uid] });
		return rows.length ? JSON.parse(rows[0].payload) : undefined;
	}

	async upsert(id, payload, expiresIn) {
		await this.pool.query({ name: 'plain_upsert', text: `INSERT INTO bench_plain.sessions (id, uid, payload, expires_at)
			VALUES ($1, $2, $3, now() + $4 * interval '1 second')
			ON CONFLICT (id) DO UPDATE SET uid = EXCLUDED.uid, payload = EXCLUDED.payload, expires_at = EXCLUDED.expires_at`,
		values: [id, payload.uid, JSON.stringify(payload), expiresIn] });
	}

	async destroy(id) {
		await this.pool.query({ name: 'plain_destroy', text: 'DELETE FROM bench_plain.sessions WHERE id = $1', values: [id] });
	}
}

function newStats() {
	return { roundTrips: 0, ms: 0, calls: {}, methodMs: {} };
}

async function run(label, makeSession) {
	const stats = newStats();
	const session = makeSession(stats);
	const others = new Map();
	const adapter = (name) => {
		if (name === 'Session') return session;
		if (!others.has(name)) others.set(name, new MemoryAdapter(name));
		return others.get(name);
	};
	const rp = await startRp();
	const op = await startOp(adapter, rp);
	const one = async (i) => {
		const agent = new Agent();
		const r = await authorize(agent, op, rp, 'app1', { user: `${label}-user-${i}` });
		const t = await exchange(op, rp, 'app1', r.code);
		if (!t.claims) throw new Error(`${label}: sign-in ${i} failed: ${t.error}`);
	};
	for (let i = 0; i < WARMUP; i += 1) await one(-i - 1);
	Object.assign(stats, newStats());
	const times = [];
	for (let i = 0; i < N; i += 1) {
		const t0 = performance.now();
		await one(i);
		times.push(performance.now() - t0);
	}
	op.close();
	rp.close();
	times.sort((a, b) => a - b);
	return {
		label,
		median: times[Math.floor(N / 2)],
		mean: times.reduce((a, b) => a + b, 0) / N,
		calls: Object.fromEntries(METHODS.map((m) => [m, (stats.calls[m] ?? 0) / N])),
		methodMs: Object.fromEntries(METHODS.map((m) => [m, (stats.methodMs[m] ?? 0) / (stats.calls[m] || 1)])),
		roundTrips: stats.roundTrips / N,
		storeMs: stats.ms / N,
	};
}

// Each store runs twice, alternately; the second runs are reported (the
// first ones warm up the provider's code paths and the JIT).
const pool = new pg.Pool({ max: 4 });
const asyncPool = new pg.Pool({ max: 4, options: '-c synchronous_commit=off' });
const admin = new pg.Pool({ max: 1, user: process.env.IDSESS_ADMIN_USER });
await admin.query(`CREATE SCHEMA bench_plain AUTHORIZATION ${process.env.PGUSER};
	SET ROLE ${process.env.PGUSER};
	CREATE TABLE bench_plain.sessions (id text PRIMARY KEY, uid text NOT NULL, payload text NOT NULL,
		expires_at timestamptz NOT NULL);
	CREATE INDEX ON bench_plain.sessions (uid);
	CREATE INDEX ON bench_plain.sessions (expires_at);`);
await admin.end();
const stores = {
	memory: (stats) => measured(new MemoryAdapter('Session'), stats),
	plain: (stats) => measured(new PlainSqlAdapter(countingPool(pool, stats)), stats),
	idsess: (stats) => measured(new IdsessSessionAdapter(countingPool(pool, stats)), stats),
	'idsess-nosync': (stats) => measured(new IdsessSessionAdapter(countingPool(asyncPool, stats)), stats),
};
const results = {};
for (let round = 0; round < 2; round += 1) {
	for (const [label, make] of Object.entries(stores)) results[label] = await run(label, make);
}
const { memory } = results;
const LABELS = { 'idsess-nosync': 'idsess, synchronous_commit off', plain: 'plain SQL table' };
await pool.end();
await asyncPool.end();

const f = (x, d = 2) => x.toFixed(d);
console.log(`${N} sign-ins per store after ${WARMUP} warm-up ones; per sign-in:\n`);
console.log('| Session store | adapter calls (find / findByUid / upsert / destroy) | round trips | time in the Session store | sign-in, median | sign-in, mean | store share |');
console.log('|---|---|---|---|---|---|---|');
for (const r of Object.values(results)) {
	const calls = METHODS.map((m) => f(r.calls[m], 1)).join(' / ');
	const total = METHODS.reduce((a, m) => a + r.calls[m], 0);
	console.log(`| ${LABELS[r.label] ?? r.label} | ${f(total, 1)} (${calls}) | ${r.label === 'memory' ? '–' : f(r.roundTrips, 1)} | ${f(r.storeMs)} ms | ${f(r.median)} ms | ${f(r.mean)} ms | ${f(100 * r.storeMs / r.mean, 0)}% |`);
}
for (const r of Object.values(results).filter((x) => x !== memory)) {
	console.log(`\n${LABELS[r.label] ?? r.label}, mean per adapter call: `
		+ METHODS.map((m) => `${m} ${f(r.methodMs[m], 3)} ms`).join(', '));
}
