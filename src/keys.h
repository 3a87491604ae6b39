/*-------------------------------------------------------------------------
 *
 * keys.h
 *		Key rotation and resealing, as the worker runs them (keys.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef IDSESS_KEYS_H
#define IDSESS_KEYS_H

#include "idsess.h"
#include "version.h"

extern int	idsess_reseal_batch(IdsessApi schema, int limit);
extern bool idsess_rotate_if_old(void);

#endif							/* IDSESS_KEYS_H */
