/*-------------------------------------------------------------------------
 *
 * worker.c
 *		The background workers that expire sessions.
 *
 * A launcher, registered at server start when idsess is preloaded, connects
 * to no database (it reads only pg_database) and keeps one expiry worker
 * running for each database named in idsess.databases that exists,
 * starting, restarting and stopping them as the setting and the databases
 * change.  Which database each worker serves lives in the shared-memory
 * slots, not in the launcher, so a restarted launcher adopts the running
 * workers; it asks a worker to stop through its slot.  Both start only once
 * recovery has finished, so a standby removes nothing and a promoted
 * standby starts expiring by itself.
 *
 * An expiry worker removes due sessions in batches of
 * idsess.expire_batch_size, one short transaction per batch (see expire.c),
 * then sleeps until the next session falls due, at most idsess.max_nap; a
 * backend that commits a session falling due earlier sets its latch.  Due
 * sessions it could not lock (held by other transactions) make it look
 * again after a nap that grows while they stay, never in a busy loop.  The
 * round is a list of steps (expiry, key upkeep, the history, the next due
 * time), each in its own transaction: an error is logged, recorded in the
 * status slot, and only its own step is skipped, for longer each time it
 * fails again.
 *
 *-------------------------------------------------------------------------
 */
#include "idsess.h"
#include "version.h"
#include "worker.h"
#include "expire.h"
#include "keys.h"
#include "search_index.h"
#include "session_end.h"
#include "settings.h"
#include "shmem.h"
#include "spi.h"
#include "stats.h"

#include "access/heapam.h"
#include "access/htup_details.h"
#include "access/relscan.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/pg_database.h"
#include "commands/extension.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/proc.h"
#include "storage/procarray.h"
#include "tcop/tcopprot.h"
#include "utils/backend_status.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/varlena.h"

PGDLLEXPORT void idsess_launcher_main(Datum main_arg);
PGDLLEXPORT void idsess_worker_main(Datum main_arg);

void
idsess_register_launcher(void)
{
	BackgroundWorker worker;

	memset(&worker, 0, sizeof(worker));
	worker.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
	worker.bgw_start_time = BgWorkerStart_RecoveryFinished;
	worker.bgw_restart_time = 5;
	snprintf(worker.bgw_library_name, BGW_MAXLEN, "idsess");
	snprintf(worker.bgw_function_name, BGW_MAXLEN, "idsess_launcher_main");
	snprintf(worker.bgw_name, BGW_MAXLEN, "idsess launcher");
	snprintf(worker.bgw_type, BGW_MAXLEN, "idsess launcher");
	RegisterBackgroundWorker(&worker);
}

/*
 * A worker the launcher registered and has not yet seen stop: until it has
 * claimed its slot, this is the only sign that its database is being
 * served.  Freed once the worker has stopped, so a launcher that starts
 * workers all day holds at most one handle per slot.
 */
static BackgroundWorkerHandle *pending[IDSESS_MAX_WORKERS];

/* The launcher starts a worker for a slot at most this often. */
#define RESTART_DELAY_MS	1000

static TimestampTz last_start[IDSESS_MAX_WORKERS];

static bool
start_worker(int slot, const char *dbname)
{
	BackgroundWorker worker;

	memset(&worker, 0, sizeof(worker));
	worker.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
	worker.bgw_start_time = BgWorkerStart_RecoveryFinished;
	worker.bgw_restart_time = BGW_NEVER_RESTART;
	snprintf(worker.bgw_library_name, BGW_MAXLEN, "idsess");
	snprintf(worker.bgw_function_name, BGW_MAXLEN, "idsess_worker_main");
	snprintf(worker.bgw_name, BGW_MAXLEN, "idsess expiry worker for %s", dbname);
	snprintf(worker.bgw_type, BGW_MAXLEN, "idsess expiry worker");
	strlcpy(worker.bgw_extra, dbname, BGW_EXTRALEN);
	worker.bgw_main_arg = Int32GetDatum(slot);
	worker.bgw_notify_pid = MyProcPid;
	last_start[slot] = GetCurrentTimestamp();
	return RegisterDynamicBackgroundWorker(&worker, &pending[slot]);
}

/*
 * Whether a database of this name exists.  The launcher has no database, so
 * it scans pg_database (a shared catalog) without its indexes, as the
 * autovacuum launcher does.
 */
static bool
database_exists(const char *dbname)
{
	Relation	rel;
	TableScanDesc scan;
	HeapTuple	tup;
	bool		found = false;

	StartTransactionCommand();
	rel = table_open(DatabaseRelationId, AccessShareLock);
	scan = table_beginscan_catalog(rel, 0, NULL);
	while (!found && HeapTupleIsValid(tup = heap_getnext(scan, ForwardScanDirection)))
	{
		Form_pg_database db = (Form_pg_database) GETSTRUCT(tup);

		found = strcmp(NameStr(db->datname), dbname) == 0 && db->datallowconn;
	}
	table_endscan(scan);
	table_close(rel, AccessShareLock);
	CommitTransactionCommand();
	return found;
}

/* Frees the handle of a registered worker that has stopped. */
static void
forget_stopped(int i)
{
	pid_t		pid;

	if (pending[i] != NULL && GetBackgroundWorkerPid(pending[i], &pid) == BGWH_STOPPED)
	{
		pfree(pending[i]);
		pending[i] = NULL;
	}
}

/*
 * One pass of the launcher: asks the workers of databases no longer named
 * to exit, frees their slots once they have, and starts a worker for each
 * named database that exists and has none running or starting.  Which
 * database each slot serves, and whether a worker holds it, is read from
 * shared memory: a launcher restarted while workers run adopts them.
 */
static void
launcher_pass(List *names, bool *warned_full)
{
	ListCell   *lc;

	for (int i = 0; i < IDSESS_MAX_WORKERS; i++)
	{
		char		dbname[NAMEDATALEN];
		bool		wanted = false;
		bool		running;
		TimestampTz retry_at;

		forget_stopped(i);
		idsess_slot_assignment(i, dbname, &running, &retry_at);
		if (dbname[0] == '\0')
			continue;
		foreach(lc, names)
			if (strcmp((char *) lfirst(lc), dbname) == 0)
				wanted = true;
		if (wanted)
			continue;
		if (running)
			idsess_slot_ask_stop(i);
		else if (pending[i] != NULL)
			TerminateBackgroundWorker(pending[i]);
		else
			idsess_slot_unassign(i);
	}

	foreach(lc, names)
	{
		const char *dbname = (const char *) lfirst(lc);
		bool		running;
		TimestampTz retry_at;
		int			index = idsess_slot_find(dbname, &running, &retry_at);

		if (index >= 0 && (running || pending[index] != NULL))
			continue;
		if (index >= 0 &&
			(!TimestampDifferenceExceeds(last_start[index], GetCurrentTimestamp(), RESTART_DELAY_MS) ||
			 GetCurrentTimestamp() < retry_at))
			continue;

		if (!database_exists(dbname))
		{
			if (index >= 0)
				idsess_slot_unassign(index);
			continue;
		}

		for (int i = 0; i < IDSESS_MAX_WORKERS && index < 0; i++)
			if (pending[i] == NULL && idsess_slot_assign(i, dbname))
				index = i;
		if (index < 0)
		{
			if (!*warned_full)
				ereport(LOG,
						(errmsg("idsess serves at most %d databases; \"%s\" is not served",
								IDSESS_MAX_WORKERS, dbname)));
			*warned_full = true;
			continue;
		}
		if (!start_worker(index, dbname))
			ereport(LOG,
					(errmsg("could not start the idsess expiry worker for database \"%s\"", dbname),
					 errhint("Raise max_worker_processes.")));
	}
}

static void
forget_launcher(int code pg_attribute_unused(), Datum arg pg_attribute_unused())
{
	idsess_set_launcher_latch(false);
}

void
idsess_launcher_main(Datum main_arg pg_attribute_unused())
{
	bool		warned_full = false;

	pqsignal(SIGHUP, SignalHandlerForConfigReload);
	pqsignal(SIGTERM, die);
	BackgroundWorkerUnblockSignals();
	BackgroundWorkerInitializeConnection(NULL, NULL, 0);
	if (!idsess_shmem_ready())
		proc_exit(0);
	/* Set by a backend that commits a session in a database waiting for its worker. */
	idsess_set_launcher_latch(true);
	on_shmem_exit(forget_launcher, (Datum) 0);

	for (;;)
	{
		char	   *rawnames;
		List	   *names = NIL;

		CHECK_FOR_INTERRUPTS();
		if (ConfigReloadPending)
		{
			ConfigReloadPending = false;
			ProcessConfigFile(PGC_SIGHUP);
		}

		rawnames = pstrdup(idsess_databases ? idsess_databases : "");
		if (!SplitIdentifierString(rawnames, ',', &names))
		{
			ereport(LOG,
					(errmsg("idsess.databases is not a valid list of database names")));
			names = NIL;
		}
		launcher_pass(names, &warned_full);
		list_free(names);
		pfree(rawnames);

		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 RESTART_DELAY_MS, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
	}
}

/* The slot this worker holds; -1 until it has claimed one. */
static int	my_index = -1;

static void
release_slot(int code pg_attribute_unused(), Datum arg pg_attribute_unused())
{
	if (my_index >= 0)
		idsess_slot_release(my_index);
}

/*
 * Claims the status slot the launcher assigned to this database, unless a
 * worker already holds it or the launcher has since given it to another
 * (a worker started by a launcher that was then restarted).
 */
static bool
claim_slot(int index, const char *dbname)
{
	if (!idsess_slot_claim(index, dbname))
		return false;
	my_index = index;
	on_shmem_exit(release_slot, (Datum) 0);
	return true;
}

/*
 * Between steps and in every wait: exits when the launcher asks (its
 * database left idsess.databases), and applies a reload.
 */
static void
worker_interrupts(void)
{
	CHECK_FOR_INTERRUPTS();
	if (idsess_slot_stop_asked(my_index))
		proc_exit(0);
	if (ConfigReloadPending)
	{
		ConfigReloadPending = false;
		ProcessConfigFile(PGC_SIGHUP);
	}
}

/*
 * A pause between two batches of a backlog, waiting on the latch so that a
 * reload and a shutdown take effect within it.  Sessions committed
 * meanwhile set the latch, but they need not cut it short: the round looks
 * for the next due time after its last batch.  ms is an adaptive pause's
 * length; a fixed pause (explicit idsess.expire_batch_delay) follows the
 * setting instead, so a reload lengthens, shortens or ends it under way.
 * A reload that sets a fixed pause turns an adaptive one into it at once:
 * an administrator slowing a backlog down gets no further batch first.
 * Returns whether the pause was a fixed one by its end.
 */
static bool
pause_between_batches(long ms, bool fixed)
{
	TimestampTz start = GetCurrentTimestamp();

	for (;;)
	{
		long		left;

		worker_interrupts();
		if (fixed || idsess_expire_batch_delay_ms > 0)
		{
			fixed = true;
			ms = idsess_expire_batch_delay_ms;
		}
		left = TimestampDifferenceMilliseconds(GetCurrentTimestamp(),
											   TimestampTzPlusMilliseconds(start, ms));
		if (left <= 0)
			break;
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 left, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
	}
	idsess_slot_note_pause(my_index,
						   TimestampDifferenceMilliseconds(start, GetCurrentTimestamp()));
	return fixed;
}

/*
 * Whether the server has foreground work at this moment: a client backend,
 * in any database (they share the CPUs and the WAL), that is running a
 * statement and is on the CPU or waiting for a lock, an LWLock or I/O --
 * not one that sleeps, waits for its client or idles.  The worker itself
 * and other background processes do not count.  The backend status
 * snapshot is read afresh and freed each time.
 */
static bool
foreground_busy(void)
{
	int			n = pgstat_fetch_stat_numbackends();
	bool		busy = false;

	for (int i = 1; i <= n && !busy; i++)
	{
		LocalPgBackendStatus *local = pgstat_get_local_beentry_by_index(i);
		PgBackendStatus *be;
		PGPROC	   *proc;
		uint32		wait;

		if (local == NULL)
			continue;
		be = &local->backendStatus;
		if (be->st_backendType != B_BACKEND || be->st_state != STATE_RUNNING ||
			be->st_procpid == MyProcPid)
			continue;
		proc = BackendPidGetProc(be->st_procpid);
		if (proc == NULL)
			continue;
		/* Read once, unlocked, as pg_stat_activity does; keep the class byte. */
		wait = *((volatile uint32 *) &proc->wait_event_info) & 0xFF000000U;
		busy = wait == 0 || wait == PG_WAIT_LOCK || wait == PG_WAIT_LWLOCK || wait == PG_WAIT_IO;
	}
	pgstat_clear_backend_activity_snapshot();
	return busy;
}

/*
 * By default the worker paces a backlog by itself, as a duty cycle: while
 * foreground work is running, each batch is followed by a pause of
 * PACE_FACTOR times the batch's own duration, so the worker takes at most a
 * fifth of the time the batches need; with nothing else running it goes
 * flat out.  The server counts as busy only when it was busy both before
 * and after the batch, so one short statement caught at the wrong moment
 * does not slow an idle server down.  Four times the batch's time still
 * removes a backlog more than ten times as fast as Duende's cleanup; what
 * the traffic keeps meanwhile, measured against the neighbouring seconds
 * with the worker paused, is in bench/analysis.md.
 *
 * The duty cycle gives way to idsess.expire_min_rate: no pause takes the
 * backlog's pace, counted from its first batch, below that many sessions a
 * second.  Where the batches themselves are slow (their WAL flushes queued
 * behind the traffic's commits), a fifth of the time would stretch a large
 * backlog over minutes, and sessions would wait that long for their logout
 * notice; the floor shortens the pauses to what the schedule leaves, down
 * to none while the worker is behind it, and the traffic pays for that.
 * A fixed pause (idsess.expire_batch_delay) starts the schedule afresh: an
 * administrator who slowed a backlog down and resets the setting gets the
 * pacing back, not a burst that makes up for the time held back.
 */
#define PACE_FACTOR		4
#define PACE_MAX_MS		1000

/*
 * How long the worker may still pause, having taken `taken` sessions since
 * the backlog's first batch began at `began`, and keep to
 * idsess.expire_min_rate; 0 when it is behind.
 */
static long
pace_floor_ms(TimestampTz began, int64 taken)
{
	double		due_us = (double) taken * USECS_PER_SEC / idsess_expire_min_rate;

	return TimestampDifferenceMilliseconds(GetCurrentTimestamp(),
										   began + (TimestampTz) Min(due_us, (double) PG_INT64_MAX / 2));
}

/*
 * The first nap after a round that left due sessions behind, which it could
 * not lock; it doubles each round they stay, up to idsess.max_nap.  Their
 * lock holder's commit does not wake the worker unless it moves their due
 * time, so the worker looks again by itself, but it must not spin.
 */
#define OVERDUE_NAP_MIN_MS	10

static long overdue_nap_ms = 0;

/*
 * The database has no idsess extension (yet, or any more).  The worker
 * exits rather than stay connected, which would make a plain DROP DATABASE
 * fail; the launcher starts it again after idsess.max_nap (at least a
 * second), or at once when a backend commits a session here.  The wait is
 * logged once per database, not once per attempt.
 */
static void
wait_for_extension(void)
{
	TimestampTz retry_at = TimestampTzPlusMilliseconds(GetCurrentTimestamp(),
													   Max(idsess_max_nap_ms, 1000));

	if (idsess_slot_await_extension(my_index, retry_at))
		ereport(LOG,
				(errmsg("idsess expiry worker is waiting for CREATE EXTENSION idsess in database \"%s\"",
						MyBgworkerEntry->bgw_extra)));
	proc_exit(0);
}

/*
 * The round's steps.  Each runs in its own transaction(s); one that fails
 * is rolled back, its error logged and recorded in the slot, and the round
 * goes on with the next step, so a bad row in one step cannot stop the
 * others (expiry, the history, the next due time).  A step that keeps
 * failing is retried after 1 s, then twice as long after each failure in a
 * row, up to STEP_BACKOFF_MAX_MS, rather than every round.
 */
#define STEP_BACKOFF_MIN_MS	1000
#define STEP_BACKOFF_MAX_MS	(5 * 60 * 1000)

typedef struct RoundStep
{
	const char *activity;		/* shown in pg_stat_activity */
	void		(*run) (void);
	bool		(*wanted) (void);	/* NULL: always */
	int			failures;		/* in a row */
	TimestampTz retry_at;
} RoundStep;

/* What the round learnt, for the status slot and the nap. */
static int64 round_removed;
static bool round_found;
static bool round_overdue;
static TimestampTz round_due;

static void
begin_step_xact(void)
{
	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	PushActiveSnapshot(GetTransactionSnapshot());
}

static void
end_step_xact(void)
{
	PopActiveSnapshot();
	CommitTransactionCommand();
}

/*
 * The method the worker compresses its full-page images with when the
 * server's wal_compression is off.
 */
#ifdef USE_LZ4
#define WORKER_WAL_COMPRESSION	"lz4"
#else
#define WORKER_WAL_COMPRESSION	"pglz"
#endif

/*
 * A backlog's first removal from each page after a checkpoint writes the
 * whole page to the WAL, and a mass expiry touches most pages of the table:
 * those images were most of its WAL.  Compressed, they cut the WAL per
 * removed session under traffic by 37-41% and raised the removal rate at
 * the same pacing by 15-17% (bench/analysis.md).  Only the worker's own
 * setting changes, and only when the server's is off: a method the
 * administrator chose stays.  Read again at each round, so a reload that
 * changes the server's takes effect.
 */
static void
compress_page_images(void)
{
	const char *server = GetConfigOptionResetString("wal_compression");

	SetConfigOption("wal_compression",
					strcmp(server, "off") == 0 ? WORKER_WAL_COMPRESSION : server,
					PGC_SUSET, PGC_S_SESSION);
}

/*
 * The heap pages the last batch deleted from, kept across its commit for
 * prune_deleted_pages (in TopMemoryContext, grown to the largest batch).
 */
static BlockNumber *deleted_pages;
static int	deleted_pages_n;
static int	deleted_pages_size;
static TransactionId deleted_by;

static void
keep_deleted_pages(IdsessExpired *r)
{
	deleted_pages_n = 0;
	if (!idsess_expire_prune || r->nblocks == 0)
		return;
	if (r->nblocks > deleted_pages_size)
	{
		deleted_pages = deleted_pages == NULL ?
			MemoryContextAlloc(TopMemoryContext, sizeof(BlockNumber) * r->nblocks) :
			repalloc(deleted_pages, sizeof(BlockNumber) * r->nblocks);
		deleted_pages_size = r->nblocks;
	}
	memcpy(deleted_pages, r->blocks, sizeof(BlockNumber) * r->nblocks);
	deleted_pages_n = r->nblocks;
	deleted_by = GetTopTransactionIdIfAny();
}

/*
 * Prunes the pages the last batch deleted from (expire.c), in a transaction
 * of its own right after the deletes' commit (and before the batch's pause),
 * so that the traffic finds them pruned and does not prune them on its
 * requests' path.  It waits up to PRUNE_WAIT_MS for the statements that
 * began before the commit; a snapshot held longer (a report, a dump) makes
 * the rest of the round prune only what needs no waiting, rather than wait
 * after every batch.
 */
#define PRUNE_WAIT_MS	100

static int	prune_wait_ms;

static void
prune_deleted_pages(void)
{
	if (deleted_pages_n == 0)
		return;
	begin_step_xact();
	if (idsess_prune_session_pages(deleted_pages, deleted_pages_n, deleted_by, prune_wait_ms) < 0)
		prune_wait_ms = 0;
	end_step_xact();
	deleted_pages_n = 0;
}

/* Removes every due session, one transaction per batch. */
static void
step_expire(void)
{
	IdsessDueCursor cursor = {false, 0, 0};
	TimestampTz began = GetCurrentTimestamp();	/* the pacing's schedule */
	int64		taken = 0;

	compress_page_images();
	prune_wait_ms = PRUNE_WAIT_MS;
	for (;;)
	{
		IdsessExpired r;
		TimestampTz start = GetCurrentTimestamp();
		bool		busy_before = idsess_expire_batch_delay_ms == 0 && foreground_busy();
		bool		fixed = false;

		begin_step_xact();
		r = idsess_expire_batch(idsess_schema_version(), idsess_expire_batch_size,
								idsess_expired_trigger_logout, NULL, NULL, &cursor, NULL);
		keep_deleted_pages(&r);
		end_step_xact();
		prune_deleted_pages();
		/* Autovacuum learns of the dead rows only from reported stats. */
		(void) pgstat_report_stat(false);
		round_removed += r.removed;
		taken += r.locked;
		if (r.locked < idsess_expire_batch_size)
			break;
		if (idsess_expire_batch_delay_ms > 0)
			fixed = pause_between_batches(0, true);
		else if (busy_before && foreground_busy())
		{
			long		took = TimestampDifferenceMilliseconds(start, GetCurrentTimestamp());
			long		pause = Min(Max(PACE_FACTOR * took, 1), PACE_MAX_MS);

			if (idsess_expire_min_rate > 0)
				pause = Min(pause, pace_floor_ms(began, taken));
			if (pause > 0)
				fixed = pause_between_batches(pause, false);
		}
		if (fixed)
		{
			began = GetCurrentTimestamp();
			taken = 0;
		}
		worker_interrupts();
	}
}

/*
 * The admin search index's pending list (search_index.c).  The worker looks
 * at it every round; between rounds, the backend whose commit brings the
 * list to the merge threshold (by the count of sessions written, at the
 * rows per page last seen) wakes it.  A list the merge left above the
 * threshold (rows added meanwhile) is looked at again TIDY_NAP_MS later.
 */
#define TIDY_NAP_MS			100
#define TIDY_ROWS_PER_PAGE	4	/* when the list is empty: about 1.4 kB a row */

static long tidy_nap_ms = 0;	/* 0: no earlier look needed */

static void
step_tidy_search(void)
{
	IdsessSearchTidy t;
	int32		countdown = 0;

	begin_step_xact();
	t = idsess_tidy_search_index();
	end_step_xact();

	tidy_nap_ms = 0;
	if (t.threshold > t.after)
	{
		double		per_page = t.before > 0 && t.rows > 0 ?
			(double) t.rows / t.before : TIDY_ROWS_PER_PAGE;

		countdown = (int32) Min((t.threshold - t.after) * per_page, PG_INT32_MAX);
		countdown = Max(countdown, 1);
	}
	else if (t.threshold > 0)
		tidy_nap_ms = TIDY_NAP_MS;
	idsess_slot_set_search_countdown(my_index, countdown);
}

static bool
have_master_key(void)
{
	return idsess_master_key_file && idsess_master_key_file[0] != '\0';
}

/* Makes a new data key active when the active one is older than idsess.key_lifetime. */
static void
step_rotate(void)
{
	begin_step_xact();
	(void) idsess_rotate_if_old();
	end_step_xact();
}

static bool
reseal_wanted(void)
{
	return have_master_key() && idsess_reseal_batch_size > 0;
}

/* Re-seals one batch of tickets under older keys. */
static void
step_reseal(void)
{
	begin_step_xact();
	(void) idsess_reseal_batch(idsess_schema_api(), idsess_reseal_batch_size);
	end_step_xact();
}

/*
 * Deletes one batch of revocation tombstones past their time (revoke.c),
 * so that the table does not keep the keys of sessions long gone when no
 * revocation comes along to purge them.
 */
static void
step_purge_revoked(void)
{
	begin_step_xact();
	(void) idsess_purge_revoked_keys(idsess_expire_batch_size);
	end_step_xact();
}

/* Moves this database's event counters into the hourly history. */
static void
step_stats(void)
{
	begin_step_xact();
	idsess_stats_flush(my_index);
	end_step_xact();
}

/* When the next session falls due, and whether due ones were left behind. */
static void
step_next_due(void)
{
	begin_step_xact();
	round_found = idsess_next_due(&round_due, &round_overdue);
	end_step_xact();
}

/*
 * In order.  Per-round housekeeping goes between the key upkeep and the
 * history, as one more entry.
 */
static RoundStep round_steps[] = {
	{.activity = "idsess: removing expired sessions", .run = step_expire},
	{.activity = "idsess: merging the search index's pending list", .run = step_tidy_search},
	{.activity = "idsess: rotating the data key", .run = step_rotate, .wanted = have_master_key},
	{.activity = "idsess: re-sealing tickets under older keys", .run = step_reseal, .wanted = reseal_wanted},
	{.activity = "idsess: purging revocation tombstones past their time", .run = step_purge_revoked},
	{.activity = "idsess: flushing the hourly history", .run = step_stats},
	{.activity = "idsess: looking for the next due session", .run = step_next_due},
};

/*
 * Keeps the error's message only (never its detail, which may name files or
 * hold row contents), cut at a character boundary.  A message that names
 * the master key file, which idsess_reporting must not learn, is replaced.
 */
static void
record_error(const char *message)
{
	char		buf[IDSESS_LAST_ERROR_LEN];
	int			len;

	if (message == NULL)
		message = "unknown error";
	if (idsess_master_key_file && idsess_master_key_file[0] != '\0' &&
		strstr(message, idsess_master_key_file) != NULL)
		message = "error about the master key file (see the server log)";
	len = pg_mbcliplen(message, strlen(message), sizeof(buf) - 1);
	memcpy(buf, message, len);
	buf[len] = '\0';
	idsess_slot_note_error(my_index, buf);
}

/* Runs one step unless it is backing off; false when it failed. */
static bool
run_step(RoundStep *step, MemoryContext round_cxt)
{
	bool		ok = true;

	if (step->wanted && !step->wanted())
		return true;
	if (step->failures > 0 && GetCurrentTimestamp() < step->retry_at)
		return false;
	pgstat_report_activity(STATE_RUNNING, step->activity);
	PG_TRY();
	{
		step->run();
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		MemoryContextSwitchTo(round_cxt);
		edata = CopyErrorData();
		EmitErrorReport();
		FlushErrorState();
		AbortCurrentTransaction();
		record_error(edata->message);
		ok = false;
	}
	PG_END_TRY();
	if (ok)
		step->failures = 0;
	else
	{
		long		backoff = STEP_BACKOFF_MIN_MS;

		for (int i = 1; i < step->failures && backoff < STEP_BACKOFF_MAX_MS; i++)
			backoff *= 2;
		step->failures++;
		step->retry_at = TimestampTzPlusMilliseconds(GetCurrentTimestamp(),
													 Min(backoff, STEP_BACKOFF_MAX_MS));
	}
	return ok;
}

/*
 * One round: checks that the database has the extension, then runs the
 * steps.  Returns how long to sleep, in milliseconds.
 */
static long
expire_round(MemoryContext round_cxt)
{
	long		nap = idsess_max_nap_ms;

	begin_step_xact();
	if (!OidIsValid(get_extension_oid("idsess", true)))
	{
		end_step_xact();
		wait_for_extension();
	}
	end_step_xact();
	idsess_slot_round_starts(my_index);

	round_removed = 0;
	round_found = false;
	round_overdue = false;
	for (int i = 0; i < (int) lengthof(round_steps); i++)
	{
		worker_interrupts();
		(void) run_step(&round_steps[i], round_cxt);
	}
	(void) pgstat_report_stat(true);
	pgstat_report_activity(STATE_IDLE, NULL);

	if (round_found)
	{
		TimestampTz now = GetCurrentTimestamp();

		/* Wake just after it is due, since removal tests due <= now(). */
		nap = round_due <= now ? 1 : (long) ((round_due - now) / 1000) + 1;
		if (nap > idsess_max_nap_ms)
			nap = idsess_max_nap_ms;
	}
	if (tidy_nap_ms > 0)
		nap = Min(nap, tidy_nap_ms);
	if (round_overdue)
	{
		overdue_nap_ms = overdue_nap_ms == 0 ? OVERDUE_NAP_MIN_MS :
			Min(overdue_nap_ms * 2, idsess_max_nap_ms);
		nap = Min(nap, overdue_nap_ms);
	}
	else
		overdue_nap_ms = 0;

	idsess_slot_round_ends(my_index, round_removed, round_found ? round_due : 0);
	return nap;
}

void
idsess_worker_main(Datum main_arg)
{
	int			index = DatumGetInt32(main_arg);
	char		dbname[NAMEDATALEN];
	MemoryContext round_cxt;

	strlcpy(dbname, MyBgworkerEntry->bgw_extra, NAMEDATALEN);
	pqsignal(SIGHUP, SignalHandlerForConfigReload);
	pqsignal(SIGTERM, die);
	BackgroundWorkerUnblockSignals();
	BackgroundWorkerInitializeConnection(dbname, NULL, 0);
	SetConfigOption("search_path", IDSESS_SEARCH_PATH, PGC_SUSET, PGC_S_OVERRIDE);

	if (index < 0 || index >= IDSESS_MAX_WORKERS || !idsess_shmem_ready() ||
		!claim_slot(index, dbname))
		proc_exit(0);

	round_cxt = AllocSetContextCreate(TopMemoryContext, "idsess expiry round",
									  ALLOCSET_DEFAULT_SIZES);
	for (;;)
	{
		long		nap;
		MemoryContext old = MemoryContextSwitchTo(round_cxt);

		worker_interrupts();

		/*
		 * Until the round has looked for the next due time, any session
		 * committed meanwhile must set the latch, so that it is not missed.
		 */
		idsess_slot_set_wake(my_index, PG_INT64_MAX);

		nap = expire_round(round_cxt);
		MemoryContextSwitchTo(old);
		MemoryContextReset(round_cxt);

		idsess_slot_set_wake(my_index, GetCurrentTimestamp() + (TimestampTz) nap * 1000);
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 nap, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
	}
}
