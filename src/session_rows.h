/*-------------------------------------------------------------------------
 *
 * session_rows.h
 *		A live session's row, and result sets of sessions (session_rows.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef IDSESS_SESSION_ROWS_H
#define IDSESS_SESSION_ROWS_H

#include "idsess.h"
#include "spi.h"
#include "version.h"

#include "fmgr.h"
#include "utils/tuplestore.h"

extern void idsess_require_ticket_role(void);
extern Tuplestorestate *idsess_ticket_srf(FunctionCallInfo fcinfo);
extern void idsess_open_session_rows(Tuplestorestate *from, Tuplestorestate *to,
									 TupleDesc desc, bool tickets);
extern int64 idsess_lock_live_session(text *key, bool for_write);
extern void idsess_refresh_copy(int64 id, IdsessApi schema);
extern int	idsess_run_exact(IdsessQuery *by_subject, IdsessQuery *by_sid,
							 IdsessQuery *by_both, text *subject, text *sid,
							 bool read_only);

#endif							/* IDSESS_SESSION_ROWS_H */
