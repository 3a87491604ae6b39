// Types of idsess-oidc-provider-adapter (index.js).  They use the types of
// pg (@types/pg) and of oidc-provider (@types/oidc-provider).

import type { Pool } from 'pg';
import type Provider from 'oidc-provider';
import type {
	Adapter, AdapterConstructor, AdapterFactory, AdapterPayload, KoaContextWithOIDC,
} from 'oidc-provider';

/** A session save idsess refused because the session's key was revoked (SQLSTATE ISRVK). */
export interface RevokedSave {
	/** The session's uid (what idsess stores as session_id); never its key. */
	uid: string;
	/** The signed-in subject, or null before sign-in. */
	accountId: string | null;
}

/**
 * Told of each save refused as revoked, with the request being served
 * (undefined outside one).  The default writes a process warning
 * (code IDSESS_REVOKED_SAVE).
 */
export type RevokedSaveListener = (save: RevokedSave, ctx: KoaContextWithOIDC | undefined) => void;

/** What a request tells of the client, as far as idsess.record_client keeps it (idsess 1.2). */
export interface ClientDetails {
	/** The client's IP address (idsess keeps its prefix only). */
	ip?: string | null;
	/** The User-Agent header (idsess keeps at most 512 characters). */
	userAgent?: string | null;
	/** A device label of the identity server's choosing (at most 200 characters). */
	device?: string | null;
}

/** The default `client` option: ctx.ip and the User-Agent header, no device label. */
export function requestClient(ctx: KoaContextWithOIDC): ClientDetails;

export interface IdsessSessionAdapterOptions {
	/** The schema of the idsess extension (default "public"). */
	schema?: string;
	/** Stored with each session; idsess returns it with revoked and expired sessions. */
	issuer?: string | null;
	onRevokedSave?: RevokedSaveListener;
	/**
	 * The tenant of new sessions (idsess 1.2): a name, or a function of the
	 * request being served (undefined outside one).  Null: the default tenant.
	 */
	tenant?: string | null | ((ctx: KoaContextWithOIDC | undefined) => string | null | undefined);
	/** The absolute lifetime of new sessions in seconds (idsess 1.2); 0: none; null: the server's idsess.max_lifetime. */
	maxLifetime?: number | null;
	/** The client's details of the request that saves a session (default requestClient); null: none. */
	client?: ((ctx: KoaContextWithOIDC) => ClientDetails | null | undefined) | null;
}

export interface IdsessAdapterOptions extends IdsessSessionAdapterOptions {
	/**
	 * The adapter for every model but Session, as the provider takes one: a
	 * class (constructed with the model name) or a factory (called with it).
	 */
	others: AdapterConstructor | AdapterFactory;
}

/** node-oidc-provider's Session model stored in idsess. */
export class IdsessSessionAdapter implements Adapter {
	constructor(pool: Pool, options?: IdsessSessionAdapterOptions);
	find(id: string): Promise<AdapterPayload | undefined>;
	findByUid(uid: string): Promise<AdapterPayload | undefined>;
	/** Not a Session operation: rejects. */
	findByUserCode(userCode: string): Promise<undefined>;
	upsert(id: string, payload: AdapterPayload, expiresIn?: number): Promise<void>;
	destroy(id: string): Promise<void>;
	/** Not a Session operation: rejects. */
	consume(id: string): Promise<void>;
	revokeByGrantId(grantId: string): Promise<void>;
}

/** The provider's `adapter` option: Session in idsess, the other models in `others`. */
export function idsessAdapter(pool: Pool, options: IdsessAdapterOptions): AdapterFactory;

/** A row of idsess_revoke or idsess_take_logouts, as far as logouts need it. */
export interface LogoutRow {
	subject_id: string | null;
	clients: string[] | null;
	client_sids?: (string | null)[] | null;
	[column: string]: unknown;
}

export interface LogoutFailure {
	client: string;
	error: unknown;
}

/** Sends the back-channel logouts the rows owe; resolves to the deliveries that failed. */
export function sendLogouts(provider: Provider, rows: LogoutRow[]): Promise<LogoutFailure[]>;

export interface DrainLogoutsOptions {
	/** Most rows taken in one round (default 100). */
	count?: number;
	/** The schema of the idsess extension (default "public"). */
	schema?: string;
}

/**
 * One round of draining idsess's logout outbox: commits only when every
 * logout was delivered, else the rows stay for the next round.
 */
export function drainLogouts(
	pool: Pool,
	provider: Provider,
	options?: DrainLogoutsOptions,
): Promise<{ sessions: LogoutRow[]; failures: LogoutFailure[] }>;

/** A row of idsess_my_sessions: one of the account's live sessions, without its key. */
export interface MySession {
	session_id: string;
	/** Whether it is the session of the id given as current. */
	current: boolean;
	device: string | null;
	/** The client's network as recorded, e.g. "203.0.113.0/24". */
	client_ip: string | null;
	user_agent: string | null;
	created: Date;
	last_seen: Date | null;
	/** Null: never expires. */
	expires: Date | null;
	clients: string[];
	acr: string | null;
	amr: string[] | null;
	auth_time: Date | null;
}

/** The account's live sessions for a "your active sessions" page, the current one first (idsess 1.2). */
export function mySessions(
	pool: Pool,
	accountId: string,
	currentId?: string | null,
	options?: { schema?: string },
): Promise<MySession[]>;

/**
 * Revokes every session of the account but currentId's (in tenant when
 * given), audited; resolves to idsess_revoke's rows, for sendLogouts (idsess 1.2).
 */
export function signOutOtherSessions(
	pool: Pool,
	accountId: string,
	currentId: string,
	options?: { schema?: string; tenant?: string | null; reason?: string | null },
): Promise<LogoutRow[]>;

/**
 * Records activity on a live session without saving it, with the client's
 * details of ctx (default: the request being served); false when no live
 * session has the id (idsess 1.2).
 */
export function touchSession(
	pool: Pool,
	id: string,
	options?: {
		schema?: string;
		ctx?: KoaContextWithOIDC;
		client?: ((ctx: KoaContextWithOIDC) => ClientDetails | null | undefined) | null;
	},
): Promise<boolean>;
