/*-------------------------------------------------------------------------
 *
 * stats.c
 *		Counting session events (created, expired, ended by inactivity,
 *		revoked, deleted, ended by the session limit) for the hourly history.
 *
 * A backend counts in local memory, one set of counts per transaction
 * nesting level: a subtransaction's counts join its parent's when it
 * commits and are dropped when it rolls back, and a prepared transaction's
 * are dropped (whether it commits later is not known here).  When the top
 * transaction commits, the counts are added to the counters of its
 * database's worker slot in shared memory, so no sign-in waits on a hot
 * counter row.  Only databases in idsess.databases have a slot, so only
 * their events are counted; a slot's counters are zeroed when the launcher
 * frees the slot for another database.
 *
 * The expiry worker flushes its slot's counters into idsess.stats_hourly
 * each round and drops hours older than idsess.stats_retention.  It
 * subtracts what it flushed only once that transaction has committed, so a
 * flush that fails loses nothing.  Without shared_preload_libraries there
 * are no counters and no history.
 *
 *-------------------------------------------------------------------------
 */
#include "idsess.h"
#include "stats.h"
#include "settings.h"
#include "shmem.h"
#include "spi.h"

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "commands/dbcommands.h"
#include "miscadmin.h"
#include "utils/memutils.h"

/* Counts not yet committed, per nesting level (index 0: the top level). */
typedef struct PendingCounts
{
	int64		n[IDSESS_NUM_EVENTS];
} PendingCounts;

static PendingCounts *pending = NULL;	/* in TopMemoryContext */
static int	pending_levels = 0;		/* allocated */
static int	pending_top = 0;		/* levels 1 .. pending_top may be non-zero */

/* What this transaction's flush read from the counters, to subtract at commit. */
static int64 flushed[IDSESS_NUM_EVENTS];
static int	flushed_slot = -1;

/* This database's name, looked up inside a transaction for use at commit. */
static char my_dbname[NAMEDATALEN];

void
idsess_count(IdsessEvent ev, int64 n)
{
	int			level;

	if (!idsess_shmem_ready() || n == 0)
		return;
	if (my_dbname[0] == '\0')
	{
		char	   *name = get_database_name(MyDatabaseId);

		if (name)
			strlcpy(my_dbname, name, NAMEDATALEN);
	}
	level = GetCurrentTransactionNestLevel();
	if (level > pending_levels)
	{
		int			want = Max(level, 4);

		if (pending == NULL)
			pending = MemoryContextAllocZero(TopMemoryContext, sizeof(PendingCounts) * want);
		else
		{
			pending = repalloc(pending, sizeof(PendingCounts) * want);
			memset(&pending[pending_levels], 0,
				   sizeof(PendingCounts) * (want - pending_levels));
		}
		pending_levels = want;
	}
	pending[level - 1].n[ev] += n;
	pending_top = Max(pending_top, level);
}

/* A subtransaction ends: its counts join its parent's, or are dropped. */
static void
stats_at_subxact_end(bool commit)
{
	int			level = GetCurrentTransactionNestLevel();

	if (level > pending_top || level < 2)
		return;
	for (int e = 0; e < IDSESS_NUM_EVENTS; e++)
	{
		if (commit)
			pending[level - 2].n[e] += pending[level - 1].n[e];
		pending[level - 1].n[e] = 0;
	}
	pending_top = level - 1;
}

/*
 * The top transaction ends (commit, abort or prepare): a commit publishes
 * its counts and retires what its flush moved into the history; otherwise
 * both are dropped.
 */
static void
stats_at_xact_end(bool commit)
{
	if (commit && flushed_slot >= 0)
		idsess_slot_sub_counts(flushed_slot, flushed);
	flushed_slot = -1;
	memset(flushed, 0, sizeof(flushed));

	if (pending_top == 0)
		return;
	if (commit)
		(void) idsess_slot_add_counts(my_dbname, pending[0].n);
	memset(pending, 0, sizeof(PendingCounts) * pending_levels);
	pending_top = 0;
}

static IdsessQuery q_flush = {
	.sql = "INSERT INTO idsess.stats_hourly AS h (hour, created, expired, idle, revoked, deleted, limited) "
	"VALUES (pg_catalog.date_trunc('hour', pg_catalog.now()), $1, $2, $3, $4, $5, $6) "
	"ON CONFLICT (hour) DO UPDATE SET created = h.created + EXCLUDED.created, "
	"expired = h.expired + EXCLUDED.expired, idle = h.idle + EXCLUDED.idle, "
	"revoked = h.revoked + EXCLUDED.revoked, deleted = h.deleted + EXCLUDED.deleted, "
	"limited = h.limited + EXCLUDED.limited",
	.nargs = 6, .argtypes = {INT8OID, INT8OID, INT8OID, INT8OID, INT8OID, INT8OID}
};
static IdsessQuery q_trim = {
	.sql = "DELETE FROM idsess.stats_hourly WHERE hour < pg_catalog.now() - $1",
	.nargs = 1, .argtypes = {INTERVALOID}
};

/*
 * Adds the counters of the worker's slot to idsess.stats_hourly, in the
 * caller's top-level transaction (not a subtransaction: the counters are
 * decreased when the top level commits), and trims the history to
 * idsess.stats_retention.  The counters keep their values until then.
 */
void
idsess_stats_flush(int slot_index)
{
	Datum		args[IDSESS_NUM_EVENTS];
	bool		any = false;
	Interval   *retention;
	Datum		arg;

	idsess_slot_read_counts(slot_index, flushed);
	for (int e = 0; e < IDSESS_NUM_EVENTS; e++)
	{
		args[e] = Int64GetDatum(flushed[e]);
		any |= flushed[e] != 0;
	}
	idsess_spi_connect();
	if (any)
	{
		idsess_spi_run(&q_flush, args, NULL, false, 0);
		flushed_slot = slot_index;
	}
	retention = palloc0(sizeof(Interval));
	retention->time = (int64) idsess_stats_retention_min * USECS_PER_MINUTE;
	arg = PointerGetDatum(retention);
	idsess_spi_run(&q_trim, &arg, NULL, false, 0);
	SPI_finish();
}

static void
stats_xact_callback(XactEvent event, void *arg pg_attribute_unused())
{
	switch (event)
	{
		case XACT_EVENT_COMMIT:
		case XACT_EVENT_ABORT:
		case XACT_EVENT_PREPARE:
		case XACT_EVENT_PARALLEL_COMMIT:
		case XACT_EVENT_PARALLEL_ABORT:
			stats_at_xact_end(event == XACT_EVENT_COMMIT);
			break;
		default:
			break;
	}
}

/* A subtransaction's session counts join its parent's, or are dropped. */
static void
stats_subxact_callback(SubXactEvent event,
					   SubTransactionId mySubid pg_attribute_unused(),
					   SubTransactionId parentSubid pg_attribute_unused(),
					   void *arg pg_attribute_unused())
{
	if (event == SUBXACT_EVENT_COMMIT_SUB || event == SUBXACT_EVENT_ABORT_SUB)
		stats_at_subxact_end(event == SUBXACT_EVENT_COMMIT_SUB);
}

/* Counts become the history when their transaction commits. */
void
idsess_stats_init(void)
{
	RegisterXactCallback(stats_xact_callback, NULL);
	RegisterSubXactCallback(stats_subxact_callback, NULL);
}
