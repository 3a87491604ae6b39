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
#include "utils/timestamp.h"

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

/* The longest user agent kept, in characters; a longer one is cut there. */
#define IDSESS_MAX_AGENT_CHARS		512

/*
 * The client arguments of a create, an update or a touch, reduced to what
 * idsess.record_client allows (0 or NULL: nothing to record).
 */
typedef struct IdsessClient
{
	bool		recording;		/* idsess.record_client is not off */
	Datum		ip;				/* inet, truncated to the prefix settings */
	text	   *agent;
	text	   *device;
} IdsessClient;

extern void idsess_client_args(FunctionCallInfo fcinfo, int ip_arg, int agent_arg,
							   int device_arg, IdsessClient *out);
extern Interval *idsess_activity_granularity(void);
extern void idsess_strength_args(FunctionCallInfo fcinfo, int acr_arg, int amr_arg,
								 int auth_time_arg, IdsessStrength *out);

#endif							/* IDSESS_ACTIVITY_H */
