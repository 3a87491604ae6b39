/*-------------------------------------------------------------------------
 *
 * limit.c
 *		The concurrent session limit per subject, applied by idsess_create().
 *
 * Beyond the limit (idsess.max_sessions_per_subject, or the call's
 * max_sessions) a sign-in is refused, or the subject's oldest live sessions
 * are ended to make room (idsess.session_limit_action) and returned to the
 * caller, who owes them a back-channel logout.  Sign-ins of one subject are
 * serialized by a transaction-level advisory lock while a limit applies, so
 * two concurrent sign-ins cannot both pass the count (under REPEATABLE READ,
 * whose snapshot is older than the lock, see idsess_apply_session_limit).
 *
 *-------------------------------------------------------------------------
 */
#include "idsess.h"
#include "limit.h"
#include "session_end.h"
#include "arrays.h"
#include "session_sql.h"
#include "settings.h"
#include "shmem.h"
#include "spi.h"
#include "stats.h"

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "lib/stringinfo.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/json.h"
#include "utils/jsonb.h"
#include "utils/snapmgr.h"

/* The first key of idsess's advisory locks: "idsess" in a 32-bit tag. */
#define IDSESS_ADVISORY_CLASS	0x1D5E5500

static IdsessQuery q_lock_subject = {
	.sql = "SELECT pg_catalog.pg_advisory_xact_lock($1, pg_catalog.hashtext($2))",
	.nargs = 2, .argtypes = {INT4OID, TEXTOID}
};
static IdsessQuery q_live_of_subject = {
	.sql = "SELECT s.id FROM idsess.sessions s WHERE s.subject_id = $1 AND " IDSESS_LIVE
	" ORDER BY s.created, s.id",
	.nargs = 1, .argtypes = {TEXTOID}
};
static IdsessQuery q_count_live_of_subject = {
	.sql = "SELECT pg_catalog.count(*) FROM idsess.sessions s WHERE s.subject_id = $1 AND " IDSESS_LIVE,
	.nargs = 1, .argtypes = {TEXTOID}
};

/* 1.2: a subject of two tenants is two people, each with its own limit. */
#define OF_TENANT " AND s.tenant IS NOT DISTINCT FROM $2"
static IdsessQuery q_live_of_subject_12 = {
	.sql = "SELECT s.id FROM idsess.sessions s WHERE s.subject_id = $1" OF_TENANT " AND " IDSESS_LIVE
	" ORDER BY s.created, s.id",
	.nargs = 2, .argtypes = {TEXTOID, TEXTOID}
};
static IdsessQuery q_count_live_of_subject_12 = {
	.sql = "SELECT pg_catalog.count(*) FROM idsess.sessions s WHERE s.subject_id = $1" OF_TENANT
	" AND " IDSESS_LIVE,
	.nargs = 2, .argtypes = {TEXTOID, TEXTOID}
};
/*
 * The ended sessions, oldest first as $1 lists them; with their issuer (1.1
 * and later) for the outbox.
 */
#define END_SESSIONS(issuer) \
	"WITH d AS (DELETE FROM idsess.sessions WHERE id = ANY ($1) " \
	"RETURNING id, key, subject_id, session_id, " IDSESS_REVOKED_UNTIL " AS until, " issuer " AS issuer) " \
	"SELECT * FROM d ORDER BY pg_catalog.array_position($1, d.id)"
static IdsessQuery q_end_sessions_1_0 = {
	.sql = END_SESSIONS("NULL::pg_catalog.text"), .nargs = 1, .argtypes = {INT8ARRAYOID}
};
static IdsessQuery q_end_sessions = {
	.sql = END_SESSIONS("issuer"), .nargs = 1, .argtypes = {INT8ARRAYOID}
};

static void
append_text_array_json(StringInfo buf, Datum arr)
{
	Datum	   *elems;
	bool	   *nulls;
	int			n;

	deconstruct_array(DatumGetArrayTypeP(arr), TEXTOID, -1, false, TYPALIGN_INT,
					  &elems, &nulls, &n);
	appendStringInfoChar(buf, '[');
	for (int i = 0; i < n; i++)
	{
		if (i > 0)
			appendStringInfoString(buf, ", ");
		escape_json(buf, TextDatumGetCString(elems[i]));
	}
	appendStringInfoChar(buf, ']');
}

/*
 * Applies the limit for a new session of `subject`; the caller is connected
 * to SPI.  Returns the ended sessions as a jsonb array (empty when none),
 * allocated in the caller's memory context so that it outlives SPI_finish:
 * everything read from the SPI results here dies with SPI's memory.
 */
Datum
idsess_apply_session_limit(IdsessApi schema, text *subject, text *tenant, int limit,
						   bool to_outbox)
{
	Datum		args[3];
	char		nulls[2] = {' ', tenant ? ' ' : 'n'};
	bool		tenants = schema >= IDSESS_API_1_2;
	int			live;
	int			excess;
	int64	   *ids;
	SPITupleTable *live_rows;
	SPITupleTable *gone;
	IdsessEnding ending = {0};
	StringInfoData buf;
	bool		isnull;
	int			n;

	args[0] = Int32GetDatum(IDSESS_ADVISORY_CLASS);
	args[1] = PointerGetDatum(subject);
	idsess_spi_run(&q_lock_subject, args, NULL, false, 0);
	args[2] = PointerGetDatum(tenant);
	live = tenants ? idsess_spi_run(&q_live_of_subject_12, &args[1], nulls, false, 0) :
		idsess_spi_run(&q_live_of_subject, &args[1], NULL, false, 0);
	live_rows = SPI_tuptable;

	/*
	 * Under REPEATABLE READ or SERIALIZABLE the transaction's snapshot
	 * predates the lock: a sign-in of the same subject that held the lock
	 * before us and committed is invisible to it, and both would pass the
	 * limit.  Count again with the latest snapshot; if it sees other live
	 * sessions, this sign-in fails as a serialization failure, to be
	 * retried in a new transaction like any other.
	 */
	if (IsolationUsesXactSnapshot())
	{
		int64		latest;

		if (tenants)
			idsess_spi_run_latest(&q_count_live_of_subject_12, &args[1], nulls, true, 1);
		else
			idsess_spi_run_latest(&q_count_live_of_subject, &args[1], NULL, true, 1);
		latest = DatumGetInt64(idsess_spi_get(0, 1, &isnull));
		if (latest != live)
			ereport(ERROR,
					(errcode(ERRCODE_T_R_SERIALIZATION_FAILURE),
					 errmsg("could not serialize access due to a concurrent sign-in of the same subject"),
					 errdetail("The session limit was counted in a snapshot taken before another sign-in committed."),
					 errhint("Retry the transaction."),
					 errhidestmt(true)));
	}

	excess = live - limit + 1;
	if (excess <= 0)
		return SPI_datumTransfer(DirectFunctionCall1(jsonb_in, CStringGetDatum("[]")),
								 false, -1);

	if (idsess_session_limit_action == IDSESS_LIMIT_REFUSE)
		ereport(ERROR,
				(errcode(ERRCODE_CONFIGURATION_LIMIT_EXCEEDED),
				 errmsg("subject has too many sessions"),
				 errdetail("The subject has %d live sessions; the limit is %d.", live, limit),
				 errhint("End one of them first, or set idsess.session_limit_action to end_oldest."),
				 errhidestmt(true)));

	ids = palloc(sizeof(int64) * excess);
	for (int i = 0; i < excess; i++)
		ids[i] = DatumGetInt64(SPI_getbinval(live_rows->vals[i], live_rows->tupdesc, 1, &isnull));
	args[0] = idsess_int8_array(ids, excess);
	n = idsess_spi_run(schema >= IDSESS_API_1_1 ? &q_end_sessions : &q_end_sessions_1_0,
					   args, NULL, false, 0);
	gone = SPI_tuptable;
	ending.schema = schema;
	ending.n = n;
	ending.ids = ids;
	ending.event = IDSESS_EV_LIMITED;
	ending.to_outbox = to_outbox;
	ending.cause = "limit";
	/* An ended session is revoked: a late save from its device must not revive it. */
	ending.keys = palloc(sizeof(Datum) * n);
	ending.untils = palloc(sizeof(Datum) * n);
	ending.until_nulls = palloc(sizeof(bool) * n);
	ending.subjects = palloc(sizeof(Datum) * n);
	ending.sids = palloc(sizeof(Datum) * n);
	ending.issuers = palloc(sizeof(Datum) * n);
	ending.issuer_nulls = palloc(sizeof(bool) * n);
	for (int i = 0; i < n; i++)
	{
		ids[i] = DatumGetInt64(SPI_getbinval(gone->vals[i], gone->tupdesc, 1, &isnull));
		ending.keys[i] = SPI_getbinval(gone->vals[i], gone->tupdesc, 2, &isnull);
		ending.subjects[i] = SPI_getbinval(gone->vals[i], gone->tupdesc, 3, &isnull);
		ending.sids[i] = SPI_getbinval(gone->vals[i], gone->tupdesc, 4, &isnull);
		ending.untils[i] = SPI_getbinval(gone->vals[i], gone->tupdesc, 5, &ending.until_nulls[i]);
		ending.issuers[i] = SPI_getbinval(gone->vals[i], gone->tupdesc, 6, &ending.issuer_nulls[i]);
	}
	/* The limit counts one tenant's sessions: the ended ones are its own. */
	if (tenant)
	{
		ending.tenants = palloc(sizeof(Datum) * Max(n, 1));
		ending.tenant_nulls = palloc0(sizeof(bool) * Max(n, 1));
		for (int i = 0; i < n; i++)
			ending.tenants[i] = PointerGetDatum(tenant);
	}
	idsess_end_sessions(&ending);

	initStringInfo(&buf);
	appendStringInfoChar(&buf, '[');
	for (int i = 0; i < n; i++)
	{
		const char *names[3] = {"key", "subject_id", "session_id"};

		appendStringInfoString(&buf, i > 0 ? ", {" : "{");
		for (int c = 0; c < 3; c++)
		{
			escape_json(&buf, names[c]);
			appendStringInfoString(&buf, ": ");
			escape_json(&buf, TextDatumGetCString(SPI_getbinval(gone->vals[i], gone->tupdesc,
																c + 2, &isnull)));
			appendStringInfoString(&buf, ", ");
		}
		appendStringInfoString(&buf, "\"clients\": ");
		append_text_array_json(&buf, idsess_spi_get(i, 1, &isnull));
		appendStringInfoString(&buf, ", \"saml_sessions\": ");
		appendStringInfoString(&buf, JsonbToCString(NULL, &DatumGetJsonbP(idsess_spi_get(i, 2, &isnull))->root, 0));
		appendStringInfoChar(&buf, '}');
	}
	appendStringInfoChar(&buf, ']');
	return SPI_datumTransfer(DirectFunctionCall1(jsonb_in, CStringGetDatum(buf.data)),
							 false, -1);
}
