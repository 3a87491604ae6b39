/*-------------------------------------------------------------------------
 *
 * revoke.c
 *		idsess_revoke(): end the sessions of a subject and/or sid and say
 *		who must be sent a back-channel logout.
 *
 * Like Duende's session management RemoveSessions, every matching session is
 * removed; the client ids given only limit which clients (and SAML entities)
 * are returned for notification.  A revocation that removed sessions is
 * announced with NOTIFY idsess_revoked when the transaction commits, with
 * the payload {"audit_id": ...}: any role can LISTEN, so the payload names
 * no subject or sid; roles that may read idsess.audit look them up there.
 *
 * A revoked key stays revoked against late writes: an identity server that
 * loaded the session before the revocation must not save it back.  Each
 * revoked key leaves a tombstone in idsess.revoked_keys (the SHA-256 of the
 * key, never the key) until the session would have ended by itself
 * (its expiry, else its inactivity deadline; never, when it had neither).
 * idsess_update and idsess_create on a tombstoned key fail with
 * IDSESS_ERRCODE_REVOKED.  Tombstones past that time are purged by
 * idsess_purge_revoked_keys, lazily by each revocation.
 *
 * The table is new in 1.1.  This library also serves a 1.0 schema (before
 * ALTER EXTENSION UPDATE), which has no tombstones to check or write: whether
 * the table exists is cached per backend and forgotten on any change to
 * pg_class names (a syscache callback on RELNAMENSP), so the update is seen
 * by the next call without a lookup on every call.  The whole 1.1 schema
 * comes with it in one upgrade transaction, so the other files ask the same
 * question (idsess_schema_1_1) before using any 1.1 column.
 *
 *-------------------------------------------------------------------------
 */
#include "idsess.h"

#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "commands/async.h"
#include "common/cryptohash.h"
#include "common/sha2.h"
#include "executor/tuptable.h"
#include "fmgr.h"
#include "funcapi.h"
#include "mb/pg_wchar.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"

PG_FUNCTION_INFO_V1(idsess_revoke);

#define REVOKE_CHANNEL	"idsess_revoked"

/* Per schema ([0]: 1.0, [1]: 1.1, which also returns the issuer). */
#define REVOKED_COLS(issuer) \
	"RETURNING id, key, subject_id, session_id, " IDSESS_REVOKED_UNTIL ", " issuer
static IdsessQuery q_revoke_by_subject[2] = {
	{.sql = "DELETE FROM idsess.sessions WHERE subject_id = $1 " REVOKED_COLS("NULL::text"),
	.nargs = 1, .argtypes = {TEXTOID}},
	{.sql = "DELETE FROM idsess.sessions WHERE subject_id = $1 " REVOKED_COLS("issuer"),
	.nargs = 1, .argtypes = {TEXTOID}}
};
static IdsessQuery q_revoke_by_sid[2] = {
	{.sql = "DELETE FROM idsess.sessions WHERE session_id = $1 " REVOKED_COLS("NULL::text"),
	.nargs = 1, .argtypes = {TEXTOID}},
	{.sql = "DELETE FROM idsess.sessions WHERE session_id = $1 " REVOKED_COLS("issuer"),
	.nargs = 1, .argtypes = {TEXTOID}}
};
static IdsessQuery q_revoke_by_both[2] = {
	{.sql = "DELETE FROM idsess.sessions WHERE subject_id = $1 AND session_id = $2 "
	REVOKED_COLS("NULL::text"), .nargs = 2, .argtypes = {TEXTOID, TEXTOID}},
	{.sql = "DELETE FROM idsess.sessions WHERE subject_id = $1 AND session_id = $2 "
	REVOKED_COLS("issuer"), .nargs = 2, .argtypes = {TEXTOID, TEXTOID}}
};

/* The key's hash as the tombstones store it. */
#define KEY_HASH(arg) "pg_catalog.sha256(pg_catalog.convert_to(" arg ", 'UTF8'))"

static IdsessQuery q_bury = {
	.sql = "INSERT INTO idsess.revoked_keys (key_hash, until) "
	"SELECT " KEY_HASH("k") ", u FROM ROWS FROM (pg_catalog.unnest($1::pg_catalog.text[]), "
	"pg_catalog.unnest($2::pg_catalog.timestamptz[])) AS t(k, u) "
	"ON CONFLICT (key_hash) DO UPDATE SET revoked = EXCLUDED.revoked, until = EXCLUDED.until",
	.nargs = 2, .argtypes = {TEXTARRAYOID, TIMESTAMPTZARRAYOID}
};
static IdsessQuery q_purge = {
	.sql = "DELETE FROM idsess.revoked_keys WHERE key_hash = ANY (ARRAY("
	"SELECT key_hash FROM idsess.revoked_keys WHERE until <= pg_catalog.now() "
	"ORDER BY until LIMIT $1))",
	.nargs = 1, .argtypes = {INT4OID}
};

typedef enum
{
	TOMBSTONES_UNKNOWN,
	TOMBSTONES_ABSENT,
	TOMBSTONES_PRESENT
} TombstoneState;

static TombstoneState tombstones = TOMBSTONES_UNKNOWN;
static bool tombstone_callback_registered = false;

static void
forget_tombstone_state(Datum arg pg_attribute_unused(), int cacheid pg_attribute_unused(),
					   uint32 hashvalue pg_attribute_unused())
{
	tombstones = TOMBSTONES_UNKNOWN;
}

/* Whether idsess.revoked_keys exists, i.e. the schema is 1.1 (not 1.0). */
bool
idsess_schema_1_1(void)
{
	if (!tombstone_callback_registered)
	{
		CacheRegisterSyscacheCallback(RELNAMENSP, forget_tombstone_state, (Datum) 0);
		tombstone_callback_registered = true;
	}
	if (tombstones == TOMBSTONES_UNKNOWN)
	{
		Oid			nsp = get_namespace_oid("idsess", true);

		tombstones = OidIsValid(nsp) && OidIsValid(get_relname_relid("revoked_keys", nsp)) ?
			TOMBSTONES_PRESENT : TOMBSTONES_ABSENT;
	}
	return tombstones == TOMBSTONES_PRESENT;
}

/*
 * Leaves tombstones for the n revoked keys (text Datums) with the times
 * until which they hold (NULL: for good).  The caller is connected to SPI.
 */
void
idsess_bury_keys(Datum *keys, Datum *untils, bool *until_nulls, int n)
{
	Datum		args[2];
	int			dims[1] = {n};
	int			lbs[1] = {1};

	if (n == 0 || !idsess_schema_1_1())
		return;
	args[0] = idsess_text_array(keys, n);
	args[1] = PointerGetDatum(construct_md_array(untils, until_nulls, 1, dims, lbs,
												 TIMESTAMPTZOID, sizeof(TimestampTz),
												 FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
	idsess_spi_run(&q_bury, args, NULL, false, 0);
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

	if (!idsess_schema_1_1())
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

	if (!idsess_schema_1_1())
		return 0;
	idsess_spi_connect();
	n = idsess_spi_run(&q_purge, &arg, NULL, false, 0);
	SPI_finish();
	return n;
}

/* Checks the client id filter: no NULL or empty element. */
static Datum
client_filter_arg(FunctionCallInfo fcinfo, int argno)
{
	ArrayType  *arr;
	Datum	   *elems;
	bool	   *nulls;
	int			n;

	if (PG_ARGISNULL(argno))
		return (Datum) 0;
	arr = PG_GETARG_ARRAYTYPE_P(argno);
	if (ARR_NDIM(arr) > 1)
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("client_ids must be a one-dimensional array")));
	deconstruct_array(arr, TEXTOID, -1, false, TYPALIGN_INT, &elems, &nulls, &n);
	for (int i = 0; i < n; i++)
	{
		if (nulls[i])
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("client_ids must not contain null")));
		idsess_check_id(DatumGetTextPP(elems[i]), "a client id", IDSESS_MAX_ID_CHARS);
	}
	return PointerGetDatum(arr);
}

static void
notify_revoked(int64 audit_id)
{
	char		payload[64];

	snprintf(payload, sizeof(payload), "{\"audit_id\": " INT64_FORMAT "}", audit_id);
	Async_Notify(REVOKE_CHANNEL, payload);
}

static IdsessQuery q_audit = {
	.sql = "INSERT INTO idsess.audit (action, subject_id, session_id, client_ids, reason, sessions, clients) "
	"VALUES ('revoke', $1, $2, $3, $4, $5, $6) RETURNING id",
	.nargs = 6, .argtypes = {TEXTOID, TEXTOID, TEXTARRAYOID, TEXTOID, INT4OID, INT4OID}
};

/* Records the revocation, also when it matched nothing; returns its id. */
static int64
audit_revoke(text *subject, text *sid, Datum filter, Datum reason, int sessions, int clients)
{
	Datum		args[6];
	char		nulls[6] = {' ', ' ', ' ', ' ', ' ', ' '};
	bool		isnull;

	args[0] = PointerGetDatum(subject);
	args[1] = PointerGetDatum(sid);
	args[2] = filter;
	args[3] = reason;
	args[4] = Int32GetDatum(sessions);
	args[5] = Int32GetDatum(clients);
	nulls[0] = subject ? ' ' : 'n';
	nulls[1] = sid ? ' ' : 'n';
	nulls[2] = filter ? ' ' : 'n';
	nulls[3] = reason ? ' ' : 'n';
	idsess_spi_run(&q_audit, args, nulls, false, 0);
	return DatumGetInt64(idsess_spi_get(0, 1, &isnull));
}

Datum
idsess_revoke(PG_FUNCTION_ARGS)
{
	text	   *subject = idsess_arg_id_opt(fcinfo, 0, "subject_id", IDSESS_MAX_ID_CHARS);
	text	   *sid = idsess_arg_id_opt(fcinfo, 1, "session_id", IDSESS_MAX_ID_CHARS);
	Datum		filter = client_filter_arg(fcinfo, 2);
	Datum		reason = PG_ARGISNULL(3) ? (Datum) 0 : PG_GETARG_DATUM(3);
	ReturnSetInfo *rsinfo;
	SPITupleTable *gone;
	int			nclients = 0;
	int64	   *ids;
	int64		audit_id;
	int			n;
	bool		isnull;
	bool		v11;

	if (reason)
		idsess_check_id(DatumGetTextPP(reason), "reason", IDSESS_MAX_URI_CHARS);
	idsess_require_filter(subject, sid);
	InitMaterializedSRF(fcinfo, 0);
	rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;

	v11 = idsess_schema_1_1();
	idsess_spi_connect();
	n = idsess_run_exact(&q_revoke_by_subject[v11], &q_revoke_by_sid[v11],
						 &q_revoke_by_both[v11], subject, sid, false);
	if (n > 0)
	{
		Datum	   *keys = palloc(sizeof(Datum) * n);
		Datum	   *untils = palloc(sizeof(Datum) * n);
		bool	   *until_nulls = palloc(sizeof(bool) * n);

		gone = SPI_tuptable;
		ids = palloc(sizeof(int64) * n);
		for (int i = 0; i < n; i++)
		{
			ids[i] = DatumGetInt64(SPI_getbinval(gone->vals[i], gone->tupdesc, 1, &isnull));
			keys[i] = SPI_getbinval(gone->vals[i], gone->tupdesc, 2, &isnull);
			untils[i] = SPI_getbinval(gone->vals[i], gone->tupdesc, 5, &until_nulls[i]);
		}
		idsess_bury_keys(keys, untils, until_nulls, n);
		idsess_delete_children(idsess_int8_array(ids, n), (Datum) 0, (Datum) 0,
							   (Datum) 0, (Datum) 0, filter, false);
		for (int i = 0; i < n; i++)
		{
			/* idsess.revoked; 1.1 appends issuer and client_sids */
			Datum		values[7];
			bool		nulls[7];

			for (int c = 0; c < 3; c++)
				values[c] = SPI_getbinval(gone->vals[i], gone->tupdesc, c + 2, &nulls[c]);
			values[3] = idsess_spi_get(i, 1, &nulls[3]);
			values[4] = idsess_spi_get(i, 2, &nulls[4]);
			values[5] = SPI_getbinval(gone->vals[i], gone->tupdesc, 6, &nulls[5]);
			values[6] = idsess_spi_get(i, 3, &nulls[6]);
			nclients += ArrayGetNItems(ARR_NDIM(DatumGetArrayTypeP(values[3])),
									   ARR_DIMS(DatumGetArrayTypeP(values[3])));
			tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
		}
	}
	audit_id = audit_revoke(subject, sid, filter, reason, n, nclients);
	if (n > 0)
		notify_revoked(audit_id);
	SPI_finish();
	/* Purge more than this call buried, so tombstones cannot pile up. */
	(void) idsess_purge_revoked_keys(2 * n + 100);
	idsess_count(IDSESS_EV_REVOKED, n);
	return (Datum) 0;
}
