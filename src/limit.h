/*-------------------------------------------------------------------------
 *
 * limit.h
 *		The per-subject session limit (limit.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef IDSESS_LIMIT_H
#define IDSESS_LIMIT_H

#include "idsess.h"
#include "version.h"

extern Datum idsess_apply_session_limit(IdsessApi schema, text *subject, text *tenant, int limit,
										 bool to_outbox);

#endif							/* IDSESS_LIMIT_H */
