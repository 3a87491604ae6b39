/*-------------------------------------------------------------------------
 *
 * scan.c
 *		Reading idsess's tables straight from their indexes, without SPI or
 *		the executor.
 *
 * The hot paths (idsess_get, the sessions of a sid: lookup.c) and the
 * revocation check that every create makes (revoke.c) each need a few rows
 * found by the leading column of one index; through SPI, planning-free as
 * it is, executor start-up cost more than the probe itself.
 *
 *-------------------------------------------------------------------------
 */
#include "idsess.h"
#include "scan.h"

#include "access/genam.h"
#include "access/relation.h"
#include "access/table.h"
#include "access/tableam.h"
#include "executor/tuptable.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"

/* The OID of relation idsess.<name>, which the extension's script made. */
Oid
idsess_relid(Oid nsp, const char *name)
{
	Oid			relid = get_relname_relid(name, nsp);

	if (!OidIsValid(relid))
		elog(ERROR, "relation idsess.%s is missing; reinstall the extension", name);
	return relid;
}

/*
 * Scans index `idxname` of table `tabname` for rows whose first key column
 * equals `value` (compared with `proc` under the index's collation) and
 * calls `each` for every row visible to `snapshot`.  The slot passed to
 * `each` is valid during the call only.
 */
void
idsess_scan_index(Oid nsp, const char *tabname, const char *idxname, RegProcedure proc,
				  Datum value, Snapshot snapshot,
				  void (*each) (TupleTableSlot *slot, void *arg), void *arg)
{
	Relation	rel = table_open(idsess_relid(nsp, tabname), AccessShareLock);
	Relation	idx = index_open(idsess_relid(nsp, idxname), AccessShareLock);
	ScanKeyData key;
	IndexScanDesc scan;
	TupleTableSlot *slot = table_slot_create(rel, NULL);

	ScanKeyEntryInitialize(&key, 0, 1, BTEqualStrategyNumber, InvalidOid,
						   idx->rd_indcollation[0], proc, value);
	scan = index_beginscan(rel, idx, snapshot, 1, 0);
	index_rescan(scan, &key, 1, NULL, 0);
	while (index_getnext_slot(scan, ForwardScanDirection, slot))
	{
		slot_getallattrs(slot);
		each(slot, arg);
	}
	index_endscan(scan);
	ExecDropSingleTupleTableSlot(slot);
	index_close(idx, NoLock);
	table_close(rel, NoLock);
}
