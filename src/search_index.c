/*-------------------------------------------------------------------------
 *
 * search_index.c
 *		Keeps the pending list of the admin search's trigram index short.
 *
 * idsess.sessions_search_idx is a GIN index with fast update: each new row
 * (a create, a save that changes the key) appends its trigrams, about 1.4 kB
 * of them, to the index's pending list, and the backend whose insert takes
 * the list past gin_pending_list_limit merges the whole list into the index
 * before its statement can finish.  Profiled under 4-client sign-ins, those
 * merges were a fifth of the backends' time, and the sign-in that ran one
 * waited 60 to 780 ms (bench/analysis.md).  The expiry worker
 * merges the list itself once it holds a quarter of the limit, so sign-ins
 * find it short; when the worker falls behind (or is not running) a backend
 * still merges it, as without idsess's worker.
 *
 *-------------------------------------------------------------------------
 */
#include "idsess.h"
#include "search_index.h"

#include "access/gin_private.h"
#include "access/relation.h"
#include "catalog/namespace.h"
#include "catalog/pg_am.h"
#include "catalog/pg_class.h"
#include "storage/bufmgr.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"

/* The share of the index's pending list limit at which the worker merges. */
#define TIDY_FRACTION	4

/*
 * Looks at the index's pending list and merges it into the index when it
 * holds at least a quarter of the index's limit.  The caller is in a
 * transaction.  An index that is gone or was replaced by one of another
 * kind is left alone (all zeros); one with fast update off has no list.
 */
IdsessSearchTidy
idsess_tidy_search_index(void)
{
	IdsessSearchTidy t = {0, 0, 0, 0};
	Oid			nsp = get_namespace_oid("idsess", true);
	Oid			indexoid;
	Relation	index;
	Buffer		metabuf;
	GinMetaPageData *meta;

	if (!OidIsValid(nsp))
		return t;
	indexoid = get_relname_relid("sessions_search_idx", nsp);
	if (!OidIsValid(indexoid))
		return t;
	/* Dropped since it was looked up (DROP EXTENSION): nothing to merge. */
	index = try_relation_open(indexoid, RowExclusiveLock);
	if (index == NULL)
		return t;
	if (index->rd_rel->relkind != RELKIND_INDEX || index->rd_rel->relam != GIN_AM_OID)
	{
		relation_close(index, RowExclusiveLock);
		return t;
	}
	t.threshold = Max(1, (BlockNumber) ((Size) GinGetPendingListCleanupSize(index) * 1024 /
										BLCKSZ / TIDY_FRACTION));

	metabuf = ReadBuffer(index, GIN_METAPAGE_BLKNO);
	LockBuffer(metabuf, GIN_SHARE);
	meta = GinPageGetMeta(BufferGetPage(metabuf));
	t.before = t.after = meta->nPendingPages;
	t.rows = meta->nPendingHeapTuples;
	UnlockReleaseBuffer(metabuf);

	if (t.before >= t.threshold)
	{
		GinState	ginstate;
		IndexBulkDeleteResult stats;

		/*
		 * Up to the list's tail as it is now, not chasing rows added
		 * meanwhile; and not waiting for a backend already merging it.
		 */
		memset(&stats, 0, sizeof(stats));
		initGinState(&ginstate, index);
		ginInsertCleanup(&ginstate, false, true, false, &stats);

		metabuf = ReadBuffer(index, GIN_METAPAGE_BLKNO);
		LockBuffer(metabuf, GIN_SHARE);
		t.after = GinPageGetMeta(BufferGetPage(metabuf))->nPendingPages;
		UnlockReleaseBuffer(metabuf);
	}
	relation_close(index, RowExclusiveLock);
	return t;
}
