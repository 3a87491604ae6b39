/*-------------------------------------------------------------------------
 *
 * tenant_stats.h
 *		Session events of each tenant, counted in a shared table until the
 *		database's worker moves them into the history (tenant_stats.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef IDSESS_TENANT_STATS_H
#define IDSESS_TENANT_STATS_H

#include "idsess.h"
#include "shmem.h"

/* A tenant's counts, as the worker's flush reads them. */
typedef struct IdsessTenantCounts
{
	char	   *tenant;			/* in the server encoding */
	int64		n[IDSESS_NUM_EVENTS];
} IdsessTenantCounts;

extern Size idsess_tenant_stats_shmem_size(void);
extern void idsess_tenant_stats_shmem_request(void);
extern void idsess_tenant_stats_shmem_init(void);
extern void idsess_tenant_stats_add(int slot, const IdsessTenantCounts *c, int n);
extern int	idsess_tenant_stats_read(int slot, IdsessTenantCounts **out, int64 *unattributed);
extern void idsess_tenant_stats_sub(int slot, const IdsessTenantCounts *c, int n,
									int64 unattributed);
extern void idsess_tenant_stats_forget(int slot);

#endif							/* IDSESS_TENANT_STATS_H */
