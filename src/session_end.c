/*-------------------------------------------------------------------------
 *
 * session_end.c
 *		How a session ends, in one place: its clients and SAML sessions are
 *		deleted, a back-channel logout is queued when it had clients and the
 *		caller does not deliver them itself, a revoked key leaves a
 *		tombstone, and the ending is counted by cause.
 *
 * A revoked key stays revoked against late writes: an identity server that
 * loaded the session before the revocation must not save it back.  Each
 * revoked key leaves a tombstone in idsess.revoked_keys (the SHA-256 of the
 * key, never the key) until the session would have ended by itself (its
 * expiry, else its inactivity deadline; never, when it had neither).
 * idsess_update and idsess_create on a tombstoned key fail with
 * IDSESS_ERRCODE_REVOKED.  Tombstones past that time are purged by
 * idsess_purge_revoked_keys, by each revocation and by the worker.  A 1.0
 * schema has no tombstones (version.c says which schema this is).
 *
 *-------------------------------------------------------------------------
 */
#include "idsess.h"
#include "session_end.h"
#include "arrays.h"
#include "scan.h"
#include "spi.h"
#include "stats.h"

#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "common/cryptohash.h"
#include "common/sha2.h"
#include "executor/tuptable.h"
#include "mb/pg_wchar.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/snapmgr.h"

/* The key's hash as the tombstones store it. */
#define KEY_HASH(arg) "pg_catalog.sha256(pg_catalog.convert_to(" arg ", 'UTF8'))"

/*
 * [0]: a 1.0 schema; [1]: 1.1, which also returns each client's own sid
 * (parallel to the clients) and writes the issuer and the sids to the
 * outbox; [2]: 1.2, which also writes the tenant ($8) there.
 */
#define DELETE_CHILDREN(client_sid, sids_agg, outbox_cols, outbox_vals, tenant_in, tenant_as, tenant_r) \
	"WITH u AS (SELECT * FROM ROWS FROM (pg_catalog.unnest($1::pg_catalog.int8[]), " \
	"pg_catalog.unnest($2::pg_catalog.text[]), pg_catalog.unnest($3::pg_catalog.text[]), " \
	"pg_catalog.unnest($4::pg_catalog.text[]), pg_catalog.unnest($7::pg_catalog.text[])" tenant_in ") " \
	"WITH ORDINALITY AS u(id, cause, subject_id, session_id, issuer" tenant_as ", ord)), " \
	"c AS (DELETE FROM idsess.session_clients WHERE session = ANY ($1) " \
	"RETURNING session, client_id, " client_sid " AS client_sid, added), " \
	"m AS (DELETE FROM idsess.session_saml WHERE session = ANY ($1) " \
	"RETURNING session, entity_id, session_index, name_id, name_id_format, added), " \
	"ca AS (SELECT session, pg_catalog.array_agg(client_id ORDER BY added, client_id) AS clients, " \
	sids_agg " AS sids " \
	"FROM c WHERE $5::pg_catalog.text[] IS NULL OR client_id = ANY ($5) GROUP BY session), " \
	"ma AS (SELECT session, pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(" \
	"'entity_id', entity_id, 'session_index', session_index, 'name_id', name_id, " \
	"'name_id_format', name_id_format) ORDER BY added, entity_id, session_index) AS saml " \
	"FROM m WHERE $5::pg_catalog.text[] IS NULL OR entity_id = ANY ($5) GROUP BY session), " \
	"r AS (SELECT u.ord, u.cause, u.subject_id, u.session_id, u.issuer" tenant_r ", " \
	"COALESCE(ca.clients, '{}') AS clients, COALESCE(ca.sids, '{}') AS sids, " \
	"COALESCE(ma.saml, '[]'::pg_catalog.jsonb) AS saml " \
	"FROM u LEFT JOIN ca ON ca.session = u.id LEFT JOIN ma ON ma.session = u.id), " \
	"o AS (INSERT INTO idsess.logout_outbox (cause, subject_id, session_id, clients, saml_sessions" \
	outbox_cols ") SELECT cause, subject_id, session_id, clients, saml" outbox_vals \
	" FROM r WHERE $6 RETURNING 1) " \
	"SELECT clients, saml, sids FROM r ORDER BY ord"
#define SIDS_AGG "pg_catalog.array_agg(client_sid ORDER BY added, client_id)"
static IdsessQuery q_delete_children[3] = {
	{.sql = DELETE_CHILDREN("NULL::pg_catalog.text", "NULL::pg_catalog.text[]", "", "", "", "", ""),
	.nargs = 7, .argtypes = {INT8ARRAYOID, TEXTARRAYOID, TEXTARRAYOID, TEXTARRAYOID,
	TEXTARRAYOID, BOOLOID, TEXTARRAYOID}},
	{.sql = DELETE_CHILDREN("client_sid", SIDS_AGG, ", issuer, client_sids", ", issuer, sids",
							"", "", ""),
	.nargs = 7, .argtypes = {INT8ARRAYOID, TEXTARRAYOID, TEXTARRAYOID, TEXTARRAYOID,
	TEXTARRAYOID, BOOLOID, TEXTARRAYOID}},
	{.sql = DELETE_CHILDREN("client_sid", SIDS_AGG, ", issuer, client_sids, tenant",
							", issuer, sids, tenant", ", pg_catalog.unnest($8::pg_catalog.text[])",
							", tenant", ", u.tenant"),
	.nargs = 8, .argtypes = {INT8ARRAYOID, TEXTARRAYOID, TEXTARRAYOID, TEXTARRAYOID,
	TEXTARRAYOID, BOOLOID, TEXTARRAYOID, TEXTARRAYOID}}
};

/* [0]: 1.1; [1]: 1.2, whose tombstones name the session's tenant ($3). */
#define BURY(tenant_col, tenant_in, tenant_as, tenant_set) \
	"INSERT INTO idsess.revoked_keys (key_hash, until" tenant_col ") " \
	"SELECT " KEY_HASH("k") ", u" tenant_col " FROM ROWS FROM (pg_catalog.unnest($1::pg_catalog.text[]), " \
	"pg_catalog.unnest($2::pg_catalog.timestamptz[])" tenant_in ") AS t(k, u" tenant_as ") " \
	"ON CONFLICT (key_hash) DO UPDATE SET revoked = EXCLUDED.revoked, until = EXCLUDED.until" tenant_set
static IdsessQuery q_bury[2] = {
	{.sql = BURY("", "", "", ""), .nargs = 2, .argtypes = {TEXTARRAYOID, TIMESTAMPTZARRAYOID}},
	{.sql = BURY(", tenant", ", pg_catalog.unnest($3::pg_catalog.text[])", ", tenant",
				 ", tenant = EXCLUDED.tenant"),
	.nargs = 3, .argtypes = {TEXTARRAYOID, TIMESTAMPTZARRAYOID, TEXTARRAYOID}}
};

static IdsessQuery q_purge = {
	.sql = "DELETE FROM idsess.revoked_keys WHERE key_hash = ANY (ARRAY("
	"SELECT key_hash FROM idsess.revoked_keys WHERE until <= pg_catalog.now() "
	"ORDER BY until LIMIT $1))",
	.nargs = 1, .argtypes = {INT4OID}
};

/* The sessions' tenants as a text[] (all NULL when the caller gave none). */
static Datum
tenant_array(const IdsessEnding *e)
{
	bool	   *nulls;

	if (e->tenants)
		return idsess_text_array_nulls(e->tenants, e->tenant_nulls, e->n);
	nulls = palloc(sizeof(bool) * e->n);
	memset(nulls, true, sizeof(bool) * e->n);
	return idsess_text_array_nulls(palloc0(sizeof(Datum) * e->n), nulls, e->n);
}

/* Tombstones for revoked keys, until their sessions would have ended. */
static void
bury_keys(const IdsessEnding *e)
{
	Datum		args[3];
	int			dims[1] = {e->n};
	int			lbs[1] = {1};

	if (e->schema < IDSESS_API_1_1)
		return;
	args[0] = idsess_text_array(e->keys, e->n);
	args[1] = PointerGetDatum(construct_md_array(e->untils, e->until_nulls, 1, dims, lbs,
												 TIMESTAMPTZOID, sizeof(TimestampTz),
												 FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
	args[2] = tenant_array(e);
	idsess_spi_run(&q_bury[e->schema >= IDSESS_API_1_2], args, NULL, false, 0);
}

/* The event an outbox cause counts as. */
static IdsessEvent
cause_event(Datum cause)
{
	char	   *c = TextDatumGetCString(cause);

	if (strcmp(c, "idle") == 0)
		return IDSESS_EV_IDLE;
	if (strcmp(c, "limit") == 0)
		return IDSESS_EV_LIMITED;
	if (strcmp(c, "max_lifetime") == 0)
		return IDSESS_EV_MAX_LIFETIME;
	return IDSESS_EV_EXPIRED;
}

/*
 * Ends the sessions whose rows the caller's statement deleted (see
 * IdsessEnding).  Their children are deleted and returned as the SPI
 * result, one row per session in the order of e->ids: (clients text[],
 * saml_sessions jsonb, client_sids text[]).  Returns the row count.  The
 * caller is connected to SPI.
 *
 * The children are deleted in a statement of their own, after the
 * sessions, so that it sees children added by transactions that committed
 * while the sessions' delete waited for their row locks.
 */
int
idsess_end_sessions(const IdsessEnding *e)
{
	Datum		args[8];
	char		nulls[8];
	Datum	   *causes = e->causes;
	int			n;
	int			v = e->schema >= IDSESS_API_1_2 ? 2 : e->schema >= IDSESS_API_1_1 ? 1 : 0;

	Assert(e->cause == NULL || e->causes == NULL);
	if (e->n == 0)
		return 0;
	if (e->keys)
		bury_keys(e);
	if (e->cause)
	{
		causes = palloc(sizeof(Datum) * e->n);
		for (int i = 0; i < e->n; i++)
			causes[i] = CStringGetTextDatum(e->cause);
	}
	args[0] = idsess_int8_array(e->ids, e->n);
	args[1] = causes ? idsess_text_array(causes, e->n) : (Datum) 0;
	args[2] = e->subjects ? idsess_text_array_nulls(e->subjects, e->subject_nulls, e->n) : (Datum) 0;
	args[3] = e->sids ? idsess_text_array(e->sids, e->n) : (Datum) 0;
	args[4] = e->client_filter;
	args[5] = BoolGetDatum(e->to_outbox);
	args[6] = e->issuers ? idsess_text_array_nulls(e->issuers, e->issuer_nulls, e->n) : (Datum) 0;
	args[7] = v == 2 ? tenant_array(e) : (Datum) 0;
	for (int i = 0; i < 8; i++)
		nulls[i] = args[i] == (Datum) 0 && i != 5 ? 'n' : ' ';
	n = idsess_spi_run(&q_delete_children[v], args, nulls, false, 0);
	for (int i = 0; i < e->n; i++)
	{
		IdsessEvent ev = e->causes ? cause_event(e->causes[i]) : e->event;

		if (e->causes)
			idsess_count(ev, 1);
		if (e->tenants && !e->tenant_nulls[i])
			idsess_count_tenant(ev, e->tenants[i]);
	}
	if (!e->causes)
		idsess_count(e->event, e->n);
	return n;
}

/* idsess_key_is_revoked's test of a tombstone found for the key. */
static void
tombstone_holds(TupleTableSlot *slot, void *arg)
{
	bool	   *revoked = (bool *) arg;
	bool		isnull;
	Datum		until = slot_getattr(slot, 3, &isnull);

	/* until IS NULL OR until > now() */
	if (isnull || DatumGetTimestampTz(until) > GetCurrentTransactionStartTimestamp())
		*revoked = true;
}

/*
 * Whether `key` was revoked and its tombstone still holds: one probe of the
 * tombstones' primary key, made without SPI (scan.c), since every create and
 * every save that changes a key makes it (through SPI it cost 37,000
 * instructions a call; this saves about 17,000, bench/analysis.md).  It
 * reads with the latest snapshot, not the transaction's: under REPEATABLE
 * READ a revocation that committed after the snapshot (for which a create's
 * insert may have waited) must count.  The hash is q_bury's: SHA-256 of the
 * key in UTF-8.
 */
bool
idsess_key_is_revoked(text *key)
{
	const char *raw = VARDATA_ANY(key);
	int			rawlen = VARSIZE_ANY_EXHDR(key);
	char	   *utf8;
	bytea	   *hash = palloc(VARHDRSZ + PG_SHA256_DIGEST_LENGTH);
	pg_cryptohash_ctx *ctx;
	bool		ok;
	Snapshot	snap;
	bool		revoked = false;

	if (idsess_schema_api() == IDSESS_API_1_0)
		return false;

	utf8 = pg_server_to_any(raw, rawlen, PG_UTF8);
	ctx = pg_cryptohash_create(PG_SHA256);
	ok = ctx != NULL && pg_cryptohash_init(ctx) == 0 &&
		pg_cryptohash_update(ctx, (const uint8 *) utf8,
							 utf8 == raw ? (size_t) rawlen : strlen(utf8)) == 0 &&
		pg_cryptohash_final(ctx, (uint8 *) VARDATA(hash), PG_SHA256_DIGEST_LENGTH) == 0;
	pg_cryptohash_free(ctx);
	if (!ok)
		ereport(ERROR,
				(errcode(ERRCODE_OUT_OF_MEMORY),
				 errmsg("could not hash a session key")));
	SET_VARSIZE(hash, VARHDRSZ + PG_SHA256_DIGEST_LENGTH);

	snap = RegisterSnapshot(GetLatestSnapshot());
	idsess_scan_index(get_namespace_oid("idsess", false), "revoked_keys", "revoked_keys_pkey",
					  F_BYTEAEQ, PointerGetDatum(hash), snap, tombstone_holds, &revoked);
	UnregisterSnapshot(snap);
	return revoked;
}

/*
 * Deletes up to `limit` tombstones past their time; returns how many.  Runs
 * in the caller's transaction (the worker's round or a revocation).
 */
int
idsess_purge_revoked_keys(int limit)
{
	Datum		arg = Int32GetDatum(limit);
	int			n;

	if (idsess_schema_api() == IDSESS_API_1_0)
		return 0;
	idsess_spi_connect();
	n = idsess_spi_run(&q_purge, &arg, NULL, false, 0);
	SPI_finish();
	return n;
}
