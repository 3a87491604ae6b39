/*-------------------------------------------------------------------------
 *
 * shmem.c
 *		Shared memory: one slot per served database (its worker's status,
 *		read by idsess_worker_status(), and its event counters), and the
 *		wake-up of a database's worker when a session falls due before the
 *		worker meant to look again.
 *
 * The slots exist only when idsess is in shared_preload_libraries; without
 * it the status function returns no rows and nothing is ever woken.
 *
 *-------------------------------------------------------------------------
 */
#include "idsess.h"
#include "failures.h"
#include "shmem.h"
#include "tenant_stats.h"

#include "access/xact.h"
#include "commands/dbcommands.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/proc.h"
#include "storage/shmem.h"
#include "utils/builtins.h"

PG_FUNCTION_INFO_V1(idsess_worker_status);

static IdsessShared *idsess_shared = NULL;

static shmem_startup_hook_type prev_shmem_startup_hook = NULL;
static shmem_request_hook_type prev_shmem_request_hook = NULL;

/* The earliest due time this transaction wrote; 0: none. */
static TimestampTz pending_due = 0;

/* Session rows this transaction wrote to the search index (at most). */
static int	pending_search_rows = 0;

static void
idsess_shmem_request(void)
{
	if (prev_shmem_request_hook)
		prev_shmem_request_hook();
	RequestAddinShmemSpace(sizeof(IdsessShared));
	RequestAddinShmemSpace(idsess_failures_shmem_size());
	RequestAddinShmemSpace(idsess_tenant_stats_shmem_size());
	idsess_tenant_stats_shmem_request();
}

static void
idsess_shmem_startup(void)
{
	bool		found;

	if (prev_shmem_startup_hook)
		prev_shmem_startup_hook();

	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	idsess_shared = ShmemInitStruct("idsess", sizeof(IdsessShared), &found);
	if (!found)
	{
		memset(idsess_shared, 0, sizeof(IdsessShared));
		SpinLockInit(&idsess_shared->mutex);
		for (int i = 0; i < IDSESS_MAX_WORKERS; i++)
		{
			SpinLockInit(&idsess_shared->slots[i].mutex);
			for (int e = 0; e < IDSESS_NUM_EVENTS; e++)
				pg_atomic_init_u64(&idsess_shared->slots[i].counts[e], 0);
			pg_atomic_init_u32(&idsess_shared->slots[i].search_countdown, 0);
		}
	}
	idsess_failures_shmem_init();
	idsess_tenant_stats_shmem_init();
	LWLockRelease(AddinShmemInitLock);
}

/*
 * At the end of a transaction: publishes its session counts if it commits,
 * and wakes this database's worker if a committed session falls due before
 * the worker meant to look, or if its sessions bring the search index's
 * pending list to the size at which the worker merges it.  A database whose
 * worker exited for want of the extension has it started again at once, by
 * the launcher.
 */
static void
idsess_xact_callback(XactEvent event, void *arg pg_attribute_unused())
{
	TimestampTz due = pending_due;
	int			search_rows = pending_search_rows;
	bool		wake_launcher = false;

	switch (event)
	{
		case XACT_EVENT_COMMIT:
		case XACT_EVENT_ABORT:
		case XACT_EVENT_PREPARE:
		case XACT_EVENT_PARALLEL_COMMIT:
		case XACT_EVENT_PARALLEL_ABORT:
			break;
		default:
			return;
	}
	pending_due = 0;
	pending_search_rows = 0;
	if ((due == 0 && search_rows == 0) || event != XACT_EVENT_COMMIT || idsess_shared == NULL)
		return;
	for (int i = 0; i < IDSESS_MAX_WORKERS; i++)
	{
		IdsessSlot *slot = &idsess_shared->slots[i];
		Latch	   *latch = NULL;

		SpinLockAcquire(&slot->mutex);
		if (slot->dboid == MyDatabaseId && slot->dbname[0] != '\0')
		{
			if (slot->pid != 0)
			{
				if (due != 0 && due < slot->wake_at)
				{
					latch = slot->latch;
					slot->wake_at = due;
				}
				/* Only the commit that takes the count to zero wakes it. */
				if (search_rows > 0)
				{
					int32		left = (int32) pg_atomic_fetch_sub_u32(&slot->search_countdown,
																		search_rows);

					if (left > 0 && left <= search_rows)
						latch = slot->latch;
				}
			}
			else if (slot->pid == 0 && slot->state == IDSESS_WORKER_NO_EXTENSION)
			{
				slot->retry_at = 0;
				wake_launcher = true;
			}
		}
		SpinLockRelease(&slot->mutex);
		if (latch)
			SetLatch(latch);
	}
	if (wake_launcher)
	{
		Latch	   *latch;

		SpinLockAcquire(&idsess_shared->mutex);
		latch = idsess_shared->launcher_latch;
		SpinLockRelease(&idsess_shared->mutex);
		if (latch)
			SetLatch(latch);
	}
}

void
idsess_shmem_init(void)
{
	prev_shmem_request_hook = shmem_request_hook;
	shmem_request_hook = idsess_shmem_request;
	prev_shmem_startup_hook = shmem_startup_hook;
	shmem_startup_hook = idsess_shmem_startup;
	RegisterXactCallback(idsess_xact_callback, NULL);
}

/*
 * Notes that this transaction wrote n session rows that may have gone into
 * the search index's pending list (search_index.c).
 */
void
idsess_note_search_rows(int n)
{
	if (idsess_shared != NULL)
		pending_search_rows += n;
}

/* Notes that a session written by this transaction falls due at `due`. */
void
idsess_nudge_worker(TimestampTz due)
{
	if (idsess_shared == NULL)
		return;
	if (pending_due == 0 || due < pending_due)
		pending_due = due;
}

static const char *
state_name(IdsessWorkerState s)
{
	switch (s)
	{
		case IDSESS_WORKER_STARTING:
			return "starting";
		case IDSESS_WORKER_NO_EXTENSION:
			return "waiting for CREATE EXTENSION idsess";
		case IDSESS_WORKER_SLEEPING:
			return "sleeping";
		case IDSESS_WORKER_EXPIRING:
			return "removing expired sessions";
	}
	return "unknown";
}

Datum
idsess_worker_status(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo;

	InitMaterializedSRF(fcinfo, 0);
	rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	if (idsess_shared == NULL)
		return (Datum) 0;

	for (int i = 0; i < IDSESS_MAX_WORKERS; i++)
	{
		IdsessSlot *slot = &idsess_shared->slots[i];
		IdsessSlot	copy;
		Datum		values[IDSESS_WORKER_NATTS_11];
		bool		nulls[IDSESS_WORKER_NATTS_11] = {0};

		SpinLockAcquire(&slot->mutex);
		copy = *slot;
		SpinLockRelease(&slot->mutex);
		/* A database waiting for the extension has no process meanwhile. */
		if (copy.pid == 0 &&
			!(copy.dbname[0] != '\0' && copy.state == IDSESS_WORKER_NO_EXTENSION))
			continue;

		values[0] = Int32GetDatum(copy.pid);
		nulls[0] = copy.pid == 0;
		values[1] = DirectFunctionCall1(namein, CStringGetDatum(copy.dbname));
		values[2] = CStringGetTextDatum(state_name(copy.state));
		values[3] = TimestampTzGetDatum(copy.started);
		values[4] = TimestampTzGetDatum(copy.last_run);
		nulls[4] = copy.last_run == 0;
		values[5] = Int64GetDatum(copy.last_removed);
		values[6] = Int64GetDatum(copy.total_removed);
		values[7] = TimestampTzGetDatum(copy.next_due);
		nulls[7] = copy.next_due == 0;
		values[8] = CStringGetTextDatum(copy.last_error);
		nulls[8] = copy.last_error[0] == '\0';
		values[9] = TimestampTzGetDatum(copy.last_error_at);
		nulls[9] = copy.last_error_at == 0;
		/* 1.1's result has the pacing of backlogs. */
		values[10] = Int64GetDatum(copy.paced_batches);
		values[11] = Int64GetDatum(copy.paced_ms);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}

/*
 * The slot accessors.  Every read or write of a slot's plain fields goes
 * through one of these, each holding the slot's mutex for a few copies and
 * setting a latch, if any, only after releasing it.
 */

bool
idsess_shmem_ready(void)
{
	return idsess_shared != NULL;
}

static void
zero_counts(IdsessSlot *slot)
{
	for (int e = 0; e < IDSESS_NUM_EVENTS; e++)
		pg_atomic_write_u64(&slot->counts[e], 0);
}

/* The launcher: which database slot i serves, and whether a worker holds it. */
void
idsess_slot_assignment(int i, char *dbname, bool *held, TimestampTz *retry_at)
{
	IdsessSlot *slot = &idsess_shared->slots[i];

	SpinLockAcquire(&slot->mutex);
	strlcpy(dbname, slot->dbname, NAMEDATALEN);
	*held = slot->pid != 0;
	*retry_at = slot->retry_at;
	SpinLockRelease(&slot->mutex);
}

/* The slot assigned to dbname, or -1. */
int
idsess_slot_find(const char *dbname, bool *held, TimestampTz *retry_at)
{
	char		name[NAMEDATALEN];

	for (int i = 0; i < IDSESS_MAX_WORKERS; i++)
	{
		idsess_slot_assignment(i, name, held, retry_at);
		if (strcmp(name, dbname) == 0)
			return i;
	}
	*held = false;
	*retry_at = 0;
	return -1;
}

/* Assigns a free slot (no database, no worker) to dbname; false if taken. */
bool
idsess_slot_assign(int i, const char *dbname)
{
	IdsessSlot *slot = &idsess_shared->slots[i];
	bool		assigned = false;

	SpinLockAcquire(&slot->mutex);
	if (slot->dbname[0] == '\0' && slot->pid == 0)
	{
		strlcpy(slot->dbname, dbname, NAMEDATALEN);
		assigned = true;
	}
	SpinLockRelease(&slot->mutex);
	return assigned;
}

/* Frees a slot no worker holds, with its counters, for another database. */
void
idsess_slot_unassign(int i)
{
	IdsessSlot *slot = &idsess_shared->slots[i];
	bool		freed = false;

	SpinLockAcquire(&slot->mutex);
	if (slot->pid == 0)
	{
		slot->dbname[0] = '\0';
		slot->dboid = InvalidOid;
		slot->state = IDSESS_WORKER_STARTING;
		slot->retry_at = 0;
		slot->announced_missing = false;
		zero_counts(slot);
		freed = true;
	}
	SpinLockRelease(&slot->mutex);
	if (freed)
		idsess_tenant_stats_forget(i);
}

/* Asks the worker holding slot i to exit. */
void
idsess_slot_ask_stop(int i)
{
	IdsessSlot *slot = &idsess_shared->slots[i];
	Latch	   *latch;

	SpinLockAcquire(&slot->mutex);
	slot->stop = true;
	latch = slot->latch;
	SpinLockRelease(&slot->mutex);
	if (latch)
		SetLatch(latch);
}

/* The launcher publishes its latch (mine) or withdraws it when it exits. */
void
idsess_set_launcher_latch(bool mine)
{
	SpinLockAcquire(&idsess_shared->mutex);
	if (mine)
		idsess_shared->launcher_latch = MyLatch;
	else if (idsess_shared->launcher_latch == MyLatch)
		idsess_shared->launcher_latch = NULL;
	SpinLockRelease(&idsess_shared->mutex);
}

/*
 * A worker claims the slot the launcher assigned to its database, unless a
 * worker already holds it or the launcher has since given it to another.
 */
bool
idsess_slot_claim(int i, const char *dbname)
{
	IdsessSlot *slot = &idsess_shared->slots[i];
	bool		claimed = false;

	SpinLockAcquire(&slot->mutex);
	if (slot->pid == 0 && strcmp(slot->dbname, dbname) == 0)
	{
		claimed = true;
		slot->pid = MyProcPid;
		/* A database dropped and created again under its name: new counts. */
		if (slot->dboid != MyDatabaseId)
			zero_counts(slot);
		slot->dboid = MyDatabaseId;
		slot->latch = MyLatch;
		slot->stop = false;
		slot->state = IDSESS_WORKER_STARTING;
		slot->started = GetCurrentTimestamp();
		slot->last_run = 0;
		slot->last_removed = 0;
		slot->total_removed = 0;
		slot->paced_batches = 0;
		slot->paced_ms = 0;
		slot->next_due = 0;
		slot->wake_at = 0;
		slot->last_error_at = 0;
		slot->last_error[0] = '\0';
	}
	SpinLockRelease(&slot->mutex);
	return claimed;
}

/* The worker holding slot i exits; the assignment stays. */
void
idsess_slot_release(int i)
{
	IdsessSlot *slot = &idsess_shared->slots[i];

	SpinLockAcquire(&slot->mutex);
	if (slot->pid == MyProcPid)
	{
		slot->pid = 0;
		slot->latch = NULL;
		slot->stop = false;
	}
	SpinLockRelease(&slot->mutex);
}

bool
idsess_slot_stop_asked(int i)
{
	IdsessSlot *slot = &idsess_shared->slots[i];
	bool		stop;

	SpinLockAcquire(&slot->mutex);
	stop = slot->stop;
	SpinLockRelease(&slot->mutex);
	return stop;
}

/* A pause of ms between backlog batches. */
void
idsess_slot_note_pause(int i, long ms)
{
	IdsessSlot *slot = &idsess_shared->slots[i];

	SpinLockAcquire(&slot->mutex);
	slot->paced_batches++;
	slot->paced_ms += ms;
	SpinLockRelease(&slot->mutex);
}

/*
 * The worker's database has no idsess: the launcher retries at retry_at.
 * True the first time since the extension was last seen, to log it once.
 */
bool
idsess_slot_await_extension(int i, TimestampTz retry_at)
{
	IdsessSlot *slot = &idsess_shared->slots[i];
	bool		first;

	SpinLockAcquire(&slot->mutex);
	first = !slot->announced_missing;
	slot->announced_missing = true;
	slot->state = IDSESS_WORKER_NO_EXTENSION;
	slot->retry_at = retry_at;
	SpinLockRelease(&slot->mutex);
	return first;
}

/* The last error of a round step, already cut to fit and scrubbed. */
void
idsess_slot_note_error(int i, const char *message)
{
	IdsessSlot *slot = &idsess_shared->slots[i];

	SpinLockAcquire(&slot->mutex);
	strlcpy(slot->last_error, message, sizeof(slot->last_error));
	slot->last_error_at = GetCurrentTimestamp();
	SpinLockRelease(&slot->mutex);
}

void
idsess_slot_round_starts(int i)
{
	IdsessSlot *slot = &idsess_shared->slots[i];

	SpinLockAcquire(&slot->mutex);
	slot->announced_missing = false;
	slot->state = IDSESS_WORKER_EXPIRING;
	SpinLockRelease(&slot->mutex);
}

/* next_due: the earliest due session the round saw; 0 if none. */
void
idsess_slot_round_ends(int i, int64 removed, TimestampTz next_due)
{
	IdsessSlot *slot = &idsess_shared->slots[i];

	SpinLockAcquire(&slot->mutex);
	slot->state = IDSESS_WORKER_SLEEPING;
	slot->last_run = GetCurrentTimestamp();
	slot->last_removed = removed;
	slot->total_removed += removed;
	slot->next_due = next_due;
	SpinLockRelease(&slot->mutex);
}

/*
 * When the worker will look again; a commit whose session falls due
 * earlier sets its latch (idsess_xact_callback).  PG_INT64_MAX while a
 * round runs, so that no commit meanwhile goes unnoticed.
 */
void
idsess_slot_set_wake(int i, TimestampTz wake_at)
{
	IdsessSlot *slot = &idsess_shared->slots[i];

	SpinLockAcquire(&slot->mutex);
	slot->wake_at = wake_at;
	SpinLockRelease(&slot->mutex);
}

/* Session rows to be committed before the worker merges the search index. */
void
idsess_slot_set_search_countdown(int i, int32 countdown)
{
	pg_atomic_write_u32(&idsess_shared->slots[i].search_countdown, (uint32) countdown);
}

/*
 * Adds a committed transaction's event counts to the slot serving this
 * database (dbname), under its mutex so that the slot cannot change
 * database meanwhile.  A slot the launcher has assigned to the name but
 * whose worker has not yet connected is taken too (it records the
 * database's OID), so that counts made meanwhile are not lost.  Returns
 * the slot, or -1 when no slot serves the database.
 */
int
idsess_slot_add_counts(const char *dbname, const int64 *n)
{
	static int	hint = -1;

	for (int k = -1; k < IDSESS_MAX_WORKERS; k++)
	{
		int			i = k < 0 ? hint : k;
		IdsessSlot *slot;

		if (i < 0)
			continue;
		slot = &idsess_shared->slots[i];
		SpinLockAcquire(&slot->mutex);
		if (k >= 0 && slot->dbname[0] != '\0' && !OidIsValid(slot->dboid) &&
			strcmp(slot->dbname, dbname) == 0)
			slot->dboid = MyDatabaseId;
		if (slot->dboid == MyDatabaseId && slot->dbname[0] != '\0')
		{
			for (int e = 0; e < IDSESS_NUM_EVENTS; e++)
				if (n[e] != 0)
					pg_atomic_fetch_add_u64(&slot->counts[e], n[e]);
			SpinLockRelease(&slot->mutex);
			hint = i;
			return i;
		}
		SpinLockRelease(&slot->mutex);
	}
	return -1;
}

/* The worker's flush reads its slot's counters (no lock: atomic). */
void
idsess_slot_read_counts(int i, int64 *n)
{
	for (int e = 0; e < IDSESS_NUM_EVENTS; e++)
		n[e] = (int64) pg_atomic_read_u64(&idsess_shared->slots[i].counts[e]);
}

/* ... and subtracts what it moved into the history once that commits. */
void
idsess_slot_sub_counts(int i, const int64 *n)
{
	for (int e = 0; e < IDSESS_NUM_EVENTS; e++)
		if (n[e] != 0)
			pg_atomic_fetch_sub_u64(&idsess_shared->slots[i].counts[e], n[e]);
}
