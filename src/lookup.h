/*-------------------------------------------------------------------------
 *
 * lookup.h
 *		Gets of one session, by key or by sid (lookup.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef IDSESS_LOOKUP_H
#define IDSESS_LOOKUP_H

#include "idsess.h"
#include "version.h"
#include "fmgr.h"

extern void idsess_get_by_sid(FunctionCallInfo fcinfo, text *sid, IdsessApi api);

#endif							/* IDSESS_LOOKUP_H */
