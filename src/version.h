/*-------------------------------------------------------------------------
 *
 * version.h
 *		The versions of idsess's SQL API (version.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef IDSESS_VERSION_H
#define IDSESS_VERSION_H

#include "idsess.h"

#include "access/tupdesc.h"
#include "fmgr.h"

/* In order: a later version is greater. */
typedef enum IdsessApi
{
	IDSESS_API_1_0,
	IDSESS_API_1_1,
	IDSESS_API_1_2
} IdsessApi;

extern IdsessApi idsess_schema_api(void);
extern IdsessApi idsess_schema_version(void);
extern IdsessApi idsess_unversioned_api(FunctionCallInfo fcinfo, int nargs_1_0, int nargs_1_1);
extern void idsess_check_natts(TupleDesc desc, int natts, const char *type_name);

#endif							/* IDSESS_VERSION_H */
