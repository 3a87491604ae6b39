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
 * Events of sessions that have a tenant are also counted per tenant, the
 * same way: per nesting level here, then, at commit, in the shared table
 * of tenant_stats.c (which says what happens when it is full).
 *
 * The expiry worker flushes its slot's counters into idsess.stats_hourly,
 * and its tenants' into idsess.stats_hourly_tenants (a 1.2 schema), each
 * round and drops hours older than idsess.stats_retention.  It
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
#include "tenant_stats.h"
#include "version.h"

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "commands/dbcommands.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/memutils.h"

/* Counts not yet committed, per nesting level (index 0: the top level). */
typedef struct PendingCounts
{
	int64		n[IDSESS_NUM_EVENTS];
} PendingCounts;

static PendingCounts *pending = NULL;	/* in TopMemoryContext */
static int	pending_levels = 0;		/* allocated */
static int	pending_top = 0;		/* levels 1 .. pending_top may be non-zero */

/*
 * Tenants' counts not yet committed (in tenant_cxt): one element per tenant
 * and nesting level as they come, folded per tenant at commit.
 */
static MemoryContext tenant_cxt = NULL;
static IdsessTenantCounts *tpending = NULL;
static int *tpending_level = NULL;
static int	tpending_n = 0;
static int	tpending_size = 0;

/* What this transaction's flush read from the counters, to subtract at commit. */
static int64 flushed[IDSESS_NUM_EVENTS];
static int	flushed_slot = -1;
static IdsessTenantCounts *tflushed = NULL;	/* in TopTransactionContext */
static int	tflushed_n = 0;
static int64 tflushed_unattributed = 0;

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

/*
 * Counts one event of a session of `tenant` (a text Datum) for the
 * tenant's history; the caller also counts it with idsess_count.
 */
void
idsess_count_tenant(IdsessEvent ev, Datum tenant)
{
	int			level;
	char	   *name;

	if (!idsess_shmem_ready() || idsess_tenant_counters == 0)
		return;
	level = GetCurrentTransactionNestLevel();
	if (tenant_cxt == NULL)
		tenant_cxt = AllocSetContextCreate(TopMemoryContext, "idsess tenant counts",
										   ALLOCSET_SMALL_SIZES);
	name = MemoryContextStrdup(tenant_cxt, TextDatumGetCString(tenant));
	/* A batch usually ends sessions of one tenant after another. */
	if (tpending_n > 0 && tpending_level[tpending_n - 1] == level &&
		strcmp(tpending[tpending_n - 1].tenant, name) == 0)
	{
		pfree(name);
		tpending[tpending_n - 1].n[ev]++;
		return;
	}
	if (tpending_n == tpending_size)
	{
		int			want = Max(tpending_size * 2, 8);

		if (tpending == NULL)
		{
			tpending = MemoryContextAlloc(tenant_cxt, sizeof(IdsessTenantCounts) * want);
			tpending_level = MemoryContextAlloc(tenant_cxt, sizeof(int) * want);
		}
		else
		{
			tpending = repalloc(tpending, sizeof(IdsessTenantCounts) * want);
			tpending_level = repalloc(tpending_level, sizeof(int) * want);
		}
		tpending_size = want;
	}
	tpending[tpending_n].tenant = name;
	memset(tpending[tpending_n].n, 0, sizeof(tpending[tpending_n].n));
	tpending[tpending_n].n[ev] = 1;
	tpending_level[tpending_n] = level;
	tpending_n++;
}

static void
forget_tenant_counts(void)
{
	if (tenant_cxt)
		MemoryContextReset(tenant_cxt);
	tpending = NULL;
	tpending_level = NULL;
	tpending_n = tpending_size = 0;
}

static int
tenant_cmp(const void *a, const void *b)
{
	return strcmp(((const IdsessTenantCounts *) a)->tenant,
				  ((const IdsessTenantCounts *) b)->tenant);
}

/* At commit: the tenants' counts, folded per tenant, go to the shared table. */
static void
publish_tenant_counts(int slot)
{
	int			m = 0;

	qsort(tpending, tpending_n, sizeof(IdsessTenantCounts), tenant_cmp);
	for (int i = 0; i < tpending_n; i++)
	{
		if (m > 0 && strcmp(tpending[m - 1].tenant, tpending[i].tenant) == 0)
		{
			for (int e = 0; e < IDSESS_NUM_EVENTS; e++)
				tpending[m - 1].n[e] += tpending[i].n[e];
			continue;
		}
		tpending[m++] = tpending[i];
	}
	idsess_tenant_stats_add(slot, tpending, m);
}

/* A subtransaction ends: its counts join its parent's, or are dropped. */
static void
stats_at_subxact_end(bool commit)
{
	int			level = GetCurrentTransactionNestLevel();
	int			kept = 0;

	for (int i = 0; i < tpending_n; i++)
	{
		if (tpending_level[i] >= level)
		{
			if (!commit)
				continue;
			tpending_level[i] = level - 1;
		}
		tpending[kept] = tpending[i];
		tpending_level[kept] = tpending_level[i];
		kept++;
	}
	tpending_n = kept;

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
	{
		idsess_slot_sub_counts(flushed_slot, flushed);
		idsess_tenant_stats_sub(flushed_slot, tflushed, tflushed_n, tflushed_unattributed);
	}
	flushed_slot = -1;
	memset(flushed, 0, sizeof(flushed));
	tflushed = NULL;
	tflushed_n = 0;
	tflushed_unattributed = 0;

	if (pending_top == 0)
	{
		forget_tenant_counts();
		return;
	}
	if (commit)
	{
		int			slot = idsess_slot_add_counts(my_dbname, pending[0].n);

		if (slot >= 0 && tpending_n > 0)
			publish_tenant_counts(slot);
	}
	memset(pending, 0, sizeof(PendingCounts) * pending_levels);
	pending_top = 0;
	forget_tenant_counts();
}

/* [0]: a 1.0 or 1.1 schema, [1]: 1.2, which also counts ends at the absolute lifetime. */
#define FLUSH(cols, vals, more) \
	"INSERT INTO idsess.stats_hourly AS h (hour, created, expired, idle, revoked, deleted, limited" \
	cols ") VALUES (pg_catalog.date_trunc('hour', pg_catalog.now()), $1, $2, $3, $4, $5, $6" vals ") " \
	"ON CONFLICT (hour) DO UPDATE SET created = h.created + EXCLUDED.created, " \
	"expired = h.expired + EXCLUDED.expired, idle = h.idle + EXCLUDED.idle, " \
	"revoked = h.revoked + EXCLUDED.revoked, deleted = h.deleted + EXCLUDED.deleted, " \
	"limited = h.limited + EXCLUDED.limited" more
static IdsessQuery q_flush[2] = {
	{.sql = FLUSH("", "", ""), .nargs = 6,
	.argtypes = {INT8OID, INT8OID, INT8OID, INT8OID, INT8OID, INT8OID}},
	{.sql = FLUSH(", max_lifetime", ", $7", ", max_lifetime = h.max_lifetime + EXCLUDED.max_lifetime"),
	.nargs = 7, .argtypes = {INT8OID, INT8OID, INT8OID, INT8OID, INT8OID, INT8OID, INT8OID}}
};
/* 1.2: the tenants' history. */
static IdsessQuery q_flush_tenants = {
	.sql = "INSERT INTO idsess.stats_hourly_tenants AS h (hour, tenant, created, expired, idle, "
	"revoked, deleted, limited, max_lifetime) "
	"SELECT pg_catalog.date_trunc('hour', pg_catalog.now()), t.* FROM ROWS FROM ("
	"pg_catalog.unnest($1::pg_catalog.text[]), pg_catalog.unnest($2::pg_catalog.int8[]), "
	"pg_catalog.unnest($3::pg_catalog.int8[]), pg_catalog.unnest($4::pg_catalog.int8[]), "
	"pg_catalog.unnest($5::pg_catalog.int8[]), pg_catalog.unnest($6::pg_catalog.int8[]), "
	"pg_catalog.unnest($7::pg_catalog.int8[]), pg_catalog.unnest($8::pg_catalog.int8[])) AS t "
	"ON CONFLICT (tenant, hour) DO UPDATE SET created = h.created + EXCLUDED.created, "
	"expired = h.expired + EXCLUDED.expired, idle = h.idle + EXCLUDED.idle, "
	"revoked = h.revoked + EXCLUDED.revoked, deleted = h.deleted + EXCLUDED.deleted, "
	"limited = h.limited + EXCLUDED.limited, max_lifetime = h.max_lifetime + EXCLUDED.max_lifetime",
	.nargs = 8, .argtypes = {TEXTARRAYOID, INT8ARRAYOID, INT8ARRAYOID, INT8ARRAYOID,
	INT8ARRAYOID, INT8ARRAYOID, INT8ARRAYOID, INT8ARRAYOID}
};
static IdsessQuery q_trim_tenants = {
	.sql = "DELETE FROM idsess.stats_hourly_tenants WHERE hour < pg_catalog.now() - $1",
	.nargs = 1, .argtypes = {INTERVALOID}
};
static IdsessQuery q_trim = {
	.sql = "DELETE FROM idsess.stats_hourly WHERE hour < pg_catalog.now() - $1",
	.nargs = 1, .argtypes = {INTERVALOID}
};

/*
 * The tenants' part of the flush: their counts go to
 * idsess.stats_hourly_tenants, and are subtracted when this commits.
 */
static void
flush_tenants(int slot_index)
{
	MemoryContext old = MemoryContextSwitchTo(TopTransactionContext);
	Datum		args[1 + IDSESS_NUM_EVENTS];
	Datum	   *col;
	int			n;

	n = idsess_tenant_stats_read(slot_index, &tflushed, &tflushed_unattributed);
	MemoryContextSwitchTo(old);
	tflushed_n = n;
	flushed_slot = slot_index;
	if (tflushed_unattributed > 0)
		ereport(WARNING,
				(errmsg_plural("idsess counted " INT64_FORMAT " session event of a tenant in the database's history only",
							   "idsess counted " INT64_FORMAT " session events of tenants in the database's history only",
							   tflushed_unattributed, tflushed_unattributed),
				 errdetail("More than idsess.tenant_counters (%d) tenants had session events between two rounds of the expiry worker.",
						   idsess_tenant_counters),
				 errhint("Raise idsess.tenant_counters (it takes effect at the server's restart).")));
	if (n == 0)
		return;
	col = palloc(sizeof(Datum) * n);
	for (int i = 0; i < n; i++)
		col[i] = CStringGetTextDatum(tflushed[i].tenant);
	args[0] = PointerGetDatum(construct_array(col, n, TEXTOID, -1, false, TYPALIGN_INT));
	for (int e = 0; e < IDSESS_NUM_EVENTS; e++)
	{
		for (int i = 0; i < n; i++)
			col[i] = Int64GetDatum(tflushed[i].n[e]);
		args[1 + e] = PointerGetDatum(construct_array(col, n, INT8OID, sizeof(int64),
													  FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
	}
	idsess_spi_run(&q_flush_tenants, args, NULL, false, 0);
}

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
	bool		schema_1_2 = idsess_schema_version() >= IDSESS_API_1_2;

	idsess_slot_read_counts(slot_index, flushed);
	for (int e = 0; e < IDSESS_NUM_EVENTS; e++)
	{
		/* Before 1.2 nothing ends at an absolute lifetime: nothing to lose. */
		if (e == IDSESS_EV_MAX_LIFETIME && !schema_1_2)
		{
			flushed[e] = 0;
			continue;
		}
		args[e] = Int64GetDatum(flushed[e]);
		any |= flushed[e] != 0;
	}
	idsess_spi_connect();
	if (any)
	{
		idsess_spi_run(&q_flush[schema_1_2], args, NULL, false, 0);
		flushed_slot = slot_index;
	}
	retention = palloc0(sizeof(Interval));
	retention->time = (int64) idsess_stats_retention_min * USECS_PER_MINUTE;
	arg = PointerGetDatum(retention);
	idsess_spi_run(&q_trim, &arg, NULL, false, 0);
	if (schema_1_2)
	{
		flush_tenants(slot_index);
		idsess_spi_run(&q_trim_tenants, &arg, NULL, false, 0);
	}
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
