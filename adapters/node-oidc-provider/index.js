// idsess-oidc-provider-adapter: stores node-oidc-provider's Session model in
// idsess (PostgreSQL), through the node-postgres (pg) driver.
//
// A Session maps onto one idsess session:
//   key          = the session's id (jti, the value of the _session cookie)
//   session_id   = the session's uid (stable across the provider's key
//                  changes; findByUid looks it up)
//   subject_id   = accountId
//   clients      = the clients in payload.authorizations
//   ticket       = the whole payload as JSON, sealed by idsess
//   expires      = now + expiresIn
//
// Other models (codes, tokens, grants, interactions) are not sessions: give
// them another adapter (`others`), see README.md.

const SESSION = 'Session';

function expiresAt(expiresIn) {
	return typeof expiresIn === 'number' ? new Date(Date.now() + expiresIn * 1000) : null;
}

export class IdsessSessionAdapter {
	constructor(pool, { schema = 'public' } = {}) {
		this.pool = pool;
		this.schema = schema;
	}

	fn(name) {
		return `"${this.schema.replace(/"/g, '""')}".${name}`;
	}

	async find(id) {
		const { rows } = await this.pool.query(`SELECT ticket FROM ${this.fn('idsess_get')}($1)`, [id]);
		return rows.length ? JSON.parse(rows[0].ticket) : undefined;
	}

	async findByUid(uid) {
		const { rows } = await this.pool.query(
			`SELECT ticket FROM ${this.fn('idsess_get_sessions')}(session_id => $1)`,
			[uid],
		);
		return rows.length ? JSON.parse(rows[0].ticket) : undefined;
	}

	async upsert(id, payload, expiresIn) {
		const ticket = JSON.stringify(payload);
		const expires = expiresAt(expiresIn);
		const clients = Object.keys(payload.authorizations ?? {});
		const client = await this.pool.connect();
		try {
			await client.query('BEGIN');
			const { rows } = await client.query(
				`SELECT ${this.fn('idsess_update')}($1, ticket => $2, expires => $3) AS updated`,
				[id, ticket, expires],
			);
			let have = [];
			if (rows[0].updated) {
				have = (await client.query(`SELECT ${this.fn('idsess_clients')}($1) AS c`, [id])).rows[0].c ?? [];
			} else {
				await client.query(
					`SELECT key FROM ${this.fn('idsess_create')}(subject_id => $1, ticket => $2, key => $3,
						session_id => $4, expires => $5)`,
					[payload.accountId ?? null, ticket, id, payload.uid, expires],
				);
			}
			for (const c of clients) {
				if (!have.includes(c)) {
					await client.query(`SELECT ${this.fn('idsess_add_client')}($1, $2)`, [id, c]);
				}
			}
			await client.query('COMMIT');
		} catch (err) {
			await client.query('ROLLBACK').catch(() => {});
			if (err.code === 'ISRVK') {
				return;
			}
			throw err;
		} finally {
			client.release();
		}
	}

	async destroy(id) {
		await this.pool.query(`SELECT ${this.fn('idsess_delete')}($1)`, [id]);
	}

	async consume() {
		throw new Error('idsess stores Session only; consume() is for other models');
	}

	async revokeByGrantId() {}
}

// idsessAdapter(pool, { others }): the provider's `adapter` option.  Session
// goes to idsess; every other model to `others` (a class or factory taking
// the model name, like any oidc-provider adapter).
export function idsessAdapter(pool, { others, schema } = {}) {
	if (!others) {
		throw new TypeError('idsessAdapter: give an adapter for the models other than Session (options.others)');
	}
	return (name) => {
		if (name === SESSION) {
			return new IdsessSessionAdapter(pool, { schema });
		}
		return typeof others === 'function' && /^class\s/.test(Function.prototype.toString.call(others))
			? new others(name) : others(name);
	};
}

// sendLogouts(provider, rows): sends the back-channel logouts idsess says are
// owed: the rows of idsess_revoke (an admin revocation) or idsess_take_logouts
// (sessions the worker expired), one logout token per client that has a
// back-channel logout URI.  Resolves to the failures ({ client, error }).
export async function sendLogouts(provider, rows) {
	const failures = [];
	await Promise.all(rows.flatMap((row) => (row.clients ?? []).map(async (clientId) => {
		const client = await provider.Client.find(clientId);
		if (!client?.backchannelLogoutUri) {
			return;
		}
		try {
			await client.backchannelLogout(row.subject_id, undefined);
		} catch (error) {
			failures.push({ client: clientId, error });
		}
	})));
	return failures;
}
