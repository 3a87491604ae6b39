/*-------------------------------------------------------------------------
 *
 * failures.h
 *		Tickets that failed to seal or open, counted by SQLSTATE (failures.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef IDSESS_FAILURES_H
#define IDSESS_FAILURES_H

#include "idsess.h"

typedef enum IdsessFailureOp
{
	IDSESS_FAILURE_SEAL,
	IDSESS_FAILURE_OPEN,
	IDSESS_NUM_FAILURE_OPS
} IdsessFailureOp;

extern Size idsess_failures_shmem_size(void);
extern void idsess_failures_shmem_init(void);
extern void idsess_count_failure(IdsessFailureOp op, int sqlerrcode);

#endif							/* IDSESS_FAILURES_H */
