/*-------------------------------------------------------------------------
 *
 * store.c
 *		The session store contract: create, update (renew), touch, delete,
 *		exact lookup and delete by subject and/or sid (get is in lookup.c).
 *
 * Each function checks its arguments, runs fixed SQL against the tables in
 * schema idsess through prepared SPI plans, and seals or opens tickets with
 * seal.c.  A ticket is sealed with the session key as associated data, so a
 * ticket copied to another row does not open.  Every error raised in
 * create and update, where a ticket is an argument, hides the statement from
 * the server log (hiding_statement), so a ticket sent as a literal is not
 * logged by log_min_error_statement.
 *
 *-------------------------------------------------------------------------
 */
#include "idsess.h"

#include "catalog/pg_type.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"

PG_FUNCTION_INFO_V1(idsess_create);
PG_FUNCTION_INFO_V1(idsess_update);
PG_FUNCTION_INFO_V1(idsess_touch);
PG_FUNCTION_INFO_V1(idsess_delete);
PG_FUNCTION_INFO_V1(idsess_get_sessions);
PG_FUNCTION_INFO_V1(idsess_delete_sessions);
PG_FUNCTION_INFO_V1(idsess_take_expired);

static Datum create_session(FunctionCallInfo fcinfo);
static Datum update_session(FunctionCallInfo fcinfo);

/* Attribute numbers (0-based) of idsess.session. */
enum
{
	A_KEY, A_SCHEME, A_SUBJECT, A_SID, A_DISPLAY, A_CREATED, A_RENEWED,
	A_EXPIRES, A_LAST_ACTIVE, A_IDLE, A_CLIENTS, A_SAML, A_TICKET, A_TICKET_BYTES,
	A_ENDED						/* idsess.created only */
};

Datum
idsess_int8_array(int64 *vals, int n)
{
	Datum	   *d = palloc(sizeof(Datum) * (n > 0 ? n : 1));

	for (int i = 0; i < n; i++)
		d[i] = Int64GetDatum(vals[i]);
	return PointerGetDatum(construct_array(d, n, INT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
}

Datum
idsess_text_array(Datum *vals, int n)
{
	return PointerGetDatum(construct_array(vals, n, TEXTOID, -1, false, TYPALIGN_INT));
}

static text *
hex_id(int nbytes)
{
	static const char digits[] = "0123456789ABCDEF";
	uint8		raw[32];
	char		out[65];

	Assert(nbytes <= 32);
	idsess_random(raw, nbytes);
	for (int i = 0; i < nbytes; i++)
	{
		out[2 * i] = digits[raw[i] >> 4];
		out[2 * i + 1] = digits[raw[i] & 0x0F];
	}
	return cstring_to_text_with_len(out, 2 * nbytes);
}

/* The ticket argument pair: exactly one of text and bytea. */
static bytea *
ticket_arg(FunctionCallInfo fcinfo, int textarg, int byteaarg, bool required,
		   char *format)
{
	bytea	   *t;

	if (!PG_ARGISNULL(textarg) && !PG_ARGISNULL(byteaarg))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("give either ticket or ticket_bytes, not both"),
				 errhidestmt(true)));
	if (PG_ARGISNULL(textarg) && PG_ARGISNULL(byteaarg))
	{
		if (required)
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("a ticket is required"),
					 errhint("Give ticket (text) or ticket_bytes (bytea).")));
		return NULL;
	}
	*format = PG_ARGISNULL(textarg) ? IDSESS_FORMAT_BYTES : IDSESS_FORMAT_TEXT;
	t = PG_GETARG_BYTEA_PP(PG_ARGISNULL(textarg) ? byteaarg : textarg);
	idsess_check_ticket_size(VARSIZE_ANY_EXHDR(t));
	return t;
}

static bytea *
seal_ticket(text *key, char format, bytea *ticket, int32 *key_id)
{
	return idsess_seal_ticket(format, VARDATA_ANY(key), VARSIZE_ANY_EXHDR(key),
							  VARDATA_ANY(ticket), VARSIZE_ANY_EXHDR(ticket),
							  key_id);
}

static TimestampTz
timestamp_arg(FunctionCallInfo fcinfo, int argno, bool *never)
{
	TimestampTz ts = PG_GETARG_TIMESTAMPTZ(argno);

	*never = TIMESTAMP_IS_NOEND(ts);
	if (TIMESTAMP_IS_NOBEGIN(ts))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("a session time cannot be -infinity")));
	return ts;
}

static IdsessQuery q_insert = {
	.sql = "INSERT INTO idsess.sessions (key, scheme, subject_id, session_id, display_name, "
	"created, renewed, expires, idle_timeout, last_active, due, key_id, ticket) "
	"VALUES ($1, $2, $3, $4, $5, $6, $6, $7, $8, $6, "
	"LEAST($7, $6 + $8), $9, $10) "
	"ON CONFLICT (key) DO NOTHING RETURNING id",
	.nargs = 10, .argtypes = {TEXTOID, TEXTOID, TEXTOID, TEXTOID, TEXTOID, TIMESTAMPTZOID,
	TIMESTAMPTZOID, INTERVALOID, INT4OID, BYTEAOID}
};

static Datum
create_session(FunctionCallInfo fcinfo)
{
	text	   *subject = idsess_arg_id(fcinfo, 0, "subject_id", IDSESS_MAX_ID_CHARS);
	text	   *key = idsess_arg_id_opt(fcinfo, 3, "key", IDSESS_MAX_ID_CHARS);
	text	   *sid = idsess_arg_id_opt(fcinfo, 4, "session_id", IDSESS_MAX_ID_CHARS);
	text	   *scheme = idsess_arg_id(fcinfo, 5, "scheme", IDSESS_MAX_ID_CHARS);
	text	   *display = idsess_arg_id_opt(fcinfo, 6, "display_name", IDSESS_MAX_ID_CHARS);
	TimestampTz created = GetCurrentTransactionStartTimestamp();
	TimestampTz expires = 0;
	bool		has_expires = false;
	Interval   *idle = NULL;
	char		format = 0;
	bytea	   *ticket;
	bytea	   *sealed;
	int32		key_id;
	Datum		args[10];
	char		nulls[10];
	TupleDesc	tupdesc;
	Datum		values[IDSESS_SESSION_NATTS + 1];
	bool		isnull[IDSESS_SESSION_NATTS + 1];
	int			limit = idsess_max_sessions_per_subject;
	Datum		ended;

	ticket = ticket_arg(fcinfo, 1, 2, true, &format);
	if (!PG_ARGISNULL(10))
	{
		limit = PG_GETARG_INT32(10);
		if (limit < 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("max_sessions must not be negative"),
					 errhint("Give 0 for no limit."),
					 errhidestmt(true)));
	}

	if (!PG_ARGISNULL(9))
	{
		bool		never;

		created = timestamp_arg(fcinfo, 9, &never);
		if (never)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("created cannot be infinity"),
					 errhidestmt(true)));
	}
	if (!PG_ARGISNULL(7))
	{
		bool		never;

		expires = timestamp_arg(fcinfo, 7, &never);
		has_expires = !never;
		if (has_expires && expires < created)
			ereport(ERROR,
					(errcode(ERRCODE_CHECK_VIOLATION),
					 errmsg("expires must not be before created"),
					 errhint("Give a later expires, or NULL for a session that never expires."),
					 errhidestmt(true)));
	}
	if (!PG_ARGISNULL(8))
	{
		Interval   *iv = PG_GETARG_INTERVAL_P(8);

		if (iv->time < 0 || iv->day < 0 || iv->month < 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("idle_timeout must not be negative"),
					 errhint("Give 0 to turn the inactivity timeout off for this session."),
					 errhidestmt(true)));
		if (iv->time > 0 || iv->day > 0 || iv->month > 0)
			idle = iv;
	}
	else if (idsess_idle_timeout_s > 0)
	{
		idle = palloc0(sizeof(Interval));
		idle->time = (int64) idsess_idle_timeout_s * USECS_PER_SEC;
	}

	if (key == NULL)
		key = hex_id(32);
	if (sid == NULL)
		sid = hex_id(16);

	sealed = seal_ticket(key, format, ticket, &key_id);

	args[0] = PointerGetDatum(key);
	args[1] = PointerGetDatum(scheme);
	args[2] = PointerGetDatum(subject);
	args[3] = PointerGetDatum(sid);
	args[4] = PointerGetDatum(display);
	args[5] = TimestampTzGetDatum(created);
	args[6] = TimestampTzGetDatum(expires);
	args[7] = PointerGetDatum(idle);
	args[8] = Int32GetDatum(key_id);
	args[9] = PointerGetDatum(sealed);
	memset(nulls, ' ', sizeof(nulls));
	nulls[4] = display ? ' ' : 'n';
	nulls[6] = has_expires ? ' ' : 'n';
	nulls[7] = idle ? ' ' : 'n';

	/* ended is returned after SPI_finish: built in this memory context. */
	ended = DirectFunctionCall1(jsonb_in, CStringGetDatum("[]"));
	idsess_spi_connect();
	if (limit > 0)
		ended = idsess_apply_session_limit(subject, limit);
	if (idsess_spi_run(&q_insert, args, nulls, false, 1) == 0)
		ereport(ERROR,
				(errcode(ERRCODE_UNIQUE_VIOLATION),
				 errmsg("a session with this key already exists"),
				 errhint("Session keys must be unique; omit key to have one generated."),
				 errhidestmt(true)));

	/*
	 * Checked after the insert: the insert waited for any uncommitted
	 * revocation that deleted a session with this key, whose tombstone the
	 * check (with the latest snapshot) then sees.
	 */
	if (idsess_key_is_revoked(key))
		ereport(ERROR,
				(errcode(IDSESS_ERRCODE_REVOKED),
				 errmsg("a session with this key was revoked"),
				 errdetail("A revoked key stays revoked until the session would have expired."),
				 errhint("Do not save a revoked session again; sign the user in anew, with a new key."),
				 errhidestmt(true)));
	SPI_finish();
	idsess_count(IDSESS_EV_CREATED, 1);

	/* The worker must wake at the earlier of expiry and the idle deadline. */
	if (has_expires || idle)
	{
		TimestampTz due = has_expires ? expires : DT_NOEND;

		if (idle)
			due = Min(due, DatumGetTimestampTz(DirectFunctionCall2(timestamptz_pl_interval,
																   TimestampTzGetDatum(created),
																   PointerGetDatum(idle))));
		idsess_nudge_worker(due);
	}

	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	memset(isnull, true, sizeof(isnull));
	values[A_KEY] = PointerGetDatum(key);
	values[A_SCHEME] = PointerGetDatum(scheme);
	values[A_SUBJECT] = PointerGetDatum(subject);
	values[A_SID] = PointerGetDatum(sid);
	values[A_DISPLAY] = PointerGetDatum(display);
	values[A_CREATED] = values[A_RENEWED] = values[A_LAST_ACTIVE] = TimestampTzGetDatum(created);
	values[A_EXPIRES] = TimestampTzGetDatum(expires);
	values[A_IDLE] = PointerGetDatum(idle);
	values[A_CLIENTS] = PointerGetDatum(construct_empty_array(TEXTOID));
	values[A_SAML] = DirectFunctionCall1(jsonb_in, CStringGetDatum("[]"));
	isnull[A_KEY] = isnull[A_SCHEME] = isnull[A_SUBJECT] = isnull[A_SID] = false;
	isnull[A_DISPLAY] = display == NULL;
	isnull[A_CREATED] = isnull[A_RENEWED] = isnull[A_LAST_ACTIVE] = false;
	isnull[A_EXPIRES] = !has_expires;
	isnull[A_IDLE] = idle == NULL;
	isnull[A_CLIENTS] = isnull[A_SAML] = false;
	values[A_ENDED] = ended;
	isnull[A_ENDED] = false;
	tupdesc = BlessTupleDesc(tupdesc);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(tupdesc, values, isnull)));
}

/*
 * Runs body with the statement hidden from the server log if it fails.  The
 * ticket is an argument of the statement, which log_min_error_statement
 * would log (ticket and all, when sent as a literal) with any error: an
 * argument check, the size limit, the key file, sealing, SPI.  Hiding every
 * error here, rather than marking each ereport, leaves none out.
 */
static Datum
hiding_statement(Datum (*body) (FunctionCallInfo), FunctionCallInfo fcinfo)
{
	MemoryContext cxt = CurrentMemoryContext;
	Datum		result = (Datum) 0;

	PG_TRY();
	{
		result = body(fcinfo);
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		MemoryContextSwitchTo(cxt);
		edata = CopyErrorData();
		FlushErrorState();
		edata->hide_stmt = true;
		ReThrowError(edata);
	}
	PG_END_TRY();
	return result;
}

Datum
idsess_create(PG_FUNCTION_ARGS)
{
	return hiding_statement(create_session, fcinfo);
}

Datum
idsess_update(PG_FUNCTION_ARGS)
{
	return hiding_statement(update_session, fcinfo);
}

/*
 * The result of a function that returns opened tickets.
 *
 * The executor would keep a set-returning function's rows in a tuplestore
 * that spills to a temporary file past work_mem (also for value-per-call
 * functions called in FROM, which it materializes itself).  So these
 * functions materialize into a tuplestore of their own that is never
 * written to disk, and bound what they put in it instead
 * (idsess_check_opened).  The caller's own query can still spill the rows
 * (a sort, a CTE): README says to select tickets plainly.
 */
Tuplestorestate *
idsess_ticket_srf(FunctionCallInfo fcinfo)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	MemoryContext old;
	TupleDesc	desc;

	if (rsinfo == NULL || !IsA(rsinfo, ReturnSetInfo) ||
		(rsinfo->allowedModes & SFRM_Materialize) == 0)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("set-valued function called in context that cannot accept a set")));
	old = MemoryContextSwitchTo(rsinfo->econtext->ecxt_per_query_memory);
	if (get_call_result_type(fcinfo, NULL, &desc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	rsinfo->setDesc = CreateTupleDescCopy(desc);
	/* A memory bound no result reaches: it never spills. */
	rsinfo->setResult = tuplestore_begin_heap((rsinfo->allowedModes & SFRM_Materialize_Random) != 0,
											  false, MAX_KILOBYTES);
	rsinfo->returnMode = SFRM_Materialize;
	MemoryContextSwitchTo(old);
	return rsinfo->setResult;
}

/*
 * Counts `len` more bytes of opened tickets into *opened, refusing to go past
 * the bound of one call: work_mem or 16 tickets of idsess.max_ticket_size,
 * whichever is more.
 */
void
idsess_check_opened(Size *opened, Size len)
{
	Size		limit = (Size) Max(work_mem, 16 * idsess_max_ticket_kb) * 1024;

	*opened += len;
	if (*opened > limit)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("the sessions' tickets are too large to return at once"),
				 errdetail("One call returns at most %zu kB of tickets.", limit / 1024),
				 errhint("Open them one at a time with idsess_get, or raise work_mem.")));
}

/*
 * Puts every row of the current SPI result (selected with
 * IDSESS_SESSION_COLS) into tupstore with its ticket opened.  Each row is
 * built in a memory context of its own, reset after the row: the detoasted
 * seal and the plaintext of one row at a time, the plaintext wiped first.
 */
static void
emit_sessions(Tuplestorestate *tupstore, TupleDesc desc, int nrows)
{
	MemoryContext rowcxt = AllocSetContextCreate(CurrentMemoryContext, "idsess session row",
												 ALLOCSET_DEFAULT_SIZES);
	Size		opened = 0;
	bytea	   *volatile plain = NULL;

	PG_TRY();
	{
		for (int i = 0; i < nrows; i++)
		{
			MemoryContext old = MemoryContextSwitchTo(rowcxt);
			Datum		values[IDSESS_SESSION_NATTS];
			bool		nulls[IDSESS_SESSION_NATTS];
			bool		isnull;
			text	   *key;
			char		format;

			CHECK_FOR_INTERRUPTS();
			/* Rows point into SPI's result: the tuplestore copies them. */
			for (int c = 0; c < A_TICKET; c++)
				values[c] = idsess_spi_get(i, c + 1, &nulls[c]);
			key = DatumGetTextPP(values[A_KEY]);
			plain = idsess_unseal(DatumGetByteaPP(idsess_spi_get(i, 13, &isnull)), &format,
								  VARDATA_ANY(key), VARSIZE_ANY_EXHDR(key));
			if (format != IDSESS_FORMAT_TEXT && format != IDSESS_FORMAT_BYTES)
				ereport(ERROR,
						(errcode(ERRCODE_DATA_CORRUPTED),
						 errmsg("sealed ticket has an unknown format")));
			idsess_check_opened(&opened, VARSIZE(plain));
			nulls[A_TICKET] = format != IDSESS_FORMAT_TEXT;
			nulls[A_TICKET_BYTES] = format != IDSESS_FORMAT_BYTES;
			values[A_TICKET] = values[A_TICKET_BYTES] = PointerGetDatum(plain);
			tuplestore_putvalues(tupstore, desc, values, nulls);
			explicit_bzero(plain, VARSIZE(plain));
			plain = NULL;
			MemoryContextSwitchTo(old);
			MemoryContextReset(rowcxt);
		}
	}
	PG_CATCH();
	{
		if (plain)
			explicit_bzero(plain, VARSIZE(plain));
		PG_RE_THROW();
	}
	PG_END_TRY();
	MemoryContextDelete(rowcxt);
}

static IdsessQuery q_lock_for_update = {
	.sql = "SELECT s.id, s.created FROM idsess.sessions s WHERE s.key = $1 AND " IDSESS_LIVE
	" FOR NO KEY UPDATE",
	.nargs = 1, .argtypes = {TEXTOID}
};

static IdsessQuery q_update = {
	.sql = "UPDATE idsess.sessions SET renewed = $2, last_active = $2, "
	"expires = CASE WHEN $3 THEN $4 ELSE expires END, "
	"due = LEAST(CASE WHEN $3 THEN $4 ELSE expires END, $2 + idle_timeout), "
	"key_id = COALESCE($5, key_id), ticket = COALESCE($6, ticket), "
	"display_name = COALESCE($7, display_name) "
	"WHERE id = $1 RETURNING due",
	.nargs = 7, .argtypes = {INT8OID, TIMESTAMPTZOID, BOOLOID, TIMESTAMPTZOID, INT4OID, BYTEAOID, TEXTOID}
};

static Datum
update_session(FunctionCallInfo fcinfo)
{
	text	   *key = idsess_arg_id(fcinfo, 0, "key", IDSESS_MAX_ID_CHARS);
	text	   *display = idsess_arg_id_opt(fcinfo, 5, "display_name", IDSESS_MAX_ID_CHARS);
	TimestampTz renewed = GetCurrentTransactionStartTimestamp();
	TimestampTz expires = 0;
	bool		set_expires = false;
	bool		never = false;
	char		format = 0;
	bytea	   *ticket;
	bytea	   *sealed = NULL;
	int32		key_id = 0;
	Datum		arg;
	Datum		args[7];
	char		nulls[7];
	int64		id;
	TimestampTz created;
	bool		isnull;

	ticket = ticket_arg(fcinfo, 1, 2, false, &format);
	if (!PG_ARGISNULL(3))
	{
		expires = timestamp_arg(fcinfo, 3, &never);
		set_expires = true;
	}
	if (!PG_ARGISNULL(4))
	{
		bool		inf;

		renewed = timestamp_arg(fcinfo, 4, &inf);
		if (inf)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("renewed cannot be infinity"),
					 errhidestmt(true)));
	}

	idsess_spi_connect();
	arg = PointerGetDatum(key);
	if (idsess_spi_run(&q_lock_for_update, &arg, NULL, false, 1) == 0)
	{
		/* "Revoked" must not read as "gone": gone invites a create. */
		if (idsess_key_is_revoked(key))
			ereport(ERROR,
					(errcode(IDSESS_ERRCODE_REVOKED),
					 errmsg("session was revoked"),
					 errdetail("A revoked key stays revoked until the session would have expired."),
					 errhint("Do not create the session again; sign the user in anew."),
					 errhidestmt(true)));
		SPI_finish();
		PG_RETURN_BOOL(false);
	}
	id = DatumGetInt64(idsess_spi_get(0, 1, &isnull));
	created = DatumGetTimestampTz(idsess_spi_get(0, 2, &isnull));
	if (set_expires && !never && expires < created)
		ereport(ERROR,
				(errcode(ERRCODE_CHECK_VIOLATION),
				 errmsg("expires must not be before the session was created"),
				 errhint("Give a later expires, or infinity for a session that never expires."),
				 errhidestmt(true)));

	if (ticket)
		sealed = seal_ticket(key, format, ticket, &key_id);

	args[0] = Int64GetDatum(id);
	args[1] = TimestampTzGetDatum(renewed);
	args[2] = BoolGetDatum(set_expires);
	args[3] = TimestampTzGetDatum(expires);
	args[4] = Int32GetDatum(key_id);
	args[5] = PointerGetDatum(sealed);
	args[6] = PointerGetDatum(display);
	memset(nulls, ' ', sizeof(nulls));
	nulls[3] = (set_expires && !never) ? ' ' : 'n';
	nulls[4] = sealed ? ' ' : 'n';
	nulls[5] = sealed ? ' ' : 'n';
	nulls[6] = display ? ' ' : 'n';
	idsess_spi_run(&q_update, args, nulls, false, 1);
	{
		Datum		due = idsess_spi_get(0, 1, &isnull);

		if (!isnull)
			idsess_nudge_worker(DatumGetTimestampTz(due));
	}
	SPI_finish();
	PG_RETURN_BOOL(true);
}

static IdsessQuery q_touch = {
	.sql = "UPDATE idsess.sessions s SET last_active = pg_catalog.now() "
	"WHERE s.key = $1 AND " IDSESS_LIVE,
	.nargs = 1, .argtypes = {TEXTOID}
};

Datum
idsess_touch(PG_FUNCTION_ARGS)
{
	text	   *key = idsess_arg_id(fcinfo, 0, "key", IDSESS_MAX_ID_CHARS);
	Datum		arg = PointerGetDatum(key);
	int			n;

	idsess_spi_connect();
	n = idsess_spi_run(&q_touch, &arg, NULL, false, 1);
	SPI_finish();
	PG_RETURN_BOOL(n > 0);
}

/*
 * The children of the sessions whose ids are in `ids` (int8[]) are deleted
 * and returned, one row per id in the order of `ids`: (clients text[],
 * saml_sessions jsonb), the clients (and SAML entities) limited to
 * client_filter when it is not NULL.  With to_outbox, a back-channel logout
 * row per session goes to idsess.logout_outbox with the cause, subject and
 * sid from the parallel arrays.
 *
 * This runs as its own statement, after the sessions were deleted, so that
 * it sees children added by transactions that committed while the delete
 * waited for their row locks.
 */
static IdsessQuery q_delete_children = {
	.sql = "WITH u AS (SELECT * FROM ROWS FROM (pg_catalog.unnest($1::pg_catalog.int8[]), "
	"pg_catalog.unnest($2::pg_catalog.text[]), pg_catalog.unnest($3::pg_catalog.text[]), "
	"pg_catalog.unnest($4::pg_catalog.text[])) WITH ORDINALITY AS u(id, cause, subject_id, session_id, ord)), "
	"c AS (DELETE FROM idsess.session_clients WHERE session = ANY ($1) "
	"RETURNING session, client_id, added), "
	"m AS (DELETE FROM idsess.session_saml WHERE session = ANY ($1) "
	"RETURNING session, entity_id, session_index, name_id, name_id_format, added), "
	"ca AS (SELECT session, pg_catalog.array_agg(client_id ORDER BY added, client_id) AS clients "
	"FROM c WHERE $5::pg_catalog.text[] IS NULL OR client_id = ANY ($5) GROUP BY session), "
	"ma AS (SELECT session, pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object("
	"'entity_id', entity_id, 'session_index', session_index, 'name_id', name_id, "
	"'name_id_format', name_id_format) ORDER BY added, entity_id, session_index) AS saml "
	"FROM m WHERE $5::pg_catalog.text[] IS NULL OR entity_id = ANY ($5) GROUP BY session), "
	"r AS (SELECT u.ord, u.cause, u.subject_id, u.session_id, "
	"COALESCE(ca.clients, '{}') AS clients, "
	"COALESCE(ma.saml, '[]'::pg_catalog.jsonb) AS saml "
	"FROM u LEFT JOIN ca ON ca.session = u.id LEFT JOIN ma ON ma.session = u.id), "
	"o AS (INSERT INTO idsess.logout_outbox (cause, subject_id, session_id, clients, saml_sessions) "
	"SELECT cause, subject_id, session_id, clients, saml FROM r WHERE $6 RETURNING 1) "
	"SELECT clients, saml FROM r ORDER BY ord",
	.nargs = 6, .argtypes = {INT8ARRAYOID, TEXTARRAYOID, TEXTARRAYOID, TEXTARRAYOID, TEXTARRAYOID, BOOLOID}
};

int
idsess_delete_children(Datum ids, Datum causes, Datum subjects, Datum sids,
					   Datum client_filter, bool to_outbox)
{
	Datum		args[6];
	char		nulls[6];

	args[0] = ids;
	args[1] = causes;
	args[2] = subjects;
	args[3] = sids;
	args[4] = client_filter;
	args[5] = BoolGetDatum(to_outbox);
	nulls[0] = ' ';
	nulls[1] = causes ? ' ' : 'n';
	nulls[2] = subjects ? ' ' : 'n';
	nulls[3] = sids ? ' ' : 'n';
	nulls[4] = client_filter ? ' ' : 'n';
	nulls[5] = ' ';
	return idsess_spi_run(&q_delete_children, args, nulls, false, 0);
}

/* Deletes sessions by id (already-run DELETE ... RETURNING id in column 1). */
static void
delete_children_of_result(int n)
{
	int64	   *ids = palloc(sizeof(int64) * (n > 0 ? n : 1));
	bool		isnull;

	for (int i = 0; i < n; i++)
		ids[i] = DatumGetInt64(idsess_spi_get(i, 1, &isnull));
	idsess_delete_children(idsess_int8_array(ids, n), (Datum) 0, (Datum) 0,
						   (Datum) 0, (Datum) 0, false);
}

static IdsessQuery q_delete = {
	.sql = "DELETE FROM idsess.sessions WHERE key = $1 RETURNING id",
	.nargs = 1, .argtypes = {TEXTOID}
};

Datum
idsess_delete(PG_FUNCTION_ARGS)
{
	text	   *key = idsess_arg_id(fcinfo, 0, "key", IDSESS_MAX_ID_CHARS);
	Datum		arg = PointerGetDatum(key);
	int			n;

	idsess_spi_connect();
	n = idsess_spi_run(&q_delete, &arg, NULL, false, 0);
	if (n > 0)
		delete_children_of_result(n);
	SPI_finish();
	idsess_count(IDSESS_EV_DELETED, n);
	PG_RETURN_BOOL(n > 0);
}

/* Exact filters: one plan per combination, so each can use its index. */
static IdsessQuery q_sessions_by_subject = {
	.sql = "SELECT " IDSESS_SESSION_COLS " FROM idsess.sessions s "
	"WHERE s.subject_id = $1 AND " IDSESS_LIVE " ORDER BY s.id",
	.nargs = 1, .argtypes = {TEXTOID}
};
static IdsessQuery q_sessions_by_sid = {
	.sql = "SELECT " IDSESS_SESSION_COLS " FROM idsess.sessions s "
	"WHERE s.session_id = $1 AND " IDSESS_LIVE " ORDER BY s.id",
	.nargs = 1, .argtypes = {TEXTOID}
};
static IdsessQuery q_sessions_by_both = {
	.sql = "SELECT " IDSESS_SESSION_COLS " FROM idsess.sessions s "
	"WHERE s.subject_id = $1 AND s.session_id = $2 AND " IDSESS_LIVE " ORDER BY s.id",
	.nargs = 2, .argtypes = {TEXTOID, TEXTOID}
};

/* Runs one of three queries by which of subject and sid are given. */
int
idsess_run_exact(IdsessQuery *by_subject, IdsessQuery *by_sid, IdsessQuery *by_both,
				 text *subject, text *sid, bool read_only)
{
	Datum		args[2];

	if (subject && sid)
	{
		args[0] = PointerGetDatum(subject);
		args[1] = PointerGetDatum(sid);
		return idsess_spi_run(by_both, args, NULL, read_only, 0);
	}
	args[0] = PointerGetDatum(subject ? subject : sid);
	return idsess_spi_run(subject ? by_subject : by_sid, args, NULL, read_only, 0);
}

Datum
idsess_get_sessions(PG_FUNCTION_ARGS)
{
	text	   *subject = idsess_arg_id_opt(fcinfo, 0, "subject_id", IDSESS_MAX_ID_CHARS);
	text	   *sid = idsess_arg_id_opt(fcinfo, 1, "session_id", IDSESS_MAX_ID_CHARS);
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	Tuplestorestate *tupstore;
	int			n;

	idsess_require_filter(subject, sid);
	tupstore = idsess_ticket_srf(fcinfo);
	idsess_spi_connect();
	n = idsess_run_exact(&q_sessions_by_subject, &q_sessions_by_sid, &q_sessions_by_both,
						 subject, sid, true);
	emit_sessions(tupstore, rsinfo->setDesc, n);
	SPI_finish();
	return (Datum) 0;
}

static IdsessQuery q_delete_by_subject = {
	.sql = "DELETE FROM idsess.sessions WHERE subject_id = $1 RETURNING id",
	.nargs = 1, .argtypes = {TEXTOID}
};
static IdsessQuery q_delete_by_sid = {
	.sql = "DELETE FROM idsess.sessions WHERE session_id = $1 RETURNING id",
	.nargs = 1, .argtypes = {TEXTOID}
};
static IdsessQuery q_delete_by_both = {
	.sql = "DELETE FROM idsess.sessions WHERE subject_id = $1 AND session_id = $2 RETURNING id",
	.nargs = 2, .argtypes = {TEXTOID, TEXTOID}
};

Datum
idsess_delete_sessions(PG_FUNCTION_ARGS)
{
	text	   *subject = idsess_arg_id_opt(fcinfo, 0, "subject_id", IDSESS_MAX_ID_CHARS);
	text	   *sid = idsess_arg_id_opt(fcinfo, 1, "session_id", IDSESS_MAX_ID_CHARS);
	int			n;

	idsess_require_filter(subject, sid);
	idsess_spi_connect();
	n = idsess_run_exact(&q_delete_by_subject, &q_delete_by_sid, &q_delete_by_both,
						 subject, sid, false);
	if (n > 0)
		delete_children_of_result(n);
	SPI_finish();
	idsess_count(IDSESS_EV_DELETED, n);
	PG_RETURN_INT64(n);
}

Datum
idsess_take_expired(PG_FUNCTION_ARGS)
{
	int			count = idsess_arg_count(fcinfo, 0, 100, 100000);
	ReturnSetInfo *rsinfo;

	InitMaterializedSRF(fcinfo, 0);
	rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	idsess_expire_batch(count, false, rsinfo->setResult, rsinfo->setDesc, NULL);
	return (Datum) 0;
}

static IdsessQuery q_lock_live = {
	.sql = "SELECT s.id FROM idsess.sessions s WHERE s.key = $1 AND " IDSESS_LIVE
	" FOR KEY SHARE",
	.nargs = 1, .argtypes = {TEXTOID}
};
static IdsessQuery q_find_any = {
	.sql = "SELECT expires FROM idsess.sessions WHERE key = $1",
	.nargs = 1, .argtypes = {TEXTOID}
};

/*
 * Locks a live session against deletion (FOR KEY SHARE, which concurrent
 * adders share) and returns its id; an unknown or expired session is an
 * error.  The caller is connected to SPI.
 */
int64
idsess_lock_live_session(text *key)
{
	Datum		arg = PointerGetDatum(key);
	bool		isnull;

	if (idsess_spi_run(&q_lock_live, &arg, NULL, false, 1) > 0)
		return DatumGetInt64(idsess_spi_get(0, 1, &isnull));

	/* A fresh snapshot: a revoke we waited for must not look like expiry. */
	if (idsess_spi_run(&q_find_any, &arg, NULL, false, 1) > 0)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("session has expired"),
				 errdetail("The session is past its expiry or inactivity timeout and awaits removal."),
				 errhint("Sign the user in again to create a new session.")));
	ereport(ERROR,
			(errcode(ERRCODE_NO_DATA_FOUND),
			 errmsg("session not found"),
			 errdetail("No session has this key."),
			 errhint("The session may have been revoked, deleted or expired.")));
	pg_unreachable();
}
