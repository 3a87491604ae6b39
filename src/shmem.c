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

IdsessShared *idsess_shared = NULL;

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
