/*-------------------------------------------------------------------------
 *
 * stats.h
 *		Session events counted per database for the hourly history (stats.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef IDSESS_STATS_H
#define IDSESS_STATS_H

#include "idsess.h"
#include "shmem.h"

extern void idsess_count(IdsessEvent ev, int64 n);
extern void idsess_count_tenant(IdsessEvent ev, Datum tenant);
extern void idsess_stats_init(void);
extern void idsess_stats_flush(int slot_index);

#endif							/* IDSESS_STATS_H */
