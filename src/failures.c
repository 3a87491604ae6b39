/*-------------------------------------------------------------------------
 *
 * failures.c
 *		Counting tickets that failed to seal or open, per database and
 *		SQLSTATE, for monitoring (idsess_ticket_failures()).
 *
 * A failure aborts the transaction that would have recorded it in a table,
 * so the counts live in shared memory: added to when the failure happens,
 * kept until the server restarts (a Prometheus counter's reset).  The table
 * of kinds (database, operation, SQLSTATE) is fixed in size; a failure of
 * a new kind once it is full is counted per operation under the SQLSTATE
 * "other", shown in every database.  Without shared_preload_libraries
 * nothing is counted.
 *
 * The kinds a master key or key ring problem and a damaged ticket raise are
 * reported at 0 before they first happen, so that an alert on their
 * increase sees the first one.
 *
 *-------------------------------------------------------------------------
 */
#include "idsess.h"
#include "failures.h"
#include "tenant.h"

#include "funcapi.h"
#include "miscadmin.h"
#include "storage/shmem.h"
#include "utils/builtins.h"

PG_FUNCTION_INFO_V1(idsess_ticket_failures);

#define FAILURE_KINDS	512

typedef struct FailureKind
{
	Oid			dboid;			/* InvalidOid: free */
	int			op;				/* IdsessFailureOp */
	int			sqlerrcode;
	uint64		count;
} FailureKind;

typedef struct FailureCounts
{
	slock_t		mutex;
	uint64		other[IDSESS_NUM_FAILURE_OPS];	/* kinds that found the table full */
	FailureKind kinds[FAILURE_KINDS];
} FailureCounts;

static FailureCounts *failures = NULL;

static const char *const op_names[IDSESS_NUM_FAILURE_OPS] = {"seal", "open"};

/* Shown at 0 until they happen: see the header comment. */
static const struct
{
	IdsessFailureOp op;
	const char *sqlstate;
}			known[] = {
	{IDSESS_FAILURE_SEAL, "55000"},	/* no master key set, no active key */
	{IDSESS_FAILURE_SEAL, "58P01"},	/* master key file missing */
	{IDSESS_FAILURE_SEAL, "F0000"},	/* master key file unusable or wrong */
	{IDSESS_FAILURE_SEAL, "XX001"},	/* wrapped data key damaged */
	{IDSESS_FAILURE_OPEN, "XX001"},	/* ticket malformed or altered */
	{IDSESS_FAILURE_OPEN, "42704"},	/* its key is not in the ring */
	{IDSESS_FAILURE_OPEN, "55000"},	/* its key was retired or destroyed */
	{IDSESS_FAILURE_OPEN, "58P01"},
	{IDSESS_FAILURE_OPEN, "F0000"},
};

Size
idsess_failures_shmem_size(void)
{
	return sizeof(FailureCounts);
}

/* At shared memory startup, with AddinShmemInitLock held. */
void
idsess_failures_shmem_init(void)
{
	bool		found;

	failures = ShmemInitStruct("idsess ticket failures", sizeof(FailureCounts), &found);
	if (!found)
	{
		memset(failures, 0, sizeof(FailureCounts));
		SpinLockInit(&failures->mutex);
	}
}

/*
 * Counts one failure of this database.  Called on error paths, before or
 * while the error propagates: it takes only a spinlock and never raises.
 */
void
idsess_count_failure(IdsessFailureOp op, int sqlerrcode)
{
	FailureKind *free_kind = NULL;

	if (failures == NULL)
		return;
	SpinLockAcquire(&failures->mutex);
	for (int i = 0; i < FAILURE_KINDS; i++)
	{
		FailureKind *k = &failures->kinds[i];

		if (k->dboid == MyDatabaseId && k->op == (int) op && k->sqlerrcode == sqlerrcode)
		{
			k->count++;
			SpinLockRelease(&failures->mutex);
			return;
		}
		if (k->dboid == InvalidOid && free_kind == NULL)
			free_kind = k;
	}
	if (free_kind != NULL)
	{
		free_kind->dboid = MyDatabaseId;
		free_kind->op = (int) op;
		free_kind->sqlerrcode = sqlerrcode;
		free_kind->count = 1;
	}
	else
		failures->other[op]++;
	SpinLockRelease(&failures->mutex);
}

static void
put_row(ReturnSetInfo *rsinfo, int op, const char *sqlstate, uint64 count)
{
	Datum		values[3];
	bool		nulls[3] = {0};

	values[0] = CStringGetTextDatum(op_names[op]);
	values[1] = CStringGetTextDatum(sqlstate);
	values[2] = Int64GetDatum((int64) count);
	tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
}

/*
 * idsess_ticket_failures(): this database's failures to seal or open a
 * ticket since the server started, per operation and SQLSTATE.
 */
Datum
idsess_ticket_failures(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo;
	FailureKind *mine;
	int			n = 0;
	uint64		other[IDSESS_NUM_FAILURE_OPS];

	/* Kept for all tenants together: not a tenant admin's to read. */
	idsess_tenant_require_all("idsess_ticket_failures");

	InitMaterializedSRF(fcinfo, 0);
	rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	if (failures == NULL)
		return (Datum) 0;

	/* A copy, so that no row is built under the spinlock. */
	mine = palloc(sizeof(FailureKind) * FAILURE_KINDS);
	SpinLockAcquire(&failures->mutex);
	for (int i = 0; i < FAILURE_KINDS; i++)
		if (failures->kinds[i].dboid == MyDatabaseId)
			mine[n++] = failures->kinds[i];
	memcpy(other, failures->other, sizeof(other));
	SpinLockRelease(&failures->mutex);

	for (int j = 0; j < (int) lengthof(known); j++)
	{
		int			code = MAKE_SQLSTATE(known[j].sqlstate[0], known[j].sqlstate[1],
										 known[j].sqlstate[2], known[j].sqlstate[3],
										 known[j].sqlstate[4]);
		uint64		count = 0;

		for (int i = 0; i < n; i++)
			if (mine[i].op == (int) known[j].op && mine[i].sqlerrcode == code)
			{
				count = mine[i].count;
				mine[i].dboid = InvalidOid; /* shown */
			}
		put_row(rsinfo, known[j].op, known[j].sqlstate, count);
	}
	for (int i = 0; i < n; i++)
		if (mine[i].dboid != InvalidOid)
			put_row(rsinfo, mine[i].op, unpack_sql_state(mine[i].sqlerrcode), mine[i].count);
	for (int op = 0; op < IDSESS_NUM_FAILURE_OPS; op++)
		if (other[op] > 0)
			put_row(rsinfo, op, "other", other[op]);
	return (Datum) 0;
}
