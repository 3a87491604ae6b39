/*-------------------------------------------------------------------------
 *
 * worker.h
 *		The launcher and the per-database expiry workers (worker.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef IDSESS_WORKER_H
#define IDSESS_WORKER_H

#include "idsess.h"

extern void idsess_register_launcher(void);

#endif							/* IDSESS_WORKER_H */
