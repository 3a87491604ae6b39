/*-------------------------------------------------------------------------
 *
 * expire.c
 *		Removing expired and idle sessions, one batch per call: shared by
 *		idsess_take_expired() and the background worker.
 *
 * A batch locks at most `limit` due rows in (due, id) order with FOR UPDATE
 * SKIP LOCKED, so concurrent callers never take the same session, never wait
 * on each other and never lock more than one batch.  The due test is
 * rechecked by PostgreSQL against the newest row version under the lock,
 * and whether a locked row is dead is computed from that version: a session
 * renewed or touched at the last instant is not removed.  Idle-timeout
 * sessions that were touched since their due time are given their next due
 * time instead (touch does not move `due`, to stay a HOT update).
 *
 *-------------------------------------------------------------------------
 */
#include "idsess.h"

#include "catalog/pg_type.h"
#include "fmgr.h"
#include "funcapi.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/guc.h"

/*
 * Locks the next batch of due sessions, in (due, id) order from the cursor,
 * and says which are dead (expired, or idle too long) under the lock.  It
 * must walk the (due, id) index and stop at the limit: planned with stale
 * statistics during a large backlog, a bitmap scan and sort of every due
 * row would make each batch read the whole backlog, so those plans are
 * turned off while it is planned and run.
 */
#define DUE_BATCH \
	"SELECT s.id, NOT (" IDSESS_LIVE ") AS dead, s.due FROM idsess.sessions s " \
	"WHERE s.due <= pg_catalog.now() "
static IdsessQuery q_lock_due = {
	.sql = DUE_BATCH "ORDER BY s.due, s.id LIMIT $1 FOR UPDATE SKIP LOCKED",
	.nargs = 1, .argtypes = {INT4OID}
};
static IdsessQuery q_lock_due_after = {
	.sql = DUE_BATCH "AND (s.due, s.id) > ($2, $3) "
	"ORDER BY s.due, s.id LIMIT $1 FOR UPDATE SKIP LOCKED",
	.nargs = 3, .argtypes = {INT4OID, TIMESTAMPTZOID, INT8OID}
};

static IdsessQuery q_reschedule = {
	.sql = "UPDATE idsess.sessions SET due = LEAST(expires, last_active + idle_timeout) "
	"WHERE id = ANY ($1)",
	.nargs = 1, .argtypes = {INT8ARRAYOID}
};

/* [0]: a 1.0 schema, [1]: 1.1 (with the issuer). */
#define REMOVE(issuer) \
	"DELETE FROM idsess.sessions x WHERE x.id = ANY ($1) " \
	"RETURNING x.id, CASE WHEN x.expires <= pg_catalog.now() THEN 'expired' ELSE 'idle' END, " \
	"x.key, x.scheme, x.subject_id, x.session_id, x.display_name, x.created, " \
	"x.renewed, x.expires, x.last_active, x.idle_timeout, x.ticket, " issuer
static IdsessQuery q_remove[2] = {
	{.sql = REMOVE("NULL::pg_catalog.text"), .nargs = 1, .argtypes = {INT8ARRAYOID}},
	{.sql = REMOVE("x.issuer"), .nargs = 1, .argtypes = {INT8ARRAYOID}}
};

/*
 * Removes up to `limit` due sessions that are expired or idle, with their
 * clients and SAML SP sessions, and gives touched idle-timeout sessions
 * among them their next due time.  With to_outbox, each removed session gets
 * a back-channel logout row in idsess.logout_outbox.  With `out`, each is
 * also added to it as an idsess.session with its sealed ticket in
 * ticket_bytes (idsess_open_session_rows opens or drops it).
 *
 * With a cursor, the batch starts after the cursor's (due, id) and the
 * cursor moves to the batch's last row, so a caller going through a backlog
 * batch by batch never scans the rows earlier batches deleted (their index
 * entries stay until vacuum).  Without one, it starts at the beginning.
 */
IdsessExpired
idsess_expire_batch(int limit, bool to_outbox, Tuplestorestate *out, TupleDesc outdesc,
					IdsessDueCursor *cursor)
{
	IdsessExpired result = {0, 0, 0};
	Datum		args[3];
	SPITupleTable *removed;
	int			n;
	int			ndead = 0;
	int			nlive = 0;
	int64	   *dead;
	int64	   *live;
	Datum	   *causes;
	Datum	   *subjects;
	bool	   *subject_nulls;
	Datum	   *sids;
	Datum	   *issuers;
	bool	   *issuer_nulls;
	bool		isnull;
	int			save_nestlevel;

	idsess_spi_connect();
	args[0] = Int32GetDatum(limit);
	save_nestlevel = NewGUCNestLevel();
	(void) set_config_option("enable_bitmapscan", "off", PGC_USERSET, PGC_S_SESSION,
							 GUC_ACTION_SAVE, true, 0, false);
	(void) set_config_option("enable_sort", "off", PGC_USERSET, PGC_S_SESSION,
							 GUC_ACTION_SAVE, true, 0, false);
	if (cursor && cursor->valid)
	{
		args[1] = TimestampTzGetDatum(cursor->due);
		args[2] = Int64GetDatum(cursor->id);
		n = idsess_spi_run(&q_lock_due_after, args, NULL, false, 0);
	}
	else
		n = idsess_spi_run(&q_lock_due, args, NULL, false, 0);
	AtEOXact_GUC(true, save_nestlevel);
	result.locked = n;
	if (n == 0)
	{
		SPI_finish();
		return result;
	}
	if (cursor)
	{
		cursor->valid = true;
		cursor->id = DatumGetInt64(idsess_spi_get(n - 1, 1, &isnull));
		cursor->due = DatumGetTimestampTz(idsess_spi_get(n - 1, 3, &isnull));
	}
	dead = palloc(sizeof(int64) * n);
	live = palloc(sizeof(int64) * n);
	for (int i = 0; i < n; i++)
	{
		int64		id = DatumGetInt64(idsess_spi_get(i, 1, &isnull));

		if (DatumGetBool(idsess_spi_get(i, 2, &isnull)))
			dead[ndead++] = id;
		else
			live[nlive++] = id;
	}
	if (nlive > 0)
		result.rescheduled = idsess_spi_run_arg(&q_reschedule, idsess_int8_array(live, nlive));
	if (ndead == 0)
	{
		SPI_finish();
		return result;
	}

	n = idsess_spi_run_arg(&q_remove[idsess_schema_1_1()], idsess_int8_array(dead, ndead));
	result.removed = n;
	removed = SPI_tuptable;
	causes = palloc(sizeof(Datum) * (n > 0 ? n : 1));
	subjects = palloc(sizeof(Datum) * (n > 0 ? n : 1));
	subject_nulls = palloc(sizeof(bool) * (n > 0 ? n : 1));
	sids = palloc(sizeof(Datum) * (n > 0 ? n : 1));
	issuers = palloc(sizeof(Datum) * (n > 0 ? n : 1));
	issuer_nulls = palloc(sizeof(bool) * (n > 0 ? n : 1));
	for (int i = 0; i < n; i++)
	{
		dead[i] = DatumGetInt64(idsess_spi_get(i, 1, &isnull));
		causes[i] = idsess_spi_get(i, 2, &isnull);
		subjects[i] = idsess_spi_get(i, 5, &subject_nulls[i]);
		sids[i] = idsess_spi_get(i, 6, &isnull);
		issuers[i] = idsess_spi_get(i, 14, &issuer_nulls[i]);
		idsess_count(strcmp(TextDatumGetCString(causes[i]), "idle") == 0 ?
					 IDSESS_EV_IDLE : IDSESS_EV_EXPIRED, 1);
	}
	idsess_delete_children(idsess_int8_array(dead, n),
						   idsess_text_array(causes, n),
						   idsess_text_array_nulls(subjects, subject_nulls, n),
						   idsess_text_array(sids, n),
						   idsess_text_array_nulls(issuers, issuer_nulls, n),
						   (Datum) 0, to_outbox);

	if (out)
	{
		for (int i = 0; i < n; i++)
		{
			Datum		values[IDSESS_SESSION_NATTS_11];
			bool		nulls[IDSESS_SESSION_NATTS_11];

			/*
			 * key .. idle_timeout from the DELETE, then clients and SAML, the
			 * sealed ticket; 1.1's issuer and client sids.
			 */
			for (int c = 0; c < 10; c++)
				values[c] = SPI_getbinval(removed->vals[i], removed->tupdesc, c + 3, &nulls[c]);
			values[10] = idsess_spi_get(i, 1, &nulls[10]);
			values[11] = idsess_spi_get(i, 2, &nulls[11]);
			nulls[12] = true;
			values[13] = SPI_getbinval(removed->vals[i], removed->tupdesc, 13, &nulls[13]);
			values[14] = SPI_getbinval(removed->vals[i], removed->tupdesc, 14, &nulls[14]);
			values[15] = idsess_spi_get(i, 3, &nulls[15]);
			tuplestore_putvalues(out, outdesc, values, nulls);
		}
	}
	SPI_finish();
	return result;
}

/*
 * Whether sessions already due remain (rows that other transactions held
 * locked while the batches ran, or that were committed since), and the
 * earliest due time still to come.  Both walk the (due, id) index.
 */
static IdsessQuery q_next_due = {
	.sql = "SELECT EXISTS (SELECT FROM idsess.sessions s WHERE s.due <= pg_catalog.now()), "
	"(SELECT s.due FROM idsess.sessions s WHERE s.due > pg_catalog.now() ORDER BY s.due LIMIT 1)",
	.nargs = 0
};

/*
 * The earliest due time after now() in *due (false when no session will
 * fall due), and in *overdue whether any session is due already.
 */
bool
idsess_next_due(TimestampTz *due, bool *overdue)
{
	bool		found = false;
	bool		isnull;

	idsess_spi_connect();
	*overdue = false;
	if (idsess_spi_run(&q_next_due, NULL, NULL, true, 1) > 0)
	{
		*overdue = DatumGetBool(idsess_spi_get(0, 1, &isnull));
		*due = DatumGetTimestampTz(idsess_spi_get(0, 2, &isnull));
		found = !isnull;
	}
	SPI_finish();
	return found;
}

PG_FUNCTION_INFO_V1(idsess_take_logouts);

/* [0]: a 1.0 schema, [1]: 1.1 (with the issuer and the clients' sids). */
#define TAKE_LOGOUTS(more) \
	"DELETE FROM idsess.logout_outbox x WHERE x.id IN (SELECT o.id FROM idsess.logout_outbox o " \
	"ORDER BY o.id LIMIT $1 FOR UPDATE SKIP LOCKED) " \
	"RETURNING x.id, x.queued, x.cause, x.subject_id, x.session_id, x.clients, x.saml_sessions" more
static IdsessQuery q_take_logouts[2] = {
	{.sql = TAKE_LOGOUTS(""), .nargs = 1, .argtypes = {INT4OID}},
	{.sql = TAKE_LOGOUTS(", x.issuer, x.client_sids"), .nargs = 1, .argtypes = {INT4OID}}
};

/*
 * Drains the back-channel logout outbox.  The rows are deleted in the
 * caller's transaction: a caller that rolls back, or dies, gives them back,
 * so each logout is delivered at least once.
 */
Datum
idsess_take_logouts(PG_FUNCTION_ARGS)
{
	int			count = idsess_arg_count(fcinfo, 0, 100, 100000);
	Datum		arg = Int32GetDatum(count);
	ReturnSetInfo *rsinfo;
	int			n;
	int			v11;

	InitMaterializedSRF(fcinfo, 0);
	rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	idsess_spi_connect();
	v11 = rsinfo->setDesc->natts > 7;
	n = idsess_spi_run(&q_take_logouts[v11], &arg, NULL, false, 0);
	for (int i = 0; i < n; i++)
	{
		Datum		values[9];
		bool		nulls[9];

		for (int c = 0; c < (v11 ? 9 : 7); c++)
			values[c] = idsess_spi_get(i, c + 1, &nulls[c]);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	SPI_finish();
	return (Datum) 0;
}
