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
#include "tenant.h"
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
#include "utils/json.h"
#include "utils/jsonb.h"
#include "utils/timestamp.h"
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
 * A list argument (client_ids, acr_not_in): one-dimensional, no NULL or
 * empty element, each at most max_chars long; 0 when NULL.
 */
static Datum
list_arg(FunctionCallInfo fcinfo, int argno, const char *name, const char *element,
		 int max_chars)
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
				 errmsg("%s must be a one-dimensional array", name)));
	deconstruct_array(arr, TEXTOID, -1, false, TYPALIGN_INT, &elems, &nulls, &n);
	for (int i = 0; i < n; i++)
	{
		if (nulls[i])
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("%s must not contain null", name)));
		idsess_check_id(DatumGetTextPP(elems[i]), element, max_chars);
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

/*
 * Ends the n sessions a revocation's DELETE returned (SPI_tuptable: id,
 * key, subject_id, session_id, until, issuer and, in 1.2, tenant), as
 * `ending` says, and puts one result row per session into rsinfo with the
 * clients and SAML SPs to notify.  whom (1.2, which may owe the logouts and
 * counts per tenant): also give session_end each session's subject, sid,
 * issuer and tenant.  Returns how many clients.
 */
static int
end_and_list(IdsessEnding *ending, int n, bool whom, ReturnSetInfo *rsinfo)
{
	SPITupleTable *gone = SPI_tuptable;
	int			nclients = 0;
	bool		isnull;

	ending->n = n;
	ending->event = IDSESS_EV_REVOKED;
	ending->ids = palloc(sizeof(int64) * n);
	ending->keys = palloc(sizeof(Datum) * n);
	ending->untils = palloc(sizeof(Datum) * n);
	ending->until_nulls = palloc(sizeof(bool) * n);
	if (whom)
	{
		ending->subjects = palloc(sizeof(Datum) * n);
		ending->subject_nulls = palloc(sizeof(bool) * n);
		ending->sids = palloc(sizeof(Datum) * n);
		ending->issuers = palloc(sizeof(Datum) * n);
		ending->issuer_nulls = palloc(sizeof(bool) * n);
		ending->tenants = palloc(sizeof(Datum) * n);
		ending->tenant_nulls = palloc(sizeof(bool) * n);
	}
	for (int i = 0; i < n; i++)
	{
		ending->ids[i] = DatumGetInt64(SPI_getbinval(gone->vals[i], gone->tupdesc, 1, &isnull));
		ending->keys[i] = SPI_getbinval(gone->vals[i], gone->tupdesc, 2, &isnull);
		ending->untils[i] = SPI_getbinval(gone->vals[i], gone->tupdesc, 5, &ending->until_nulls[i]);
		if (whom)
		{
			ending->subjects[i] = SPI_getbinval(gone->vals[i], gone->tupdesc, 3,
												&ending->subject_nulls[i]);
			ending->sids[i] = SPI_getbinval(gone->vals[i], gone->tupdesc, 4, &isnull);
			ending->issuers[i] = SPI_getbinval(gone->vals[i], gone->tupdesc, 6,
											   &ending->issuer_nulls[i]);
			ending->tenants[i] = SPI_getbinval(gone->vals[i], gone->tupdesc, 7,
											   &ending->tenant_nulls[i]);
		}
	}
	idsess_end_sessions(ending);
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
	return nclients;
}

static Datum
revoke_sessions(FunctionCallInfo fcinfo, IdsessApi api)
{
	text	   *subject = idsess_arg_id_opt(fcinfo, 0, "subject_id", IDSESS_MAX_ID_CHARS);
	text	   *sid = idsess_arg_id_opt(fcinfo, 1, "session_id", IDSESS_MAX_ID_CHARS);
	Datum		filter = list_arg(fcinfo, 2, "client_ids", "a client id", IDSESS_MAX_ID_CHARS);
	Datum		reason = PG_ARGISNULL(3) ? (Datum) 0 : PG_GETARG_DATUM(3);
	ReturnSetInfo *rsinfo;
	int			nclients = 0;
	int64		audit_id;
	int			n;
	bool		api_1_1 = api >= IDSESS_API_1_1;

	if (reason)
		idsess_check_id(DatumGetTextPP(reason), "reason", IDSESS_MAX_URI_CHARS);
	idsess_require_filter(subject, sid);
	InitMaterializedSRF(fcinfo, 0);
	rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	idsess_check_natts(rsinfo->setDesc, api_1_1 ? IDSESS_R_NATTS_1_1 : IDSESS_R_NATTS_1_0,
					   "idsess.revoked");

	idsess_spi_connect();
	n = idsess_run_exact(&q_revoke_by_subject[api_1_1], &q_revoke_by_sid[api_1_1],
							 &q_revoke_by_both[api_1_1], subject, sid, false);
	if (n > 0)
	{
		IdsessEnding ending = {0};

		ending.schema = api;
		ending.client_filter = filter;
		nclients = end_and_list(&ending, n, false, rsinfo);
	}
	audit_id = audit_revoke(subject, sid, filter, reason, n, nclients);
	if (n > 0)
		notify_revoked(audit_id);
	SPI_finish();
	/* Purge more than this call buried, so tombstones cannot pile up. */
	(void) idsess_purge_revoked_keys(2 * n + 100);
	return (Datum) 0;
}


/*
 * 1.2: sessions selected by any of the filters below, AND-combined, for an
 * incident (a client, a window of sign-ins, a compromised data key, a
 * tenant); a dry run that only lists them; batches that a caller repeats
 * until one comes back short.  The statement is made for the filters given
 * and planned with their values (custom plans: an incident's filter is
 * rare, and each then uses its own index).
 */
enum
{
	R_SUBJECT, R_SID, R_CLIENT_IDS, R_REASON,
	/* 1.2 */
	R_EXCEPT_KEY, R_TENANT, R_CLIENT_ID, R_CREATED_BEFORE, R_CREATED_AFTER, R_KEY_ID, R_CONFIRM,
	R_DRY_RUN, R_BATCH, R_CLIENT_IP, R_ACR_NOT_IN, R_AMR_LACKS
};

#define REVOKE_ALL_CONFIRM	"revoke every session"
#define REVOKE_MAX_BATCH	100000

typedef struct RevokeFilter
{
	text	   *subject;
	text	   *sid;
	text	   *tenant;
	text	   *client;
	bool		has_before;
	TimestampTz before;
	bool		has_after;
	TimestampTz after;
	bool		has_key_id;
	int32		key_id;
	text	   *except_key;		/* a subject's session kept */
	Datum		client_ip;		/* inet: sessions whose IP is within it */
	Datum		acr_not_in;		/* text[]: sessions whose acr is none of these */
	text	   *amr_lacks;		/* sessions whose amr does not hold this method */
	bool		dry_run;
	int			batch;			/* 0: all at once */
	bool		confirmed;
	Datum		scope;			/* the caller's tenants; 0: all */
} RevokeFilter;

#define RF_NARGS 12

/* The WHERE clause of the filters given; parameters $1..$12 always bound. */
static char *
filter_sql(const RevokeFilter *f, bool negate)
{
	StringInfoData w;

	initStringInfo(&w);
	appendStringInfoString(&w, "(true");
	if (f->subject)
		appendStringInfoString(&w, " AND s.subject_id = $1");
	if (f->sid)
		appendStringInfoString(&w, " AND s.session_id = $2");
	if (f->tenant)
		appendStringInfoString(&w, " AND s.tenant = $3");
	/*
	 * The lower bounds (one probe of the index on (client, session) or on
	 * (key_id, id)) say what the IN or the equality implies, so that a
	 * batch's scan in id order starts at the first session the client or
	 * the data key still has rather than at the oldest session: otherwise
	 * each batch reads again every session the batches before it passed
	 * over.  A tenant needs none: its index is on (tenant, id).
	 */
	if (f->client)
		appendStringInfoString(&w, " AND s.id IN (SELECT c.session FROM idsess.session_clients c "
							   "WHERE c.client_id = $4) AND s.id >= (SELECT pg_catalog.min(c.session) "
							   "FROM idsess.session_clients c WHERE c.client_id = $4)");
	if (f->has_before)
		appendStringInfoString(&w, " AND s.created < $5");
	if (f->has_after)
		appendStringInfoString(&w, " AND s.created >= $6");
	if (f->has_key_id)
		appendStringInfoString(&w, " AND s.key_id = $7 AND s.id >= (SELECT pg_catalog.min(k.id) "
							   "FROM idsess.sessions k WHERE k.key_id = $7)");
	/*
	 * The other sessions of the same person: in the kept session's tenant,
	 * unless the caller names one (as the proxy does for the partitions
	 * that do not hold the kept session).
	 */
	if (f->except_key)
		appendStringInfoString(&w, " AND s.key <> $9");
	if (f->except_key && !f->tenant)
		appendStringInfoString(&w, " AND s.tenant IS NOT DISTINCT FROM "
							   "(SELECT e.tenant FROM idsess.sessions e WHERE e.key = $9)");
	/* Sessions with no recorded IP, acr or amr are not known to match. */
	if (f->client_ip)
		appendStringInfoString(&w, " AND s.client_ip <<= $10");
	if (f->acr_not_in)
		appendStringInfoString(&w, " AND (s.acr IS NULL OR s.acr <> ALL ($11))");
	if (f->amr_lacks)
		appendStringInfoString(&w, " AND (s.amr IS NULL OR NOT $12 = ANY (s.amr))");
	appendStringInfoChar(&w, ')');
	if (negate)
	{
		char	   *inner = w.data;

		initStringInfo(&w);
		appendStringInfo(&w, "%s IS NOT TRUE", inner);
	}
	/* Always last and never negated: what the caller may see at all. */
	if (f->scope)
		appendStringInfoString(&w, " AND s.tenant = ANY ($8)");
	return w.data;
}

static void
filter_args(const RevokeFilter *f, Datum *args, char *nulls, Oid *types)
{
	Oid			t[RF_NARGS] = {TEXTOID, TEXTOID, TEXTOID, TEXTOID, TIMESTAMPTZOID,
	TIMESTAMPTZOID, INT4OID, TEXTARRAYOID, TEXTOID, INETOID, TEXTARRAYOID, TEXTOID};

	memcpy(types, t, sizeof(t));
	args[0] = PointerGetDatum(f->subject);
	args[1] = PointerGetDatum(f->sid);
	args[2] = PointerGetDatum(f->tenant);
	args[3] = PointerGetDatum(f->client);
	args[4] = TimestampTzGetDatum(f->before);
	args[5] = TimestampTzGetDatum(f->after);
	args[6] = Int32GetDatum(f->key_id);
	args[7] = f->scope;
	args[8] = PointerGetDatum(f->except_key);
	args[9] = f->client_ip;
	args[10] = f->acr_not_in;
	args[11] = PointerGetDatum(f->amr_lacks);
	nulls[0] = f->subject ? ' ' : 'n';
	nulls[1] = f->sid ? ' ' : 'n';
	nulls[2] = f->tenant ? ' ' : 'n';
	nulls[3] = f->client ? ' ' : 'n';
	nulls[4] = f->has_before ? ' ' : 'n';
	nulls[5] = f->has_after ? ' ' : 'n';
	nulls[6] = f->has_key_id ? ' ' : 'n';
	nulls[7] = f->scope ? ' ' : 'n';
	nulls[8] = f->except_key ? ' ' : 'n';
	nulls[9] = f->client_ip ? ' ' : 'n';
	nulls[10] = f->acr_not_in ? ' ' : 'n';
	nulls[11] = f->amr_lacks ? ' ' : 'n';
}

static int
run_filtered(const char *sql, const RevokeFilter *f, bool read_only, long count)
{
	Datum		args[RF_NARGS];
	char		nulls[RF_NARGS];
	Oid			types[RF_NARGS];
	int			rc;

	filter_args(f, args, nulls, types);
	rc = SPI_execute_with_args(sql, RF_NARGS, types, args, nulls, read_only, count);
	if (rc < 0)
		elog(ERROR, "SPI_execute_with_args failed: %s", SPI_result_code_string(rc));
	return (int) SPI_processed;
}

static TimestampTz
timestamp_of(FunctionCallInfo fcinfo, int argno, const char *what)
{
	TimestampTz t = PG_GETARG_TIMESTAMPTZ(argno);

	if (TIMESTAMP_NOT_FINITE(t))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s must be a finite time", what),
				 errhint("Leave it NULL for no bound.")));
	return t;
}

static void
parse_filter(FunctionCallInfo fcinfo, RevokeFilter *f)
{
	memset(f, 0, sizeof(*f));
	f->subject = idsess_arg_id_opt(fcinfo, R_SUBJECT, "subject_id", IDSESS_MAX_ID_CHARS);
	f->sid = idsess_arg_id_opt(fcinfo, R_SID, "session_id", IDSESS_MAX_ID_CHARS);
	f->tenant = idsess_arg_id_opt(fcinfo, R_TENANT, "tenant", IDSESS_MAX_ID_CHARS);
	f->client = idsess_arg_id_opt(fcinfo, R_CLIENT_ID, "client_id", IDSESS_MAX_ID_CHARS);
	if (!PG_ARGISNULL(R_CREATED_BEFORE))
	{
		f->before = timestamp_of(fcinfo, R_CREATED_BEFORE, "created_before");
		f->has_before = true;
	}
	if (!PG_ARGISNULL(R_CREATED_AFTER))
	{
		f->after = timestamp_of(fcinfo, R_CREATED_AFTER, "created_after");
		f->has_after = true;
	}
	if (!PG_ARGISNULL(R_KEY_ID))
	{
		f->key_id = PG_GETARG_INT32(R_KEY_ID);
		f->has_key_id = true;
	}
	f->except_key = idsess_arg_id_opt(fcinfo, R_EXCEPT_KEY, "except_key", IDSESS_MAX_ID_CHARS);
	if (f->except_key && f->subject == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("except_key needs subject_id"),
				 errdetail("except_key keeps one session of a subject while the others are revoked."),
				 errhint("Give the subject whose other sessions end.")));
	if (!PG_ARGISNULL(R_CLIENT_IP))
		f->client_ip = PG_GETARG_DATUM(R_CLIENT_IP);
	if (!PG_ARGISNULL(R_ACR_NOT_IN))
		f->acr_not_in = list_arg(fcinfo, R_ACR_NOT_IN, "acr_not_in", "an acr", IDSESS_MAX_URI_CHARS);
	f->amr_lacks = idsess_arg_id_opt(fcinfo, R_AMR_LACKS, "amr_lacks", IDSESS_MAX_ID_CHARS);
	f->confirmed = !PG_ARGISNULL(R_CONFIRM) &&
		strcmp(text_to_cstring(PG_GETARG_TEXT_PP(R_CONFIRM)), REVOKE_ALL_CONFIRM) == 0;
	f->dry_run = !PG_ARGISNULL(R_DRY_RUN) && PG_GETARG_BOOL(R_DRY_RUN);
	if (!PG_ARGISNULL(R_BATCH))
	{
		f->batch = PG_GETARG_INT32(R_BATCH);
		if (f->batch < 1 || f->batch > REVOKE_MAX_BATCH)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("batch must be between 1 and %d", REVOKE_MAX_BATCH),
					 errhint("Call again with the same filters until a batch returns fewer rows than batch.")));
	}
	/* A tenant named must be the caller's; otherwise its tenants bound the rest. */
	if (f->tenant)
		idsess_tenant_check_arg(f->tenant);
	f->scope = idsess_tenant_scope_array();
}

/*
 * A selection that matches every session the caller can see (no filter, or
 * filters that happen to cover them all) ends every sign-in at once: it
 * needs confirm => 'revoke every session'.  The test stops at the first
 * session the filters leave out, so a narrow filter pays little.
 */
static void
check_not_everything(const RevokeFilter *f)
{
	char	   *sql;
	bool		isnull;

	if (f->confirmed || f->subject || f->sid)
		return;
	sql = psprintf("SELECT EXISTS (SELECT FROM idsess.sessions s WHERE %s) "
				   "AND NOT EXISTS (SELECT FROM idsess.sessions s WHERE %s)",
				   filter_sql(f, false), filter_sql(f, true));
	run_filtered(sql, f, true, 1);
	if (DatumGetBool(idsess_spi_get(0, 1, &isnull)))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("this revocation would end every session"),
				 errdetail("No session the caller can see is left out by the filters given."),
				 errhint("Pass confirm => '%s' to end them all, or narrow the filters (dry_run => true lists what they match).",
						 REVOKE_ALL_CONFIRM)));
}

/* The filters beyond subject and sid, for the audit. */
static Datum
filter_json(const RevokeFilter *f)
{
	StringInfoData j;

	initStringInfo(&j);
	appendStringInfoChar(&j, '{');
	if (f->tenant)
	{
		appendStringInfoString(&j, "\"tenant\": ");
		escape_json(&j, text_to_cstring(f->tenant));
		appendStringInfoString(&j, ", ");
	}
	if (f->client)
	{
		appendStringInfoString(&j, "\"client_id\": ");
		escape_json(&j, text_to_cstring(f->client));
		appendStringInfoString(&j, ", ");
	}
	if (f->has_before)
		appendStringInfo(&j, "\"created_before\": \"%s\", ", timestamptz_to_str(f->before));
	if (f->has_after)
		appendStringInfo(&j, "\"created_after\": \"%s\", ", timestamptz_to_str(f->after));
	if (f->has_key_id)
		appendStringInfo(&j, "\"key_id\": %d, ", f->key_id);
	if (f->except_key)
		appendStringInfoString(&j, "\"except_key\": true, ");
	if (f->client_ip)
		appendStringInfo(&j, "\"client_ip\": \"%s\", ",
						 DatumGetCString(DirectFunctionCall1(inet_out, f->client_ip)));
	if (f->acr_not_in)
	{
		Datum	   *elems;
		int			n;

		deconstruct_array(DatumGetArrayTypeP(f->acr_not_in), TEXTOID, -1, false, TYPALIGN_INT,
						  &elems, NULL, &n);
		appendStringInfoString(&j, "\"acr_not_in\": [");
		for (int i = 0; i < n; i++)
		{
			if (i > 0)
				appendStringInfoString(&j, ", ");
			escape_json(&j, TextDatumGetCString(elems[i]));
		}
		appendStringInfoString(&j, "], ");
	}
	if (f->amr_lacks)
	{
		appendStringInfoString(&j, "\"amr_lacks\": ");
		escape_json(&j, text_to_cstring(f->amr_lacks));
		appendStringInfoString(&j, ", ");
	}
	if (f->batch)
		appendStringInfo(&j, "\"batch\": %d, ", f->batch);
	appendStringInfo(&j, "\"confirmed\": %s}", f->confirmed ? "true" : "false");
	return DirectFunctionCall1(jsonb_in, CStringGetDatum(j.data));
}

static IdsessQuery q_audit_12 = {
	.sql = "INSERT INTO idsess.audit (action, subject_id, session_id, client_ids, reason, sessions, "
	"clients, tenants, filter) VALUES ('revoke', $1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
	.nargs = 8, .argtypes = {TEXTOID, TEXTOID, TEXTARRAYOID, TEXTOID, INT4OID, INT4OID,
	TEXTARRAYOID, JSONBOID}
};

static int64
audit_revoke_12(const RevokeFilter *f, Datum client_filter, Datum reason, int sessions,
				int clients)
{
	Datum		args[8];
	char		nulls[8];
	Datum		tenants = f->scope;
	bool		isnull;

	if (f->tenant)
	{
		Datum		one = PointerGetDatum(f->tenant);

		tenants = idsess_text_array(&one, 1);
	}
	args[0] = PointerGetDatum(f->subject);
	args[1] = PointerGetDatum(f->sid);
	args[2] = client_filter;
	args[3] = reason;
	args[4] = Int32GetDatum(sessions);
	args[5] = Int32GetDatum(clients);
	args[6] = tenants;
	args[7] = filter_json(f);
	nulls[0] = f->subject ? ' ' : 'n';
	nulls[1] = f->sid ? ' ' : 'n';
	nulls[2] = client_filter ? ' ' : 'n';
	nulls[3] = reason ? ' ' : 'n';
	nulls[4] = nulls[5] = nulls[7] = ' ';
	nulls[6] = tenants ? ' ' : 'n';
	idsess_spi_run(&q_audit_12, args, nulls, false, 0);
	return DatumGetInt64(idsess_spi_get(0, 1, &isnull));
}

/* A dry run: the sessions the filters match, as a revocation would list them. */
static void
list_matches(const RevokeFilter *f, Datum client_filter, ReturnSetInfo *rsinfo)
{
	char	   *sql;
	int			n;
	Datum		args[RF_NARGS + 1];
	char		nulls[RF_NARGS + 1];
	Oid			types[RF_NARGS + 1];
	int			rc;

	sql = psprintf("SELECT s.key, s.subject_id, s.session_id, "
				   "ARRAY(SELECT c.client_id FROM idsess.session_clients c WHERE c.session = s.id "
				   "AND ($%d::pg_catalog.text[] IS NULL OR c.client_id = ANY ($%d)) ORDER BY c.added, c.client_id), "
				   IDSESS_SAML_LIST_OF("s.id") ", s.issuer, "
				   "ARRAY(SELECT c.client_sid FROM idsess.session_clients c WHERE c.session = s.id "
				   "AND ($%d::pg_catalog.text[] IS NULL OR c.client_id = ANY ($%d)) ORDER BY c.added, c.client_id) "
				   "FROM idsess.sessions s WHERE %s ORDER BY s.id%s",
				   RF_NARGS + 1, RF_NARGS + 1, RF_NARGS + 1, RF_NARGS + 1,
				   filter_sql(f, false), f->batch ? psprintf(" LIMIT $%d", RF_NARGS + 2) : "");
	filter_args(f, args, nulls, types);
	args[RF_NARGS] = client_filter;
	nulls[RF_NARGS] = client_filter ? ' ' : 'n';
	types[RF_NARGS] = TEXTARRAYOID;
	{
		Datum		a[RF_NARGS + 2];
		char		nl[RF_NARGS + 2];
		Oid			ty[RF_NARGS + 2];

		memcpy(a, args, sizeof(args));
		memcpy(nl, nulls, sizeof(nulls));
		memcpy(ty, types, sizeof(types));
		a[RF_NARGS + 1] = Int32GetDatum(f->batch);
		nl[RF_NARGS + 1] = ' ';
		ty[RF_NARGS + 1] = INT4OID;
		rc = SPI_execute_with_args(sql, RF_NARGS + 2, ty, a, nl, true, 0);
	}
	if (rc < 0)
		elog(ERROR, "SPI_execute_with_args failed: %s", SPI_result_code_string(rc));
	n = (int) SPI_processed;
	for (int i = 0; i < n; i++)
	{
		Datum		values[IDSESS_R_NATTS_1_1];
		bool		vnulls[IDSESS_R_NATTS_1_1];

		for (int c = 0; c < IDSESS_R_NATTS_1_1; c++)
			values[c] = idsess_spi_get(i, c + 1, &vnulls[c]);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, vnulls);
	}
}

static Datum
revoke_filtered(FunctionCallInfo fcinfo)
{
	RevokeFilter f;
	Datum		client_filter = list_arg(fcinfo, R_CLIENT_IDS, "client_ids", "a client id",
									IDSESS_MAX_ID_CHARS);
	Datum		reason = PG_ARGISNULL(R_REASON) ? (Datum) 0 : PG_GETARG_DATUM(R_REASON);
	ReturnSetInfo *rsinfo;
	IdsessEnding ending = {0};
	char	   *sql;
	int			nclients = 0;
	int64		audit_id;
	int			n;

	if (reason)
		idsess_check_id(DatumGetTextPP(reason), "reason", IDSESS_MAX_URI_CHARS);
	parse_filter(fcinfo, &f);
	/* The audit row says when the caller's own session was kept. */
	if (f.except_key && reason == (Datum) 0)
		reason = CStringGetTextDatum("all other sessions");
	InitMaterializedSRF(fcinfo, 0);
	rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	idsess_check_natts(rsinfo->setDesc, IDSESS_R_NATTS_1_1, "idsess.revoked");

	idsess_spi_connect();
	check_not_everything(&f);
	if (f.dry_run)
	{
		list_matches(&f, client_filter, rsinfo);
		SPI_finish();
		return (Datum) 0;
	}

	/*
	 * A batch takes the oldest matching rows it can lock at once and skips
	 * those another transaction holds (a save in flight): the next batch
	 * gets them.  Without batch every match is waited for and deleted.
	 */
	if (f.batch)
		sql = psprintf("DELETE FROM idsess.sessions d USING (SELECT s.id FROM idsess.sessions s "
					   "WHERE %s ORDER BY s.id LIMIT %d FOR UPDATE SKIP LOCKED) v WHERE d.id = v.id "
					   "RETURNING d.id, d.key, d.subject_id, d.session_id, "
					   "COALESCE(d.expires, d.last_active + d.idle_timeout), d.issuer, d.tenant",
					   filter_sql(&f, false), f.batch);
	else
		sql = psprintf("DELETE FROM idsess.sessions s WHERE %s " REVOKED_COLS("issuer") ", tenant",
					   filter_sql(&f, false));
	n = run_filtered(sql, &f, false, 0);
	if (n > 0)
	{
		ending.schema = IDSESS_API_1_2;
		ending.client_filter = client_filter;
		/* A batch ends sessions no caller holds a list for: their logouts are owed. */
		ending.to_outbox = f.batch > 0;
		ending.cause = "revoked";
		nclients = end_and_list(&ending, n, true, rsinfo);
	}
	audit_id = audit_revoke_12(&f, client_filter, reason, n, nclients);
	if (n > 0)
		notify_revoked(audit_id);
	SPI_finish();
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
	return revoke_filtered(fcinfo);
}
