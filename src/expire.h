/*-------------------------------------------------------------------------
 *
 * expire.h
 *		Removing expired and idle sessions, batch by batch (expire.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef IDSESS_EXPIRE_H
#define IDSESS_EXPIRE_H

#include "idsess.h"
#include "version.h"

#include "datatype/timestamp.h"
#include "storage/block.h"
#include "utils/timestamp.h"
#include "utils/tuplestore.h"

typedef struct IdsessExpired
{
	int64		locked;			/* due sessions the batch took */
	int64		removed;		/* of those, removed */
	int64		rescheduled;	/* of those, idle sessions found active, re-queued */
	int64		claimed;		/* of those, claimed for a lease instead of removed */
	BlockNumber *blocks;		/* with a cursor: the sessions' heap pages the */
	int			nblocks;		/* batch deleted from, in the caller's context */
} IdsessExpired;

/* Where a walk through the due sessions has got to. */
typedef struct IdsessDueCursor
{
	bool		valid;
	TimestampTz due;
	int64		id;
} IdsessDueCursor;

extern IdsessExpired idsess_expire_batch(IdsessApi schema, int limit, bool to_outbox,
										 Tuplestorestate *out, TupleDesc outdesc,
										 IdsessDueCursor *cursor, Interval *lease);
extern int	idsess_prune_session_pages(BlockNumber *blocks, int n, TransactionId deleter,
									   int wait_ms);
extern int	idsess_end_claimed(IdsessApi schema, Datum keys);
extern bool idsess_next_due(TimestampTz *due, bool *overdue);

#endif							/* IDSESS_EXPIRE_H */
