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

export interface IdsessSessionAdapterOptions {
	/** The schema of the idsess extension (default "public"). */
	schema?: string;
	/** Stored with each session; idsess returns it with revoked and expired sessions. */
	issuer?: string | null;
	onRevokedSave?: RevokedSaveListener;
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
