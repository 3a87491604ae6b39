// test/types.ts: the package's types as a TypeScript user meets them,
// checked by `tsc --noEmit` (test/run.sh runs it in a fresh project that
// installed the packed tarball).  Lines marked @ts-expect-error must fail
// to type-check: the types refuse what the code refuses.
import pg from 'pg';
import Provider, { type Adapter, type AdapterPayload } from 'oidc-provider';
import {
	drainLogouts, idsessAdapter, IdsessSessionAdapter, mySessions, requestClient, sendLogouts,
	signOutOtherSessions, touchSession,
	type LogoutFailure, type MySession, type RevokedSave,
} from 'idsess-oidc-provider-adapter';

class OtherModels implements Adapter {
	constructor(readonly name: string) {}
	async upsert(_id: string, _payload: AdapterPayload, _expiresIn?: number) {}
	async find(_id: string) { return undefined; }
	async findByUserCode(_userCode: string) { return undefined; }
	async findByUid(_uid: string) { return undefined; }
	async consume(_id: string) {}
	async destroy(_id: string) {}
	async revokeByGrantId(_grantId: string) {}
}

const pool = new pg.Pool({ user: 'oidc' });
const issuer = 'https://id.example.com';
const refused: RevokedSave[] = [];

// The README's use, with a class and with a factory for the other models.
const provider = new Provider(issuer, {
	adapter: idsessAdapter(pool, {
		others: OtherModels,
		issuer,
		onRevokedSave: (save, ctx) => { refused.push(save); void ctx?.oidc; },
	}),
});
idsessAdapter(pool, { others: (name: string) => new OtherModels(name), schema: 'idsess_api' });
// @ts-expect-error others is required
idsessAdapter(pool, {});
// @ts-expect-error onRevokedSave takes the refused save
idsessAdapter(pool, { others: OtherModels, onRevokedSave: (save: number) => save });
// idsess 1.2: a tenant per request, an absolute lifetime, the client's details with a device label.
idsessAdapter(pool, {
	others: OtherModels,
	tenant: (ctx) => ctx?.hostname.split('.')[0],
	maxLifetime: 12 * 3600,
	client: (ctx) => ({ ...requestClient(ctx), device: ctx.get('x-device-label') || null }),
});
idsessAdapter(pool, { others: OtherModels, tenant: 'acme', client: null });
// @ts-expect-error maxLifetime is in seconds
idsessAdapter(pool, { others: OtherModels, maxLifetime: '12h' });

const sessions = new IdsessSessionAdapter(pool, { issuer });
const asAdapter: Adapter = sessions;
void asAdapter;
async function use(): Promise<void> {
	const payload: AdapterPayload | undefined = await sessions.find('key');
	void payload;
	const { rows } = await pool.query('SELECT * FROM public.idsess_revoke(subject_id => $1, reason => $2)', ['sub', 'why']);
	const failed: LogoutFailure[] = await sendLogouts(provider, rows);
	const round = await drainLogouts(pool, provider, { count: 50 });
	void failed; void round.sessions.length;
	// @ts-expect-error count is a number
	await drainLogouts(pool, provider, { count: 'all' });
	const mine: MySession[] = await mySessions(pool, 'sub', 'key');
	const current = mine.find((m) => m.current)?.client_ip;
	void current;
	await sendLogouts(provider, await signOutOtherSessions(pool, 'sub', 'key', { tenant: 'acme', reason: 'user asked' }));
	const touched: boolean = await touchSession(pool, 'key');
	void touched;
}
void use;
