/*-------------------------------------------------------------------------
 *
 * stats.c
 *		Counting session events (created, expired, ended by inactivity,
 *		revoked, deleted, ended by the session limit) for the hourly history.
 *
 * A backend counts in local memory and, when its transaction commits, adds
 * the counts to its database's counters in shared memory with atomic adds,
 * so no sign-in waits on a hot counter row.  The expiry worker flushes the
 * counters into idsess.stats_hourly each round and drops hours older than
 * idsess.stats_retention.  Without shared_preload_libraries there are no
 * counters and no history.
 *
 *-------------------------------------------------------------------------
 */
#include "idsess.h"

#include "catalog/pg_type.h"
#include "miscadmin.h"

static int64 pending[IDSESS_NUM_EVENTS];
static bool any_pending = false;
static int	my_counters = -1;	/* index into idsess_shared->counters */

void
idsess_count(IdsessEvent ev, int64 n)
{
	if (idsess_shared == NULL || n == 0)
		return;
	pending[ev] += n;
	any_pending = true;
}

/* This database's counters, claimed on first use. */
static IdsessCounters *
counters_for_db(Oid dboid, bool claim)
{
	IdsessCounters *found = NULL;

	if (my_counters >= 0 && idsess_shared->counters[my_counters].dboid == dboid)
		return &idsess_shared->counters[my_counters];

	SpinLockAcquire(&idsess_shared->counters_lock);
	for (int i = 0; i < IDSESS_MAX_WORKERS && found == NULL; i++)
		if (idsess_shared->counters[i].dboid == dboid)
		{
			found = &idsess_shared->counters[i];
			my_counters = i;
		}
	for (int i = 0; claim && i < IDSESS_MAX_WORKERS && found == NULL; i++)
		if (!OidIsValid(idsess_shared->counters[i].dboid))
		{
			idsess_shared->counters[i].dboid = dboid;
			found = &idsess_shared->counters[i];
			my_counters = i;
		}
	SpinLockRelease(&idsess_shared->counters_lock);
	return found;
}

void
idsess_stats_at_xact_end(bool commit)
{
	IdsessCounters *c;

	if (!any_pending)
		return;
	any_pending = false;
	if (commit && (c = counters_for_db(MyDatabaseId, true)) != NULL)
	{
		for (int e = 0; e < IDSESS_NUM_EVENTS; e++)
			if (pending[e] != 0)
				pg_atomic_fetch_add_u64(&c->n[e], (uint64) pending[e]);
	}
	memset(pending, 0, sizeof(pending));
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
 * Moves this database's counters into idsess.stats_hourly, in the caller's
 * transaction, and trims the history to idsess.stats_retention.
 */
void
idsess_stats_flush(void)
{
	IdsessCounters *c;
	Datum		args[IDSESS_NUM_EVENTS];
	bool		any = false;
	Interval   *retention;
	Datum		arg;

	if (idsess_shared == NULL || (c = counters_for_db(MyDatabaseId, false)) == NULL)
		return;
	for (int e = 0; e < IDSESS_NUM_EVENTS; e++)
	{
		uint64		v = pg_atomic_exchange_u64(&c->n[e], 0);

		args[e] = Int64GetDatum((int64) v);
		any |= v != 0;
	}
	idsess_spi_connect();
	if (any)
		idsess_spi_run(&q_flush, args, NULL, false, 0);
	retention = palloc0(sizeof(Interval));
	retention->time = (int64) idsess_stats_retention_min * USECS_PER_MINUTE;
	arg = PointerGetDatum(retention);
	idsess_spi_run(&q_trim, &arg, NULL, false, 0);
	SPI_finish();
}
