/*-------------------------------------------------------------------------
 *
 * validate.h
 *		Argument checks shared by the SQL-callable functions (validate.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef IDSESS_VALIDATE_H
#define IDSESS_VALIDATE_H

#include "idsess.h"
#include "fmgr.h"

extern text *idsess_arg_id(FunctionCallInfo fcinfo, int argno, const char *what,
						   int maxchars);
extern text *idsess_arg_id_opt(FunctionCallInfo fcinfo, int argno, const char *what,
							   int maxchars);
extern void idsess_check_id(text *t, const char *what, int maxchars);
extern void idsess_require_filter(text *subject_id, text *session_id);
extern int	idsess_arg_count(FunctionCallInfo fcinfo, int argno, int dflt, int max);
extern void idsess_check_ticket_size(Size len);

#endif							/* IDSESS_VALIDATE_H */
