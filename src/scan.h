/*-------------------------------------------------------------------------
 *
 * scan.h
 *		Rows found straight from an index, without SPI (scan.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef IDSESS_SCAN_H
#define IDSESS_SCAN_H

#include "idsess.h"
#include "executor/tuptable.h"
#include "utils/snapshot.h"

extern Oid	idsess_relid(Oid nsp, const char *name);
extern void idsess_scan_index(Oid nsp, const char *tabname, const char *idxname,
							  RegProcedure proc, Datum value, Snapshot snapshot,
							  void (*each) (TupleTableSlot *slot, void *arg), void *arg);

#endif							/* IDSESS_SCAN_H */
