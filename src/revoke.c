/*-------------------------------------------------------------------------
 *
 * revoke.c
 *		idsess_revoke(): end the sessions of a subject and/or sid and say
 *		who must be sent a back-channel logout.
 *
 * Like Duende's session management RemoveSessions, every matching session is
 * removed; the client ids given only limit which clients (and SAML entities)
 * are returned for notification.  Each removed session is announced with
 * NOTIFY idsess_revoked, payload {"subject_id": ..., "session_id": ...},
 * delivered when the transaction commits.
 *
 *-------------------------------------------------------------------------
 */
#include "idsess.h"

#include "catalog/pg_type.h"
#include "commands/async.h"
#include "fmgr.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/json.h"

PG_FUNCTION_INFO_V1(idsess_revoke);

#define REVOKE_CHANNEL	"idsess_revoked"

static IdsessQuery q_revoke_by_subject = {
	.sql = "DELETE FROM idsess.sessions WHERE subject_id = $1 "
	"RETURNING id, key, subject_id, session_id",
	.nargs = 1, .argtypes = {TEXTOID}
};
static IdsessQuery q_revoke_by_sid = {
	.sql = "DELETE FROM idsess.sessions WHERE session_id = $1 "
	"RETURNING id, key, subject_id, session_id",
	.nargs = 1, .argtypes = {TEXTOID}
};
static IdsessQuery q_revoke_by_both = {
	.sql = "DELETE FROM idsess.sessions WHERE subject_id = $1 AND session_id = $2 "
	"RETURNING id, key, subject_id, session_id",
	.nargs = 2, .argtypes = {TEXTOID, TEXTOID}
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
notify_revoked(text *subject, text *sid)
{
	StringInfoData buf;

	initStringInfo(&buf);
	appendStringInfoString(&buf, "{\"subject_id\": ");
	escape_json(&buf, text_to_cstring(subject));
	appendStringInfoString(&buf, ", \"session_id\": ");
	escape_json(&buf, text_to_cstring(sid));
	appendStringInfoChar(&buf, '}');
	Async_Notify(REVOKE_CHANNEL, buf.data);
	pfree(buf.data);
}

static IdsessQuery q_audit = {
	.sql = "INSERT INTO idsess.audit (action, subject_id, session_id, client_ids, reason, sessions, clients) "
	"VALUES ('revoke', $1, $2, $3, $4, $5, $6)",
	.nargs = 6, .argtypes = {TEXTOID, TEXTOID, TEXTARRAYOID, TEXTOID, INT4OID, INT4OID}
};

/* Records the revocation, also when it matched nothing. */
static void
audit_revoke(text *subject, text *sid, Datum filter, Datum reason, int sessions, int clients)
{
	Datum		args[6];
	char		nulls[6] = {' ', ' ', ' ', ' ', ' ', ' '};

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
	int			n;
	bool		isnull;

	if (reason)
		idsess_check_id(DatumGetTextPP(reason), "reason", IDSESS_MAX_URI_CHARS);
	idsess_require_filter(subject, sid);
	InitMaterializedSRF(fcinfo, 0);
	rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;

	idsess_spi_connect();
	n = idsess_run_exact(&q_revoke_by_subject, &q_revoke_by_sid, &q_revoke_by_both,
						 subject, sid, false);
	if (n > 0)
	{
		gone = SPI_tuptable;
		ids = palloc(sizeof(int64) * n);
		for (int i = 0; i < n; i++)
			ids[i] = DatumGetInt64(SPI_getbinval(gone->vals[i], gone->tupdesc, 1, &isnull));
		idsess_delete_children(idsess_int8_array(ids, n), (Datum) 0, (Datum) 0,
							   (Datum) 0, filter, false);
		for (int i = 0; i < n; i++)
		{
			Datum		values[5];
			bool		nulls[5] = {false, false, false, false, false};

			for (int c = 0; c < 3; c++)
				values[c] = SPI_getbinval(gone->vals[i], gone->tupdesc, c + 2, &isnull);
			values[3] = idsess_spi_get(i, 1, &isnull);
			values[4] = idsess_spi_get(i, 2, &isnull);
			nclients += ArrayGetNItems(ARR_NDIM(DatumGetArrayTypeP(values[3])),
									   ARR_DIMS(DatumGetArrayTypeP(values[3])));
			tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
			notify_revoked(DatumGetTextPP(values[1]), DatumGetTextPP(values[2]));
		}
	}
	audit_revoke(subject, sid, filter, reason, n, nclients);
	SPI_finish();
	idsess_count(IDSESS_EV_REVOKED, n);
	return (Datum) 0;
}
