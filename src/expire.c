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
#include "expire.h"
#include "session_end.h"
#include "arrays.h"
#include "session_rows.h"
#include "session_sql.h"
#include "shmem.h"
#include "spi.h"
#include "stats.h"
#include "validate.h"

#include "access/heapam.h"
#include "access/table.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "fmgr.h"
#include "funcapi.h"
#include "storage/bufmgr.h"
#include "storage/itemptr.h"
#include "storage/procarray.h"
#include "utils/lsyscache.h"
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

/*
 * The removed sessions: row id, cause, the columns of idsess.session from
 * key to idle_timeout, the sealed ticket and the issuer (NULL in a 1.0
 * schema).  R_*: their 1-based positions.
 */
#define CAUSE_11 "CASE WHEN x.expires <= pg_catalog.now() THEN 'expired' ELSE 'idle' END"

/*
 * 1.2: the deadline that came first ends the session (the inactivity
 * deadline wins only when strictly earlier); an expiry that reached the
 * absolute lifetime is the cause max_lifetime.
 */
#define CAUSE_12 "CASE WHEN x.idle_timeout IS NOT NULL " \
	"AND x.last_active + x.idle_timeout <= pg_catalog.now() " \
	"AND (x.expires IS NULL OR x.last_active + x.idle_timeout < x.expires) THEN 'idle' " \
	"WHEN x.expires >= x.lifetime_end THEN 'max_lifetime' ELSE 'expired' END"
#define REMOVE(cause, issuer, tenant) \
	"DELETE FROM idsess.sessions x WHERE x.id = ANY ($1) " \
	"RETURNING x.id, " cause ", " \
	"x.key, x.scheme, x.subject_id, x.session_id, x.display_name, x.created, " \
	"x.renewed, x.expires, x.last_active, x.idle_timeout, x.ticket, " issuer ", x.ctid, " tenant
enum
{
	R_ID = 1, R_CAUSE, R_FIRST, R_TICKET = R_FIRST + IDSESS_S_IDLE + 1, R_ISSUER, R_CTID, R_TENANT
};
#define NO_TEXT "NULL::pg_catalog.text"
static IdsessQuery q_remove_1_0 = {
	.sql = REMOVE(CAUSE_11, NO_TEXT, NO_TEXT), .nargs = 1, .argtypes = {INT8ARRAYOID}
};
static IdsessQuery q_remove = {
	.sql = REMOVE(CAUSE_11, "x.issuer", NO_TEXT), .nargs = 1, .argtypes = {INT8ARRAYOID}
};
static IdsessQuery q_remove_1_2 = {
	.sql = REMOVE(CAUSE_12, "x.issuer", "x.tenant"), .nargs = 1, .argtypes = {INT8ARRAYOID}
};

/*
 * 1.2: sessions ended at their absolute lifetime are an event a security
 * team asks about, so each batch that ends some says so in the audit trail
 * (how many, with how many clients), as revocations do.
 */
static IdsessQuery q_audit_max_lifetime = {
	.sql = "INSERT INTO idsess.audit (action, reason, sessions, clients) "
	"VALUES ('max_lifetime', 'absolute lifetime reached', $1, $2)",
	.nargs = 2, .argtypes = {INT4OID, INT4OID}
};

/*
 * A claim (1.2): the dead sessions stay, out of every batch's reach until
 * the lease ends (their due moves there), and are returned with their
 * clients, as IDSESS_SESSION_COLS_11 selects them.
 */
static IdsessQuery q_claim = {
	.sql = "UPDATE idsess.sessions s SET due = pg_catalog.now() + $2 WHERE s.id = ANY ($1) "
	"RETURNING " IDSESS_SESSION_COLS_11,
	.nargs = 2, .argtypes = {INT8ARRAYOID, INTERVALOID}
};

/* Claimed sessions whose caller is done with them, unless live again. */
static IdsessQuery q_remove_done = {
	.sql = "DELETE FROM idsess.sessions x WHERE x.key = ANY ($1) AND "
	"NOT idsess.session_is_live(x.expires, x.last_active, x.idle_timeout) "
	"RETURNING x.id, " CAUSE_12 ", x.tenant",
	.nargs = 1, .argtypes = {TEXTARRAYOID}
};

/*
 * Claims the dead sessions of a batch for `lease` and adds each to `out`
 * as an idsess.session with its sealed ticket in ticket_bytes.
 */
static int64
claim(int64 *ids, int n, Interval *lease, Tuplestorestate *out, TupleDesc outdesc)
{
	Datum		args[2];

	args[0] = idsess_int8_array(ids, n);
	args[1] = PointerGetDatum(lease);
	n = idsess_spi_run(&q_claim, args, NULL, false, 0);
	for (int i = 0; i < n; i++)
	{
		Datum		values[IDSESS_S_NATTS_1_1];
		bool		nulls[IDSESS_S_NATTS_1_1];

		for (int c = IDSESS_S_KEY; c < IDSESS_S_TICKET; c++)
			values[c] = idsess_spi_get(i, c + 1, &nulls[c]);
		nulls[IDSESS_S_TICKET] = true;
		values[IDSESS_S_TICKET_BYTES] = idsess_spi_get(i, IDSESS_COL_SEALED,
													   &nulls[IDSESS_S_TICKET_BYTES]);
		values[IDSESS_S_ISSUER] = idsess_spi_get(i, IDSESS_COL_ISSUER, &nulls[IDSESS_S_ISSUER]);
		values[IDSESS_S_CLIENT_SIDS] = idsess_spi_get(i, IDSESS_COL_CLIENT_SIDS,
													  &nulls[IDSESS_S_CLIENT_SIDS]);
		tuplestore_putvalues(out, outdesc, values, nulls);
	}
	return n;
}

/*
 * Removes the claimed sessions with these keys (a text[]) that are still
 * dead: their claimer delivered them, so no logout is queued.  A key whose
 * session was removed meanwhile, or replaced by a live one, is passed over.
 * Returns how many were removed.
 */
int
idsess_end_claimed(IdsessApi schema, Datum keys)
{
	IdsessEnding ending = {0};
	bool		isnull;
	int			n;

	idsess_spi_connect();
	n = idsess_spi_run_arg(&q_remove_done, keys);
	ending.schema = schema;
	ending.n = n;
	ending.ids = palloc(sizeof(int64) * Max(n, 1));
	ending.causes = palloc(sizeof(Datum) * Max(n, 1));
	ending.tenants = palloc(sizeof(Datum) * Max(n, 1));
	ending.tenant_nulls = palloc(sizeof(bool) * Max(n, 1));
	for (int i = 0; i < n; i++)
	{
		ending.ids[i] = DatumGetInt64(idsess_spi_get(i, 1, &isnull));
		ending.causes[i] = idsess_spi_get(i, 2, &isnull);
		ending.tenants[i] = idsess_spi_get(i, 3, &ending.tenant_nulls[i]);
	}
	idsess_end_sessions(&ending);
	SPI_finish();
	return n;
}

/*
 * Records in the audit trail the sessions among n just ended (causes, and
 * idsess_end_sessions' result, still the SPI result) that reached their
 * absolute lifetime, if any.
 */
static void
audit_max_lifetime(Datum *causes, int n)
{
	int			sessions = 0;
	int			clients = 0;
	Datum		args[2];

	for (int i = 0; i < n; i++)
	{
		bool		isnull;
		Datum		list;

		if (strcmp(TextDatumGetCString(causes[i]), "max_lifetime") != 0)
			continue;
		sessions++;
		list = idsess_spi_get(i, 1, &isnull);
		if (!isnull)
			clients += ArrayGetNItems(ARR_NDIM(DatumGetArrayTypeP(list)),
									  ARR_DIMS(DatumGetArrayTypeP(list)));
	}
	if (sessions == 0)
		return;
	args[0] = Int32GetDatum(sessions);
	args[1] = Int32GetDatum(clients);
	idsess_spi_run(&q_audit_max_lifetime, args, NULL, false, 0);
}

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
idsess_expire_batch(IdsessApi schema, int limit, bool to_outbox, Tuplestorestate *out,
					TupleDesc outdesc, IdsessDueCursor *cursor, Interval *lease)
{
	IdsessExpired result = {0};
	IdsessEnding ending = {0};
	Datum		args[3];
	SPITupleTable *removed;
	int			n;
	int			ndead = 0;
	int			nlive = 0;
	int64	   *dead;
	int64	   *live;
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

	if (lease)
	{
		Assert(out && schema >= IDSESS_API_1_2);
		result.claimed = claim(dead, ndead, lease, out, outdesc);
		SPI_finish();
		return result;
	}
	n = idsess_spi_run_arg(schema >= IDSESS_API_1_2 ? &q_remove_1_2 :
						   schema >= IDSESS_API_1_1 ? &q_remove : &q_remove_1_0,
						   idsess_int8_array(dead, ndead));
	result.removed = n;
	removed = SPI_tuptable;
	ending.schema = schema;
	ending.n = n;
	ending.ids = dead;
	ending.to_outbox = to_outbox;
	ending.causes = palloc(sizeof(Datum) * n);
	ending.subjects = palloc(sizeof(Datum) * n);
	ending.subject_nulls = palloc(sizeof(bool) * n);
	ending.sids = palloc(sizeof(Datum) * n);
	ending.issuers = palloc(sizeof(Datum) * n);
	ending.issuer_nulls = palloc(sizeof(bool) * n);
	ending.tenants = palloc(sizeof(Datum) * n);
	ending.tenant_nulls = palloc(sizeof(bool) * n);
	if (cursor)
	{
		/* Outlives SPI_finish: the caller prunes these pages afterwards. */
		result.blocks = SPI_palloc(sizeof(BlockNumber) * Max(n, 1));
		result.nblocks = n;
	}
	for (int i = 0; i < n; i++)
	{
		dead[i] = DatumGetInt64(idsess_spi_get(i, R_ID, &isnull));
		if (cursor)
			result.blocks[i] = ItemPointerGetBlockNumber((ItemPointer) DatumGetPointer(idsess_spi_get(i, R_CTID, &isnull)));
		ending.causes[i] = idsess_spi_get(i, R_CAUSE, &isnull);
		ending.subjects[i] = idsess_spi_get(i, R_FIRST + IDSESS_S_SUBJECT, &ending.subject_nulls[i]);
		ending.sids[i] = idsess_spi_get(i, R_FIRST + IDSESS_S_SID, &isnull);
		ending.issuers[i] = idsess_spi_get(i, R_ISSUER, &ending.issuer_nulls[i]);
		ending.tenants[i] = idsess_spi_get(i, R_TENANT, &ending.tenant_nulls[i]);
	}
	idsess_end_sessions(&ending);

	if (out)
	{
		for (int i = 0; i < n; i++)
		{
			Datum		values[IDSESS_S_NATTS_1_1];
			bool		nulls[IDSESS_S_NATTS_1_1];

			/* key .. idle_timeout and the sealed ticket from the DELETE */
			for (int c = IDSESS_S_KEY; c <= IDSESS_S_IDLE; c++)
				values[c] = SPI_getbinval(removed->vals[i], removed->tupdesc, R_FIRST + c, &nulls[c]);
			values[IDSESS_S_TICKET_BYTES] = SPI_getbinval(removed->vals[i], removed->tupdesc,
														  R_TICKET, &nulls[IDSESS_S_TICKET_BYTES]);
			values[IDSESS_S_ISSUER] = SPI_getbinval(removed->vals[i], removed->tupdesc,
													R_ISSUER, &nulls[IDSESS_S_ISSUER]);
			/* the children from idsess_end_sessions' result */
			values[IDSESS_S_CLIENTS] = idsess_spi_get(i, 1, &nulls[IDSESS_S_CLIENTS]);
			values[IDSESS_S_SAML] = idsess_spi_get(i, 2, &nulls[IDSESS_S_SAML]);
			values[IDSESS_S_CLIENT_SIDS] = idsess_spi_get(i, 3, &nulls[IDSESS_S_CLIENT_SIDS]);
			nulls[IDSESS_S_TICKET] = true;
			tuplestore_putvalues(out, outdesc, values, nulls);
		}
	}
	if (schema >= IDSESS_API_1_2)
		audit_max_lifetime(ending.causes, n);
	SPI_finish();
	return result;
}

static int
block_cmp(const void *a, const void *b)
{
	BlockNumber x = *(const BlockNumber *) a;
	BlockNumber y = *(const BlockNumber *) b;

	return x < y ? -1 : x > y;
}

/*
 * Gives these heap pages of idsess.sessions (block numbers, in any order,
 * repeated or not) the on-access pruning a reader coming across one would
 * give it: heap_page_prune_opt, which prunes a page short of space once its
 * deleted tuples are dead to every snapshot, and leaves the others alone.
 * A batch spread thin deletes from nearly every page of the table; the
 * sessions' readers (get and touch, each fetching its page through an
 * index) would otherwise take each page's cleanup lock, prune and log it
 * themselves, on the request's path.  Done by the worker right after the
 * batch, in physical order, the page is still in shared buffers and already
 * logged in full since the checkpoint, so its pruning adds a small record
 * and no page image.  A page another backend holds pinned is left to it.
 * The deletes of `deleter` (committed) must first be dead to every
 * snapshot: a statement that began before its commit may still see them.
 * That is waited for, wait_ms at most (statements on sessions are short);
 * if it has not come by then, the pages are left to their readers and -1
 * returned.  Otherwise returns how many distinct pages were looked at.
 */
int
idsess_prune_session_pages(BlockNumber *blocks, int n, TransactionId deleter, int wait_ms)
{
	Relation	rel;
	BlockNumber nblocks;
	int			pages = 0;

	if (n == 0)
		return 0;
	rel = table_open(get_relname_relid("sessions", get_namespace_oid("idsess", false)),
					 AccessShareLock);
	for (int waited = 0; TransactionIdIsValid(deleter) &&
		 !TransactionIdPrecedes(deleter, GetOldestNonRemovableTransactionId(rel)); waited++)
	{
		if (waited >= wait_ms)
		{
			table_close(rel, AccessShareLock);
			return -1;
		}
		CHECK_FOR_INTERRUPTS();
		pg_usleep(1000L);
	}
	/* Truncation needs a lock that conflicts with this one: stable until closed. */
	nblocks = RelationGetNumberOfBlocks(rel);
	qsort(blocks, n, sizeof(BlockNumber), block_cmp);
	for (int i = 0; i < n; i++)
	{
		Buffer		buf;

		if ((i > 0 && blocks[i] == blocks[i - 1]) || blocks[i] >= nblocks)
			continue;
		CHECK_FOR_INTERRUPTS();
		buf = ReadBufferExtended(rel, MAIN_FORKNUM, blocks[i], RBM_NORMAL, NULL);
		heap_page_prune_opt(rel, buf);
		ReleaseBuffer(buf);
		pages++;
	}
	table_close(rel, AccessShareLock);
	return pages;
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
static Datum
take_logouts(FunctionCallInfo fcinfo, IdsessApi api)
{
	int			count = idsess_arg_count(fcinfo, 0, 100, 100000);
	Datum		arg = Int32GetDatum(count);
	ReturnSetInfo *rsinfo;
	int			n;
	int			natts = api >= IDSESS_API_1_1 ? IDSESS_L_NATTS_1_1 : IDSESS_L_NATTS_1_0;

	InitMaterializedSRF(fcinfo, 0);
	rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	idsess_check_natts(rsinfo->setDesc, natts, "idsess.logout");
	idsess_spi_connect();
	n = idsess_spi_run(&q_take_logouts[api >= IDSESS_API_1_1], &arg, NULL, false, 0);
	for (int i = 0; i < n; i++)
	{
		Datum		values[IDSESS_L_NATTS_1_1];
		bool		nulls[IDSESS_L_NATTS_1_1];

		for (int c = 0; c < natts; c++)
			values[c] = idsess_spi_get(i, c + 1, &nulls[c]);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	SPI_finish();
	return (Datum) 0;
}

/*
 * Entry points: the unversioned symbol serves the 1.0 and 1.1 scripts
 * (version.c), each later script binds the symbol of its version.
 */
PG_FUNCTION_INFO_V1(idsess_take_logouts);
Datum
idsess_take_logouts(PG_FUNCTION_ARGS)
{
	return take_logouts(fcinfo, idsess_unversioned_api(fcinfo, 1, 1));
}

PG_FUNCTION_INFO_V1(idsess_take_logouts_1_2);
Datum
idsess_take_logouts_1_2(PG_FUNCTION_ARGS)
{
	return take_logouts(fcinfo, IDSESS_API_1_2);
}
