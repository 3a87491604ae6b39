// idsess-oidc-provider-adapter: stores node-oidc-provider's Session model in
// idsess (PostgreSQL), through the node-postgres (pg) driver.  Needs idsess
// 1.1; with 1.2 it also records the tenant, an absolute lifetime, the
// strength of the sign-in and the client's details, and offers "my
// sessions".  Every adapter call is one statement, so one round trip (the
// first save also asks once for the extension's version).
//
// A Session maps onto one idsess session:
//   key          = the session's id (jti, the value of the _session cookie)
//   session_id   = the session's uid (stable across the provider's key
//                  changes; findByUid looks it up)
//   subject_id   = accountId (none before sign-in)
//   clients      = the clients in payload.authorizations, client_sids
//                  their own sids (what back-channel logout tokens carry)
//   ticket       = the whole payload as JSON, sealed by idsess
//   expires      = now + expiresIn
//   acr, amr, auth_time = the session's acr, amr and loginTs (idsess 1.2)
//   client_ip, user_agent, device = from the request (options.client)
//   tenant, max_lifetime = options.tenant, options.maxLifetime
//
// Other models (codes, tokens, grants, interactions) are not sessions: give
// them another adapter (`others`), see README.md.  index.d.ts types every
// export.
//
// Statements are named (node-postgres prepares each once per connection),
// so the server neither parses nor plans them again on every call.

import { createHash } from 'node:crypto';
import { types } from 'node:util';

import Provider from 'oidc-provider';

const SESSION = 'Session';
const REVOKED = 'ISRVK';
const UNIQUE_VIOLATION = '23505';
const VERSION = `SELECT extversion FROM pg_catalog.pg_extension WHERE extname = 'idsess'`;

function quoted(schema) {
	return `"${schema.replace(/"/g, '""')}"`;
}

function versionError(what) {
	return Object.assign(
		new Error(`idsess: ${what} needs idsess 1.2; this database has an older version (run ALTER EXTENSION idsess UPDATE, then restart the server)`),
		{ code: 'IDSESS_VERSION' },
	);
}

// What a request tells of the client: the address Koa gives (ctx.ip: the
// socket's peer, or X-Forwarded-For's first hop when the app trusts its
// proxy, app.proxy) and the User-Agent header.  No device label: that is
// the identity server's to choose (options.client).
export function requestClient(ctx) {
	return { ip: ctx.ip || null, userAgent: ctx.get('user-agent') || null };
}

// An IPv4 client of a dual-stack socket comes as ::ffff:a.b.c.d; idsess
// would cut that to an IPv6 prefix.
function plainIp(ip) {
	if (!ip) return null;
	const m = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
	return m ? m[1] : ip;
}

function expiresAt(expiresIn) {
	return typeof expiresIn === 'number' ? new Date(Date.now() + expiresIn * 1000) : null;
}

// The context of the request the provider is serving (Provider.ctx, the
// provider's documented accessor), or undefined outside a request.
function currentRequest() {
	return Provider.ctx;
}

function currentSession() {
	return currentRequest()?.oidc?.session;
}

function checkOptions({ tenant, maxLifetime, client }) {
	if (tenant != null && typeof tenant !== 'string' && typeof tenant !== 'function') {
		throw new TypeError('idsess: options.tenant must be a string or a function of the request context');
	}
	if (maxLifetime != null && !(Number.isFinite(maxLifetime) && maxLifetime >= 0)) {
		throw new TypeError('idsess: options.maxLifetime must be a number of seconds (0: none)');
	}
	if (client != null && typeof client !== 'function') {
		throw new TypeError('idsess: options.client must be a function of the request context, or null');
	}
}

// The provider's own test for an adapter it is given: what has a prototype
// object is constructed with `new`, anything else is called as a factory
// (oidc-provider's lib/helpers/type_validators.js).
function isConstructable(fn) {
	return fn instanceof Function && fn.prototype !== null && typeof fn.prototype === 'object'
		&& fn.constructor instanceof Function && fn.constructor.name !== undefined;
}

// What happens when idsess refuses a save because the session key was
// revoked, unless the caller gives onRevokedSave: a process warning (a log
// line on stderr by default).  It names the session's uid and subject,
// never its key (the cookie's value).
function warnRevokedSave({ uid, accountId }) {
	process.emitWarning(
		`idsess refused to save session ${uid}${accountId ? ` of ${accountId}` : ''}: its key was revoked (SQLSTATE ISRVK); the session stays ended`,
		{ code: 'IDSESS_REVOKED_SAVE' },
	);
}

// A named statement: node-postgres prepares it on a connection's first use
// and then only binds and executes it (still one round trip).  The name is
// derived from the text, so adapters for different schemas never share one.
function statement(text) {
	return { name: `idsess_${createHash('sha256').update(text).digest('base64url').slice(0, 20)}`, text };
}

export class IdsessSessionAdapter {
	constructor(pool, {
		schema = 'public', issuer = null, onRevokedSave = warnRevokedSave,
		tenant = null, maxLifetime = null, client = requestClient,
	} = {}) {
		checkOptions({ tenant, maxLifetime, client });
		this.pool = pool;
		this.schema = quoted(schema);
		this.issuer = issuer;
		this.onRevokedSave = onRevokedSave;
		this.tenant = tenant;
		this.maxLifetime = maxLifetime;
		this.client = client;
		// A promise of whether the database's idsess is 1.2 or later.
		this.v12 = null;
		// Sessions whose key change (oldId -> id) has been saved: the
		// provider keeps oldId on the Session after the save.
		this.rekeyed = new WeakMap();
		// Per request being served: uid -> the ticket findByUid read (null:
		// none), until the request saves or deletes a session.
		this.seen = new WeakMap();
		this.sql = {
			find: statement(`SELECT ticket FROM ${this.schema}.idsess_get($1)`),
			findByUid: statement(`SELECT ticket FROM ${this.schema}.idsess_get_sessions(session_id => $1)`),
			upsert: statement(`SELECT ${this.schema}.idsess_update($1, ticket => $2, expires => $3, subject_id => $4,
				session_id => $5, issuer => $6, new_key => $7, upsert => true,
				clients => $8, client_sids => $9)`),
			destroy: statement(`SELECT ${this.schema}.idsess_delete($1)`),
		};
		this.sql.upsert12 = statement(`${this.sql.upsert.text.slice(0, -1)},
				max_lifetime => pg_catalog.make_interval(secs => $10), acr => $11, amr => $12, auth_time => $13,
				client_ip => $14, user_agent => $15, device => $16, tenant => $17)`);
	}

	// Asked once per adapter (again after a failure).  A database still at
	// 1.1 gets the 1.1 statement until the server restarts after ALTER
	// EXTENSION idsess UPDATE.
	is12() {
		this.v12 ??= this.pool.query(VERSION).then(({ rows }) => {
			const [major, minor] = String(rows[0]?.extversion ?? '0.0').split('.').map(Number);
			return major > 1 || (major === 1 && minor >= 2);
		}, (err) => {
			this.v12 = null;
			throw err;
		});
		return this.v12;
	}

	// The idsess 1.2 arguments of a save: max_lifetime, acr, amr, auth_time,
	// client_ip, user_agent, device, tenant; null when the database is 1.1
	// (then a tenant or an absolute lifetime is refused, not dropped).
	async details(payload, request, tenant) {
		if (!await this.is12()) {
			if (tenant !== null) throw versionError('a tenant (options.tenant)');
			if (this.maxLifetime !== null) throw versionError('an absolute lifetime (options.maxLifetime)');
			return null;
		}
		const client = (request && this.client ? this.client(request) : null) ?? {};
		return [
			this.maxLifetime,
			payload.acr ?? null,
			Array.isArray(payload.amr) && payload.amr.length ? payload.amr : null,
			typeof payload.loginTs === 'number' ? new Date(payload.loginTs * 1000) : null,
			plainIp(client.ip),
			client.userAgent || null,
			client.device || null,
			tenant,
		];
	}

	async find(id) {
		const { rows } = await this.pool.query({ ...this.sql.find, values: [id] });
		return rows.length ? JSON.parse(rows[0].ticket) : undefined;
	}

	// The provider looks a session up by uid several times while serving one
	// request (devInteractions' confirm step: interactionDetails, then
	// interactionFinished).  Within a request the first answer stands, as if
	// the later lookups had run at the same moment; a save or delete in the
	// request drops it.  Outside a request (no provider context) every call
	// reads idsess.
	async findByUid(uid) {
		const request = currentRequest();
		const seen = request && this.seen.get(request);
		let ticket = seen?.get(uid);
		if (ticket === undefined) {
			const { rows } = await this.pool.query({ ...this.sql.findByUid, values: [uid] });
			ticket = rows.length ? rows[0].ticket : null;
			if (request) {
				if (!this.seen.has(request)) this.seen.set(request, new Map());
				this.seen.get(request).set(uid, ticket);
			}
		}
		return ticket === null ? undefined : JSON.parse(ticket);
	}

	forgetSeen() {
		const request = currentRequest();
		if (request) this.seen.delete(request);
	}

	// After a sign-in or consent step the provider gives the session a new
	// id (against session fixation): Session.save calls destroy(oldId), then
	// upsert(newId).  That pair becomes one atomic rekey in upsert, so the
	// session keeps its row, created time and clients, and a revoked old key
	// stays revoked.  rekeyFrom(id) is the old id when this upsert is one.
	rekeyFrom(id) {
		const s = currentSession();
		if (s && s.id === id && s.oldId && s.oldId !== id && this.rekeyed.get(s) !== s.oldId) {
			return { session: s, oldId: s.oldId };
		}
		return null;
	}

	// Creates or updates the session, changes its key, sets its clients with
	// their sids: one statement.  A revoked key (SQLSTATE ISRVK) is not saved
	// and not recreated: the session stays ended, and the user's next
	// request finds no session and must sign in again.  The refusal is
	// reported to onRevokedSave (by default a process warning).
	async upsert(id, payload, expiresIn) {
		const clients = Object.keys(payload.authorizations ?? {});
		const sids = clients.map((c) => payload.authorizations[c].sid ?? null);
		const rekey = this.rekeyFrom(id);
		const request = currentRequest();
		const tenant = (typeof this.tenant === 'function' ? this.tenant(request) : this.tenant) ?? null;
		const details = await this.details(payload, request, tenant);
		const save = () => this.pool.query({
			...(details ? this.sql.upsert12 : this.sql.upsert),
			values: [rekey ? rekey.oldId : id, JSON.stringify(payload), expiresAt(expiresIn),
				payload.accountId ?? null, payload.uid, this.issuer, rekey ? id : null, clients, sids,
				...(details ?? [])],
		});
		try {
			try {
				await save();
			} catch (err) {
				// Two requests creating the same session at once: one creates
				// it, the other gets unique_violation and, saved again, updates.
				if (err.code !== UNIQUE_VIOLATION) {
					throw err;
				}
				await save();
			}
		} catch (err) {
			if (err.code !== REVOKED) {
				throw err;
			}
			this.onRevokedSave({ uid: payload.uid, accountId: payload.accountId ?? null }, currentRequest());
		} finally {
			this.forgetSeen();
		}
		if (rekey) {
			this.rekeyed.set(rekey.session, rekey.oldId);
		}
	}

	async destroy(id) {
		const s = currentSession();
		if (s && s.oldId === id && s.id !== id && !s.destroyed && this.rekeyed.get(s) !== id) {
			// Session.save: the upsert that follows changes the key.
			return;
		}
		try {
			await this.pool.query({ ...this.sql.destroy, values: [id] });
		} finally {
			this.forgetSeen();
		}
	}

	async consume() {
		throw new Error('idsess stores Session only; consume() is for other models');
	}

	async findByUserCode() {
		throw new Error('idsess stores Session only; findByUserCode() is for other models');
	}

	async revokeByGrantId() {}
}

// idsessAdapter(pool, { others, issuer, schema, onRevokedSave, tenant,
// maxLifetime, client }): the provider's `adapter` option.  Session goes
// to idsess; every other model to `others`, an adapter as the provider
// takes one: a class (constructed with the model name) or a factory
// function (called with it).  issuer is stored with each session (idsess
// returns it with revoked and expired sessions); schema is the extension's
// schema (default public); onRevokedSave(info, ctx) is told of each save
// refused as revoked.  idsess 1.2: tenant (a string, or a function of the
// request's ctx) and maxLifetime (seconds) go to new sessions; client(ctx)
// gives { ip, userAgent, device } (default requestClient; null: none).
export function idsessAdapter(pool, {
	others, schema, issuer, onRevokedSave, tenant, maxLifetime, client,
} = {}) {
	const constructable = isConstructable(others);
	if (!constructable && (typeof others !== 'function' || types.isAsyncFunction(others))) {
		throw new TypeError('idsessAdapter: give an adapter for the models other than Session (options.others: a class or a factory function)');
	}
	if (onRevokedSave !== undefined && typeof onRevokedSave !== 'function') {
		throw new TypeError('idsessAdapter: options.onRevokedSave must be a function');
	}
	checkOptions({ tenant, maxLifetime, client });
	return (name) => {
		if (name === SESSION) {
			return new IdsessSessionAdapter(pool, {
				schema, issuer, onRevokedSave, tenant, maxLifetime, client,
			});
		}
		return constructable ? new others(name) : others(name);
	};
}

// sendLogouts(provider, rows): sends the back-channel logouts idsess says are
// owed: the rows of idsess_revoke (an admin revocation) or idsess_take_logouts
// (sessions the worker expired), one logout token per client that has a
// back-channel logout URI, with the client's own sid (client_sids is
// parallel to clients).  Rows without a subject (a session nobody signed in
// to) owe nothing.  Resolves to the failures ({ client, error }).
export async function sendLogouts(provider, rows) {
	const failures = [];
	await Promise.all(rows.filter((row) => row.subject_id).flatMap((row) => (row.clients ?? []).map(async (clientId, i) => {
		const client = await provider.Client.find(clientId);
		if (!client?.backchannelLogoutUri) {
			return;
		}
		try {
			await client.backchannelLogout(row.subject_id, row.client_sids?.[i] ?? undefined);
		} catch (error) {
			failures.push({ client: clientId, error });
		}
	})));
	return failures;
}

// drainLogouts(pool, provider, { count, schema }): one round of the loop that
// sends the back-channel logouts owed for sessions the idsess worker expired
// (with idsess.expired_sessions_trigger_logout = on).  Takes up to count
// rows from the outbox in a transaction and commits only when every logout
// was delivered: otherwise the rows go back to the outbox for the next round
// (delivery is at least once; relying parties ignore a repeated logout).
// Several nodes may run it at once: they never get the same rows.  Resolves
// to { sessions, failures }.
export async function drainLogouts(pool, provider, { count = 100, schema = 'public' } = {}) {
	const client = await pool.connect();
	try {
		await client.query('BEGIN');
		const { rows } = await client.query(
			`SELECT * FROM ${quoted(schema)}.idsess_take_logouts($1)`,
			[count],
		);
		const failures = await sendLogouts(provider, rows);
		await client.query(failures.length ? 'ROLLBACK' : 'COMMIT');
		return { sessions: rows, failures };
	} catch (err) {
		await client.query('ROLLBACK').catch(() => {});
		throw err;
	} finally {
		client.release();
	}
}

// mySessions(pool, accountId, currentId, { schema }): a "your active
// sessions" page (idsess 1.2): the account's live sessions, without their
// keys: { session_id, current, device, client_ip, user_agent, created,
// last_seen, expires, clients, acr, amr, auth_time }, the one whose id
// (the _session cookie's value, Session#id) is currentId first.
export async function mySessions(pool, accountId, currentId, { schema = 'public' } = {}) {
	const { rows } = await pool.query(
		`SELECT * FROM ${quoted(schema)}.idsess_my_sessions(subject_id => $1, current_key => $2)`,
		[accountId, currentId ?? null],
	);
	return rows;
}

// signOutOtherSessions(pool, accountId, currentId, { schema, tenant,
// reason }): "sign out all other sessions" (idsess 1.2): revokes every
// session of the account but currentId's (in tenant, when given: give the
// server's tenant when it has several), audited with the reason (default
// "all other sessions").  Resolves to idsess_revoke's rows: pass them to
// sendLogouts for the back-channel logouts.
export async function signOutOtherSessions(pool, accountId, currentId, { schema = 'public', tenant = null, reason = null } = {}) {
	const { rows } = await pool.query(
		`SELECT * FROM ${quoted(schema)}.idsess_revoke(subject_id => $1, except_key => $2, reason => $3, tenant => $4)`,
		[accountId, currentId, reason, tenant],
	);
	return rows;
}

// touchSession(pool, id, { schema, ctx, client }): records activity on a
// live session without saving it (for idsess's inactivity timeout), with
// the client's details from ctx (default: the request being served) as far
// as idsess.record_client allows (idsess 1.2).  Resolves to false when no
// live session has the id.
export async function touchSession(pool, id, { schema = 'public', ctx = currentRequest(), client = requestClient } = {}) {
	const c = (ctx && client ? client(ctx) : null) ?? {};
	const { rows } = await pool.query(
		`SELECT ${quoted(schema)}.idsess_touch($1, client_ip => $2, user_agent => $3, device => $4) AS touched`,
		[id, plainIp(c.ip), c.userAgent || null, c.device || null],
	);
	return rows[0].touched;
}
