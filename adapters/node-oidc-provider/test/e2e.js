// test/e2e.js: the adapter end to end, with the real node-oidc-provider over
// loopback and idsess in a throwaway cluster (test/run.sh starts it and sets
// PGHOST, PGPORT, PGDATABASE, PGUSER; IDSESS_ADMIN_USER inspects the tables).
// It imports the package by its name: test/run.sh runs it in a fresh project
// that installed the packed tarball.  Each step prints "ok" or throws; the
// whole run is bounded by a timer.

import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';

import pg from 'pg';
import MemoryAdapter from 'oidc-provider/lib/adapters/memory_adapter.js';

import * as pkg from 'idsess-oidc-provider-adapter';
import {
	drainLogouts, idsessAdapter, IdsessSessionAdapter, mySessions, requestClient, sendLogouts,
	signOutOtherSessions, touchSession,
} from 'idsess-oidc-provider-adapter';
import {
	Agent, authorize, exchange, logout, startOp, startRp, USER_AGENT,
} from './harness.js';

const deadline = setTimeout(() => {
	console.error('e2e: not finished within 120 s');
	process.exit(1);
}, 120_000);

const pool = new pg.Pool({ max: 8 });
const admin = new pg.Pool({ max: 2, user: process.env.IDSESS_ADMIN_USER });

// A gate on Session saves: the in-flight test holds one save until it has
// revoked the session the request loaded.
let gate = null;
class GatedAdapter extends IdsessSessionAdapter {
	async upsert(...args) {
		if (gate) {
			const g = gate;
			gate = null;
			g.reached();
			await g.released;
		}
		return super.upsert(...args);
	}
}

const base = idsessAdapter(pool, { others: MemoryAdapter });
// The identity server's tenant, as a multi-tenant server resolves it: from
// the host the request came to.
const TENANT = 'e2e-tenant';
// Saves idsess refused as revoked, as onRevokedSave heard of them.
const refused = [];
let session;
const adapter = (name) => {
	if (name !== 'Session') return base(name);
	session ??= new GatedAdapter(pool, {
		issuer: op.issuer,
		onRevokedSave: (save, ctx) => refused.push({ save, inRequest: ctx !== undefined }),
		tenant: (ctx) => (ctx?.hostname === '127.0.0.1' ? TENANT : null),
		maxLifetime: 8 * 3600,
		client: (ctx) => ({ ...requestClient(ctx), device: 'e2e device' }),
	});
	return session;
};

const rp = await startRp();
const op = await startOp(adapter, rp, {
	sessionTtl: (accountId) => (accountId?.startsWith('short-') ? 2 : 3600),
});
// The login step reports how the user authenticated, as an identity
// server's own interaction code does (devInteractions gives only the account).
const finishInteraction = op.provider.interactionFinished.bind(op.provider);
op.provider.interactionFinished = (req, res, result, options) => finishInteraction(req, res,
	result.login ? { ...result, login: { ...result.login, acr: 'urn:e2e:password', amr: ['pwd'] } } : result, options);

let n = 0;
function ok(what) {
	n += 1;
	console.log(`ok ${n} - ${what}`);
}

// The rows idsess keeps for a subject, read from the table (expired rows
// the worker has not removed yet included).
async function stored(subject) {
	const { rows } = await admin.query(
		`SELECT s.key, s.session_id, s.created,
			array(SELECT c.client_id FROM idsess.session_clients c WHERE c.session = s.id ORDER BY c.client_id) AS clients
		 FROM idsess.sessions s WHERE s.subject_id = $1`,
		[subject],
	);
	return rows;
}

function sidsByClient(logouts, sub) {
	const out = {};
	for (const l of logouts.filter((x) => x.claims.sub === sub)) out[l.client] = l.claims.sid;
	return out;
}

try {
	// The values index.d.ts declares are the module's exports, and the
	// other way round.
	const dts = await readFile(createRequire(import.meta.url).resolve('idsess-oidc-provider-adapter')
		.replace(/index\.js$/, 'index.d.ts'), 'utf8');
	const declared = [...dts.matchAll(/^export (?:function|class|const) (\w+)/gm)].map((m) => m[1]);
	assert.deepEqual([...new Set(declared)].sort(), Object.keys(pkg).sort());
	ok('index.d.ts declares every export of the package, and nothing else');

	// 0. The other models' adapter is taken as the provider takes one: a
	// class is constructed, a function with a prototype too, an arrow
	// function is called; anything else is refused.
	class ClassAdapter { constructor(name) { this.name = name; this.how = 'class'; } }
	function FunctionAdapter(name) { this.name = name; this.how = 'function'; }
	const arrow = (name) => ({ name, how: 'factory' });
	for (const [others, how] of [[ClassAdapter, 'class'], [FunctionAdapter, 'function'], [arrow, 'factory']]) {
		const got = idsessAdapter(pool, { others })('AccessToken');
		assert.deepEqual({ name: got.name, how: got.how }, { name: 'AccessToken', how });
		assert.ok(idsessAdapter(pool, { others })('Session') instanceof IdsessSessionAdapter);
	}
	for (const others of [undefined, {}, async (name) => ({ name })]) {
		assert.throws(() => idsessAdapter(pool, { others }), TypeError);
	}
	assert.throws(() => idsessAdapter(pool, { others: arrow, onRevokedSave: 'log' }), TypeError);
	assert.throws(() => idsessAdapter(pool, { others: arrow, maxLifetime: '8h' }), TypeError);
	assert.throws(() => idsessAdapter(pool, { others: arrow, tenant: 7 }), TypeError);
	ok('others is constructed or called as the provider does with its adapter; others refused');

	// 1. Sign-in through devInteractions.
	const alice = new Agent();
	const first = await authorize(alice, op, rp, 'app1');
	assert.deepEqual(first.prompts, ['login', 'consent']);
	const t1 = await exchange(op, rp, 'app1', first.code);
	assert.equal(t1.claims.sub, 'alice');
	const sid1 = t1.claims.sid;
	let rows = await stored('alice');
	assert.equal(rows.length, 1, 'one idsess session for alice');
	assert.deepEqual(rows[0].clients, ['app1']);
	assert.equal(rows[0].key, alice.jar.get('_session'), 'the idsess key is the session cookie');
	const created = rows[0].created.getTime();
	ok('sign-in through devInteractions stores one session keyed by the cookie, with its client');

	// 2. Silent re-authorization.
	const silent = await authorize(alice, op, rp, 'app1', { prompt: 'none' });
	assert.deepEqual(silent.prompts, []);
	assert.ok(silent.code, `prompt=none gave ${silent.error}`);
	const t1b = await exchange(op, rp, 'app1', silent.code);
	assert.equal(t1b.claims.sid, sid1);
	ok('silent re-authorization (prompt=none) gives a code and the same sid');

	// 3. A second client joins (consent only, no login).
	const join = await authorize(alice, op, rp, 'app2');
	assert.deepEqual(join.prompts, ['consent']);
	const t2 = await exchange(op, rp, 'app2', join.code);
	const sid2 = t2.claims.sid;
	assert.notEqual(sid2, sid1, 'each client has its own sid');
	rows = await stored('alice');
	assert.equal(rows.length, 1, 'still one session after the key change');
	assert.deepEqual(rows[0].clients, ['app1', 'app2']);
	assert.equal(rows[0].created.getTime(), created, 'the key change kept the session (created unchanged)');
	ok('a second client joins the same session, with its own sid; the key change keeps the row');

	// 3b. idsess 1.2: what the session records of its tenant, lifetime,
	// sign-in and client; "my sessions"; signing out the others.
	const aliceKey = alice.jar.get('_session');
	const { rows: [row] } = await admin.query(
		`SELECT tenant, acr, amr, auth_time, client_ip::text AS ip, user_agent, device,
			extract(epoch FROM lifetime_end - created)::int AS lifetime
		 FROM idsess.sessions WHERE key = $1`,
		[aliceKey],
	);
	assert.deepEqual({ ...row, auth_time: undefined }, {
		tenant: TENANT, acr: 'urn:e2e:password', amr: ['pwd'], auth_time: undefined, ip: '127.0.0.0/24',
		user_agent: USER_AGENT, device: 'e2e device', lifetime: 8 * 3600,
	});
	assert.ok(Math.abs(row.auth_time.getTime() - Date.now()) < 60_000, 'auth_time is the login time');
	ok('the session records its tenant, absolute lifetime, acr, amr, auth_time, IP prefix, user agent and device');

	await admin.query('CREATE ROLE e2e_tenant_admin LOGIN');
	await admin.query('SELECT public.idsess_grant_tenant_admin($1::regrole, $2)', ['e2e_tenant_admin', TENANT]);
	await new IdsessSessionAdapter(pool).upsert('e2e-default-tenant-key', { uid: 'e2e-dora', accountId: 'dora', kind: 'Session' }, 600);
	const tenantAdmin = new pg.Pool({ max: 1, user: 'e2e_tenant_admin' });
	try {
		const seen = await tenantAdmin.query(`SELECT subject_id, tenant FROM idsess.active_sessions WHERE subject_id IN ('alice', 'dora')`);
		assert.deepEqual(seen.rows, [{ subject_id: 'alice', tenant: TENANT }]);
	} finally {
		await tenantAdmin.end();
	}
	const everyone = await admin.query(`SELECT subject_id FROM idsess.active_sessions WHERE subject_id IN ('alice', 'dora') ORDER BY 1`);
	assert.deepEqual(everyone.rows.map((r) => r.subject_id), ['alice', 'dora']);
	ok('a tenant admin sees its tenant\'s sessions and not the default tenant\'s');

	const alice2 = new Agent();
	const other = await exchange(op, rp, 'app1', (await authorize(alice2, op, rp, 'app1')).code);
	let mine = await mySessions(pool, 'alice', aliceKey);
	assert.deepEqual(mine.map((m) => [m.current, m.clients, m.client_ip]),
		[[true, ['app1', 'app2'], '127.0.0.0/24'], [false, ['app1'], '127.0.0.0/24']]);
	assert.equal(mine[0].session_id, rows[0].session_id);
	assert.ok(await touchSession(pool, aliceKey, {
		ctx: {}, client: () => ({ ip: '::ffff:198.51.100.7', userAgent: 'touch/1' }),
	}));
	mine = await mySessions(pool, 'alice', aliceKey);
	assert.deepEqual([mine[0].client_ip, mine[0].user_agent], ['198.51.100.0/24', 'touch/1']);
	ok('my sessions lists alice\'s two sessions, the current first; a touch records a new address');

	const beforeOthers = rp.logouts.length;
	const ended = await signOutOtherSessions(pool, 'alice', aliceKey, { tenant: TENANT, reason: 'e2e: the others' });
	assert.deepEqual(ended.map((r) => r.session_id), [mine[1].session_id]);
	assert.deepEqual(await sendLogouts(op.provider, ended), []);
	assert.ok(await rp.waitFor(beforeOthers + 1));
	assert.deepEqual(sidsByClient(rp.logouts.slice(beforeOthers), 'alice'), { app1: other.claims.sid });
	assert.deepEqual((await mySessions(pool, 'alice', aliceKey)).map((m) => m.current), [true]);
	ok('signing out the other sessions keeps the current one; the other\'s client gets its logout');

	// 4. Revocation while a code is pending and a request is in flight.
	const pending = await authorize(alice, op, rp, 'app1', { prompt: 'none' });
	assert.ok(pending.code);
	let reached;
	let release;
	gate = {
		reached: () => reached(),
		released: new Promise((r) => { release = r; }),
	};
	const atSave = new Promise((r) => { reached = r; });
	const inflight = authorize(alice, op, rp, 'app2', { prompt: 'none' });
	await atSave;
	const revoked = await pool.query(
		'SELECT * FROM public.idsess_revoke(subject_id => $1, reason => $2)',
		['alice', 'e2e'],
	);
	assert.equal(revoked.rows.length, 1);
	release();
	const late = await inflight;
	assert.deepEqual(await stored('alice'), [], 'the in-flight save did not bring the session back');
	assert.equal(refused.length, 1, 'the refused save was reported once');
	assert.deepEqual(refused[0], { save: { uid: revoked.rows[0].session_id, accountId: 'alice' }, inRequest: true });
	if (late.code) {
		assert.equal((await exchange(op, rp, 'app2', late.code)).error, 'invalid_grant');
	}
	ok('a request in flight during the revoke does not bring the session back; onRevokedSave hears of it');

	// Without onRevokedSave, a refused save is a process warning that names
	// the session's uid, not its key.
	const warnings = [];
	const onWarning = (w) => warnings.push(w);
	process.on('warning', onWarning);
	const revokedKey = revoked.rows[0].key;
	await new IdsessSessionAdapter(pool).upsert(revokedKey,
		{ uid: revoked.rows[0].session_id, accountId: 'alice', kind: 'Session' }, 60);
	await new Promise((r) => { setImmediate(r); });
	process.off('warning', onWarning);
	assert.equal(warnings.length, 1);
	assert.equal(warnings[0].code, 'IDSESS_REVOKED_SAVE');
	assert.match(warnings[0].message, new RegExp(`session ${revoked.rows[0].session_id} of alice`));
	assert.ok(!warnings[0].message.includes(revokedKey), 'the warning does not name the key');
	assert.deepEqual(await stored('alice'), []);
	ok('without onRevokedSave a refused save is a process warning without the key');

	assert.equal((await exchange(op, rp, 'app1', pending.code)).error, 'invalid_grant');
	ok('a code issued before the revoke is refused');

	const again = await authorize(alice, op, rp, 'app1', { interact: false });
	assert.deepEqual(again.prompts, ['login']);
	ok('the next authorization asks for login (the stale cookie finds no session)');
	const anon = await admin.query('SELECT subject_id FROM idsess.sessions WHERE key = $1', [alice.jar.get('_session')]);
	assert.deepEqual(anon.rows, [{ subject_id: null }]);
	ok('the provider\'s session without a user (for the stale cookie) is stored without a subject');

	// Back-channel logout after the admin revoke: the identity server sends
	// what idsess_revoke returned, each client with its own sid.
	const before = rp.logouts.length;
	assert.deepEqual(await sendLogouts(op.provider, revoked.rows), []);
	assert.ok(await rp.waitFor(before + 2));
	assert.deepEqual(sidsByClient(rp.logouts.slice(before), 'alice'), { app1: sid1, app2: sid2 });
	ok('back-channel logout after the revoke carries each client\'s own sid');

	// 5. RP-initiated logout.
	const bob = new Agent();
	const b1 = await exchange(op, rp, 'app1', (await authorize(bob, op, rp, 'app1', { user: 'bob' })).code);
	const b2 = await exchange(op, rp, 'app2', (await authorize(bob, op, rp, 'app2', { user: 'bob' })).code);
	assert.equal((await stored('bob')).length, 1);
	const beforeBob = rp.logouts.length;
	const bye = await logout(bob, op, rp, b1.idToken, 'app1');
	assert.ok(bye.startsWith(`${rp.base}/bye/app1`), bye);
	assert.deepEqual(await stored('bob'), [], 'RP-initiated logout removed the session');
	assert.ok(await rp.waitFor(beforeBob + 2));
	assert.deepEqual(sidsByClient(rp.logouts.slice(beforeBob), 'bob'), { app1: b1.claims.sid, app2: b2.claims.sid });
	ok('RP-initiated logout removes the session; the provider notifies both clients');

	// 6. Expiry: the worker removes the session and queues its logout; the
	// identity server drains the outbox.
	const carol = new Agent();
	const c1 = await exchange(op, rp, 'app1', (await authorize(carol, op, rp, 'app1', { user: 'short-carol' })).code);
	const c2 = await exchange(op, rp, 'app2', (await authorize(carol, op, rp, 'app2', { user: 'short-carol' })).code);
	assert.equal((await stored('short-carol')).length, 1);
	let gone = false;
	for (let i = 0; i < 100 && !gone; i += 1) {
		await new Promise((r) => { setTimeout(r, 100); });
		gone = (await stored('short-carol')).length === 0;
	}
	assert.ok(gone, 'the worker removed the expired session');
	ok('an expired session is removed by the worker');

	const beforeCarol = rp.logouts.length;
	const { sessions: owed, failures } = await drainLogouts(pool, op.provider);
	assert.equal(owed.length, 1);
	assert.deepEqual(failures, []);
	assert.equal(owed[0].issuer, op.issuer);
	assert.ok(await rp.waitFor(beforeCarol + 2));
	assert.deepEqual(sidsByClient(rp.logouts.slice(beforeCarol), 'short-carol'), { app1: c1.claims.sid, app2: c2.claims.sid });
	assert.equal((await admin.query('SELECT count(*)::int AS n FROM idsess.logout_outbox')).rows[0].n, 0);
	ok('back-channel logout after expiry carries each client\'s own sid; the outbox is drained');

	// 7. A database whose idsess is still 1.1.
	const pool11 = new pg.Pool({ max: 2, database: 'oidc11' });
	try {
		const old = new IdsessSessionAdapter(pool11);
		const payload = {
			uid: 'e2e-uid-11', accountId: 'erin', acr: 'urn:e2e:password', amr: ['pwd'], loginTs: Math.floor(Date.now() / 1000), kind: 'Session',
		};
		await old.upsert('e2e-key-11', payload, 600);
		assert.deepEqual(await old.find('e2e-key-11'), payload);
		await assert.rejects(new IdsessSessionAdapter(pool11, { tenant: 'acme' }).upsert('e2e-key-11b', payload, 600), { code: 'IDSESS_VERSION' });
		await assert.rejects(new IdsessSessionAdapter(pool11, { maxLifetime: 60 }).upsert('e2e-key-11b', payload, 600), { code: 'IDSESS_VERSION' });
		assert.equal((await old.find('e2e-key-11b')), undefined);
	} finally {
		await pool11.end();
	}
	ok('on idsess 1.1 sessions are stored as before; a tenant or an absolute lifetime is refused (IDSESS_VERSION)');

	console.log(`e2e: all ${n} passed`);
} finally {
	clearTimeout(deadline);
	op.close();
	rp.close();
	await pool.end();
	await admin.end();
}
