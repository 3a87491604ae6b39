/*-------------------------------------------------------------------------
 *
 * activity.h
 *		What a session records of its sign-in and of where it is used:
 *		the strength of the sign-in (acr, amr, auth_time) and, as the
 *		privacy settings allow, the client's IP, user agent and device
 *		(activity.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef IDSESS_ACTIVITY_H
#define IDSESS_ACTIVITY_H

#include "idsess.h"

#include "datatype/timestamp.h"
#include "fmgr.h"

/* Limits on the strength of a sign-in. */
#define IDSESS_MAX_AMR_METHODS		32

/* The strength arguments of a create or an update; NULL or false: not given. */
typedef struct IdsessStrength
{
	text	   *acr;			/* '' with clear_acr: clear it */
	bool		clear_acr;
	Datum		amr;			/* text[]; 0: not given */
	bool		has_auth_time;
	TimestampTz auth_time;
} IdsessStrength;

extern void idsess_strength_args(FunctionCallInfo fcinfo, int acr_arg, int amr_arg,
								 int auth_time_arg, IdsessStrength *out);

#endif							/* IDSESS_ACTIVITY_H */
