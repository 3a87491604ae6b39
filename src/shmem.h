/*-------------------------------------------------------------------------
 *
 * shmem.h
 *		idsess's shared memory: one slot per served database (shmem.c).
 *
 * Locks: each slot's spinlock (mutex) guards every plain field of its slot,
 * read or written, by the launcher, the database's worker, committing
 * backends (wake_at, and dboid when they find a slot whose worker has not
 * yet connected) and idsess_worker_status; it is held for a few field
 * copies only, never across a call that can fail.  Only shmem.c takes it:
 * the others call the idsess_slot_* accessors below, named for what each
 * side does.  The counters marked atomic are read and written without it,
 * except that adding to counts and zeroing them hold it, so that a slot
 * cannot change database between a backend finding it and adding to it.
 * IdsessShared.mutex guards launcher_latch only.
 *
 *-------------------------------------------------------------------------
 */
#ifndef IDSESS_SHMEM_H
#define IDSESS_SHMEM_H

#include "idsess.h"

#include "port/atomics.h"
#include "storage/spin.h"
#include "utils/timestamp.h"

#define IDSESS_MAX_WORKERS	32
#define IDSESS_LAST_ERROR_LEN 256

typedef enum IdsessWorkerState
{
	IDSESS_WORKER_STARTING,
	IDSESS_WORKER_NO_EXTENSION,
	IDSESS_WORKER_SLEEPING,
	IDSESS_WORKER_EXPIRING
} IdsessWorkerState;

/* Session events counted per served database for the hourly history (stats.c). */
typedef enum IdsessEvent
{
	IDSESS_EV_CREATED,
	IDSESS_EV_EXPIRED,
	IDSESS_EV_IDLE,
	IDSESS_EV_REVOKED,
	IDSESS_EV_DELETED,
	IDSESS_EV_LIMITED,
	IDSESS_EV_MAX_LIFETIME,		/* 1.2 */
	IDSESS_NUM_EVENTS
} IdsessEvent;

/*
 * One per served database.  The launcher assigns a slot to a database
 * (dbname) and starts a worker for it; the worker holds it (pid) while it
 * runs.  The assignment outlives both, so a restarted launcher learns from
 * the slots which databases are served and by which process, and the
 * database's event counters survive its worker's restarts.
 */
typedef struct IdsessSlot
{
	slock_t		mutex;
	/* Set by the launcher, under mutex */
	char		dbname[NAMEDATALEN];	/* assigned database; empty: free */
	bool		stop;			/* the launcher asks the worker to exit */
	TimestampTz retry_at;		/* no worker is started before this */
	bool		announced_missing;	/* "waiting for CREATE EXTENSION" logged */
	/* Set by the serving worker (pid, latch: the launcher too), under mutex */
	pid_t		pid;			/* the worker serving it; 0: none */
	Oid			dboid;			/* set by its first worker */
	struct Latch *latch;
	IdsessWorkerState state;
	TimestampTz started;
	TimestampTz last_run;
	int64		last_removed;
	int64		total_removed;
	int64		paced_batches;	/* pauses between backlog batches */
	int64		paced_ms;		/* their total length */
	TimestampTz next_due;		/* earliest due session seen; 0: none */
	/* Set by the worker, lowered by committing backends, under mutex */
	TimestampTz wake_at;		/* when the worker will look again */
	TimestampTz last_error_at;
	char		last_error[IDSESS_LAST_ERROR_LEN];
	/* Atomic, no lock: added to by committing backends, drained by stats.c */
	pg_atomic_uint64 counts[IDSESS_NUM_EVENTS]; /* committed, not yet flushed */
	/* Atomic, no lock: sessions committed until the worker looks at the
	 * search index again (a signed count: at or below 0 the wake was sent) */
	pg_atomic_uint32 search_countdown;
} IdsessSlot;

typedef struct IdsessShared
{
	slock_t		mutex;			/* for launcher_latch */
	struct Latch *launcher_latch;
	IdsessSlot	slots[IDSESS_MAX_WORKERS];
} IdsessShared;

/* Columns of idsess_worker_status() in 1.1 (1.0 has the first 10). */
#define IDSESS_WORKER_NATTS_11	12

extern void idsess_shmem_init(void);
extern bool idsess_shmem_ready(void);
extern void idsess_nudge_worker(TimestampTz due);
extern void idsess_note_search_rows(int n);


/* The launcher */
extern void idsess_slot_assignment(int i, char *dbname, bool *held, TimestampTz *retry_at);
extern int	idsess_slot_find(const char *dbname, bool *held, TimestampTz *retry_at);
extern bool idsess_slot_assign(int i, const char *dbname);
extern void idsess_slot_unassign(int i);
extern void idsess_slot_ask_stop(int i);
extern void idsess_set_launcher_latch(bool mine);

/* A database's worker, on its own slot */
extern bool idsess_slot_claim(int i, const char *dbname);
extern void idsess_slot_release(int i);
extern bool idsess_slot_stop_asked(int i);
extern void idsess_slot_note_pause(int i, long ms);
extern bool idsess_slot_await_extension(int i, TimestampTz retry_at);
extern void idsess_slot_note_error(int i, const char *message);
extern void idsess_slot_round_starts(int i);
extern void idsess_slot_round_ends(int i, int64 removed, TimestampTz next_due);
extern void idsess_slot_set_wake(int i, TimestampTz wake_at);
extern void idsess_slot_set_search_countdown(int i, int32 countdown);

/* The event counters (stats.c) */
extern int	idsess_slot_add_counts(const char *dbname, const int64 *n);
extern void idsess_slot_read_counts(int i, int64 *n);
extern void idsess_slot_sub_counts(int i, const int64 *n);

#endif							/* IDSESS_SHMEM_H */
