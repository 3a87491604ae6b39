/*-------------------------------------------------------------------------
 *
 * expire.c
 *		Removing expired and idle sessions, one batch per call: shared by
 *		idsess_take_expired() and the background worker.
 *
 * A batch takes at most `limit` due rows in due order with FOR UPDATE SKIP
 * LOCKED, so concurrent callers never take the same session, never wait on
 * each other and never lock more than one batch.  The expiry test is part
 * of the locking subquery, so PostgreSQL rechecks it against the newest row
 * version under the lock: a session renewed or touched at the last instant
 * is not removed.  Idle-timeout sessions that were touched since their due
 * time are given their next due time instead (touch does not move `due`,
 * to stay a HOT update).
 *
 *-------------------------------------------------------------------------
 */
#include "idsess.h"

#include "catalog/pg_type.h"
#include "fmgr.h"
#include "funcapi.h"
#include "utils/array.h"
#include "utils/builtins.h"

static IdsessQuery q_reschedule = {
	.sql = "UPDATE idsess.sessions x "
	"SET due = LEAST(x.expires, x.last_active + x.idle_timeout) "
	"WHERE x.id IN (SELECT s.id FROM idsess.sessions s "
	"WHERE s.due <= pg_catalog.now() AND " IDSESS_LIVE
	" ORDER BY s.due LIMIT $1 FOR UPDATE SKIP LOCKED)",
	.nargs = 1, .argtypes = {INT4OID}
};

static IdsessQuery q_remove = {
	.sql = "DELETE FROM idsess.sessions x "
	"WHERE x.id IN (SELECT s.id FROM idsess.sessions s "
	"WHERE s.due <= pg_catalog.now() AND NOT (" IDSESS_LIVE ")"
	" ORDER BY s.due LIMIT $1 FOR UPDATE SKIP LOCKED) "
	"RETURNING x.id, CASE WHEN x.expires <= pg_catalog.now() THEN 'expired' ELSE 'idle' END, "
	"x.key, x.scheme, x.subject_id, x.session_id, x.display_name, x.created, "
	"x.renewed, x.expires, x.last_active, x.idle_timeout",
	.nargs = 1, .argtypes = {INT4OID}
};

/*
 * Removes up to `limit` expired or idle sessions with their clients and SAML
 * SP sessions.  With to_outbox, each gets a back-channel logout row in
 * idsess.logout_outbox.  With `out`, each is also added to it as an
 * idsess.session (no ticket).
 */
IdsessExpired
idsess_expire_batch(int limit, bool to_outbox, Tuplestorestate *out, TupleDesc outdesc)
{
	IdsessExpired result = {0, 0};
	Datum		arg = Int32GetDatum(limit);
	SPITupleTable *removed;
	int			n;
	int64	   *ids;
	Datum	   *causes;
	Datum	   *subjects;
	Datum	   *sids;
	bool		isnull;

	idsess_spi_connect();
	result.rescheduled = idsess_spi_run(&q_reschedule, &arg, NULL, false, 0);
	n = idsess_spi_run(&q_remove, &arg, NULL, false, 0);
	result.removed = n;
	if (n == 0)
	{
		SPI_finish();
		return result;
	}

	removed = SPI_tuptable;
	ids = palloc(sizeof(int64) * n);
	causes = palloc(sizeof(Datum) * n);
	subjects = palloc(sizeof(Datum) * n);
	sids = palloc(sizeof(Datum) * n);
	for (int i = 0; i < n; i++)
	{
		ids[i] = DatumGetInt64(idsess_spi_get(i, 1, &isnull));
		causes[i] = idsess_spi_get(i, 2, &isnull);
		subjects[i] = idsess_spi_get(i, 5, &isnull);
		sids[i] = idsess_spi_get(i, 6, &isnull);
		idsess_count(strcmp(TextDatumGetCString(causes[i]), "idle") == 0 ?
					 IDSESS_EV_IDLE : IDSESS_EV_EXPIRED, 1);
	}
	idsess_delete_children(idsess_int8_array(ids, n),
						   idsess_text_array(causes, n),
						   idsess_text_array(subjects, n),
						   idsess_text_array(sids, n),
						   (Datum) 0, to_outbox);

	if (out)
	{
		for (int i = 0; i < n; i++)
		{
			Datum		values[IDSESS_SESSION_NATTS];
			bool		nulls[IDSESS_SESSION_NATTS];

			/* key .. idle_timeout from the DELETE, then clients and SAML. */
			for (int c = 0; c < 10; c++)
				values[c] = SPI_getbinval(removed->vals[i], removed->tupdesc, c + 3, &nulls[c]);
			values[10] = idsess_spi_get(i, 1, &nulls[10]);
			values[11] = idsess_spi_get(i, 2, &nulls[11]);
			nulls[12] = nulls[13] = true;
			tuplestore_putvalues(out, outdesc, values, nulls);
		}
	}
	SPI_finish();
	return result;
}

static IdsessQuery q_next_due = {
	.sql = "SELECT s.due FROM idsess.sessions s WHERE s.due IS NOT NULL ORDER BY s.due LIMIT 1",
	.nargs = 0
};

/* The earliest due time of any session; false when none will ever be due. */
bool
idsess_next_due(TimestampTz *due)
{
	bool		found = false;
	bool		isnull;

	idsess_spi_connect();
	if (idsess_spi_run(&q_next_due, NULL, NULL, true, 1) > 0)
	{
		*due = DatumGetTimestampTz(idsess_spi_get(0, 1, &isnull));
		found = true;
	}
	SPI_finish();
	return found;
}

PG_FUNCTION_INFO_V1(idsess_take_logouts);

static IdsessQuery q_take_logouts = {
	.sql = "DELETE FROM idsess.logout_outbox x WHERE x.id IN (SELECT o.id FROM idsess.logout_outbox o "
	"ORDER BY o.id LIMIT $1 FOR UPDATE SKIP LOCKED) "
	"RETURNING x.id, x.queued, x.cause, x.subject_id, x.session_id, x.clients, x.saml_sessions",
	.nargs = 1, .argtypes = {INT4OID}
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

	InitMaterializedSRF(fcinfo, 0);
	rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	idsess_spi_connect();
	n = idsess_spi_run(&q_take_logouts, &arg, NULL, false, 0);
	for (int i = 0; i < n; i++)
	{
		Datum		values[7];
		bool		nulls[7];

		for (int c = 0; c < 7; c++)
			values[c] = idsess_spi_get(i, c + 1, &nulls[c]);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	SPI_finish();
	return (Datum) 0;
}
