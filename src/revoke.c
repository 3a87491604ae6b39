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
 * Revoking a key leaves a tombstone, which keeps a late save from bringing
 * the session back (session_end.c).
 *
 *-------------------------------------------------------------------------
 */
#include "idsess.h"
#include "version.h"
#include "arrays.h"
#include "session_end.h"
#include "session_rows.h"
#include "session_sql.h"
#include "shmem.h"
#include "spi.h"
#include "stats.h"
#include "validate.h"

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

/*
 * 1.2: "sign out everywhere else": the subject's sessions (of one sid when
 * given) but the one with key $3, the caller's current session.
 */
static IdsessQuery q_revoke_except = {
	.sql = "DELETE FROM idsess.sessions WHERE subject_id = $1 "
	"AND ($2::pg_catalog.text IS NULL OR session_id = $2) AND key <> $3 " REVOKED_COLS("issuer"),
	.nargs = 3, .argtypes = {TEXTOID, TEXTOID, TEXTOID}
};

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

static Datum
revoke_sessions(FunctionCallInfo fcinfo, IdsessApi api)
{
	text	   *subject = idsess_arg_id_opt(fcinfo, 0, "subject_id", IDSESS_MAX_ID_CHARS);
	text	   *sid = idsess_arg_id_opt(fcinfo, 1, "session_id", IDSESS_MAX_ID_CHARS);
	Datum		filter = client_filter_arg(fcinfo, 2);
	Datum		reason = PG_ARGISNULL(3) ? (Datum) 0 : PG_GETARG_DATUM(3);
	text	   *except_key = api >= IDSESS_API_1_2 ?
		idsess_arg_id_opt(fcinfo, 4, "except_key", IDSESS_MAX_ID_CHARS) : NULL;
	ReturnSetInfo *rsinfo;
	SPITupleTable *gone;
	int			nclients = 0;
	int64		audit_id;
	int			n;
	bool		isnull;
	bool		api_1_1 = api >= IDSESS_API_1_1;

	if (reason)
		idsess_check_id(DatumGetTextPP(reason), "reason", IDSESS_MAX_URI_CHARS);
	idsess_require_filter(subject, sid);
	if (except_key && subject == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("except_key needs subject_id"),
				 errdetail("except_key keeps one session of a subject while the others are revoked."),
				 errhint("Give the subject whose other sessions end.")));
	InitMaterializedSRF(fcinfo, 0);
	rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	idsess_check_natts(rsinfo->setDesc, api_1_1 ? IDSESS_R_NATTS_1_1 : IDSESS_R_NATTS_1_0,
					   "idsess.revoked");

	idsess_spi_connect();
	if (except_key)
	{
		Datum		args[3];
		char		nulls[3] = {' ', ' ', ' '};

		args[0] = PointerGetDatum(subject);
		args[1] = PointerGetDatum(sid);
		args[2] = PointerGetDatum(except_key);
		nulls[1] = sid ? ' ' : 'n';
		n = idsess_spi_run(&q_revoke_except, args, nulls, false, 0);
	}
	else
		n = idsess_run_exact(&q_revoke_by_subject[api_1_1], &q_revoke_by_sid[api_1_1],
							 &q_revoke_by_both[api_1_1], subject, sid, false);
	if (n > 0)
	{
		IdsessEnding ending = {0};

		gone = SPI_tuptable;
		ending.schema = api;
		ending.n = n;
		ending.event = IDSESS_EV_REVOKED;
		ending.client_filter = filter;
		ending.ids = palloc(sizeof(int64) * n);
		ending.keys = palloc(sizeof(Datum) * n);
		ending.untils = palloc(sizeof(Datum) * n);
		ending.until_nulls = palloc(sizeof(bool) * n);
		for (int i = 0; i < n; i++)
		{
			ending.ids[i] = DatumGetInt64(SPI_getbinval(gone->vals[i], gone->tupdesc, 1, &isnull));
			ending.keys[i] = SPI_getbinval(gone->vals[i], gone->tupdesc, 2, &isnull);
			ending.untils[i] = SPI_getbinval(gone->vals[i], gone->tupdesc, 5, &ending.until_nulls[i]);
		}
		idsess_end_sessions(&ending);
		for (int i = 0; i < n; i++)
		{
			Datum		values[IDSESS_R_NATTS_1_1];
			bool		nulls[IDSESS_R_NATTS_1_1];

			/* key, subject_id, session_id from the DELETE, the rest from the children */
			for (int c = IDSESS_R_KEY; c <= IDSESS_R_SID; c++)
				values[c] = SPI_getbinval(gone->vals[i], gone->tupdesc, c + 2, &nulls[c]);
			values[IDSESS_R_CLIENTS] = idsess_spi_get(i, 1, &nulls[IDSESS_R_CLIENTS]);
			values[IDSESS_R_SAML] = idsess_spi_get(i, 2, &nulls[IDSESS_R_SAML]);
			values[IDSESS_R_ISSUER] = SPI_getbinval(gone->vals[i], gone->tupdesc, 6,
													&nulls[IDSESS_R_ISSUER]);
			values[IDSESS_R_CLIENT_SIDS] = idsess_spi_get(i, 3, &nulls[IDSESS_R_CLIENT_SIDS]);
			nclients += ArrayGetNItems(ARR_NDIM(DatumGetArrayTypeP(values[IDSESS_R_CLIENTS])),
									   ARR_DIMS(DatumGetArrayTypeP(values[IDSESS_R_CLIENTS])));
			tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
		}
	}
	/* The audit row says when the caller's own session was kept. */
	if (except_key && reason == (Datum) 0)
		reason = CStringGetTextDatum("all other sessions");
	audit_id = audit_revoke(subject, sid, filter, reason, n, nclients);
	if (n > 0)
		notify_revoked(audit_id);
	SPI_finish();
	/* Purge more than this call buried, so tombstones cannot pile up. */
	(void) idsess_purge_revoked_keys(2 * n + 100);
	return (Datum) 0;
}

/*
 * Entry points: the unversioned symbol serves the 1.0 and 1.1 scripts
 * (version.c), each later script binds the symbol of its version.
 */
PG_FUNCTION_INFO_V1(idsess_revoke);
Datum
idsess_revoke(PG_FUNCTION_ARGS)
{
	return revoke_sessions(fcinfo, idsess_unversioned_api(fcinfo, 4, 4));
}

PG_FUNCTION_INFO_V1(idsess_revoke_1_2);
Datum
idsess_revoke_1_2(PG_FUNCTION_ARGS)
{
	return revoke_sessions(fcinfo, IDSESS_API_1_2);
}
