/*-------------------------------------------------------------------------
 *
 * version.c
 *		Which version of idsess's SQL API a call is for.
 *
 * From 1.2 on, each script binds its functions to C symbols named for the
 * version (idsess_create_1_2), whose wrappers pass that version down: the
 * version is declared, not guessed.  The 1.0 and 1.1 scripts, released and
 * frozen, bound the same unversioned symbols (idsess_create), which this
 * library still serves until ALTER EXTENSION UPDATE.  For those, and for
 * the worker, which no script calls, the one remaining question is asked
 * here: is this a 1.0 schema, or 1.1 and later?  idsess.revoked_keys came
 * with 1.1, in the same upgrade transaction as the rest of its schema.  The
 * answer is cached per backend and forgotten on any change to pg_class
 * names (a syscache callback on RELNAMENSP), so an update is seen by the
 * next call without a lookup on every call.
 *
 *-------------------------------------------------------------------------
 */
#include "idsess.h"
#include "version.h"

#include "catalog/namespace.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"

typedef enum
{
	SCHEMA_UNKNOWN,
	SCHEMA_1_0,
	SCHEMA_1_1,
	SCHEMA_1_2_ON
} SchemaState;

static SchemaState schema = SCHEMA_UNKNOWN;
static bool callback_registered = false;

static void
forget_schema(Datum arg pg_attribute_unused(), int cacheid pg_attribute_unused(),
			  uint32 hashvalue pg_attribute_unused())
{
	schema = SCHEMA_UNKNOWN;
}

/*
 * The API of this database's schema, as far as a caller without a declared
 * version needs it: IDSESS_API_1_0, or IDSESS_API_1_1 for 1.1 and later.
 */
IdsessApi
idsess_schema_api(void)
{
	return Min(idsess_schema_version(), IDSESS_API_1_1);
}

/*
 * The version of this database's schema, 1.2 included, for the worker,
 * which no script calls and which writes 1.2's columns (the end cause
 * max_lifetime, its count) only where they exist.  idsess.stats_trimmed
 * came with 1.2, in the same upgrade transaction as the rest of it.
 */
IdsessApi
idsess_schema_version(void)
{
	if (!callback_registered)
	{
		CacheRegisterSyscacheCallback(RELNAMENSP, forget_schema, (Datum) 0);
		callback_registered = true;
	}
	if (schema == SCHEMA_UNKNOWN)
	{
		Oid			nsp = get_namespace_oid("idsess", true);

		if (!OidIsValid(nsp) || !OidIsValid(get_relname_relid("revoked_keys", nsp)))
			schema = SCHEMA_1_0;
		else
			schema = OidIsValid(get_relname_relid("stats_trimmed", nsp)) ?
				SCHEMA_1_2_ON : SCHEMA_1_1;
	}
	return schema == SCHEMA_1_0 ? IDSESS_API_1_0 :
		schema == SCHEMA_1_1 ? IDSESS_API_1_1 : IDSESS_API_1_2;
}

/*
 * The API of a call through an unversioned symbol, which the 1.0 and 1.1
 * scripts both bound: the schema's.  The call's argument count must be the
 * one that version's script declared (nargs_1_0, nargs_1_1); it differs
 * only when ALTER EXTENSION UPDATE committed between planning the call and
 * running it, and the call is then refused rather than read past its
 * arguments.
 */
IdsessApi
idsess_unversioned_api(FunctionCallInfo fcinfo, int nargs_1_0, int nargs_1_1)
{
	IdsessApi	api = idsess_schema_api();

	if (PG_NARGS() != (api == IDSESS_API_1_0 ? nargs_1_0 : nargs_1_1))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("idsess was updated while this statement ran"),
				 errdetail("The function was called with %d arguments, which is not the signature of this database's idsess version.",
						   PG_NARGS()),
				 errhint("Run the statement again.")));
	return api;
}

/*
 * Checks that a result type has the columns its version declares (the type
 * is read from the catalog, so the same race applies as above).
 */
void
idsess_check_natts(TupleDesc desc, int natts, const char *type_name)
{
	if (desc->natts != natts)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("idsess was updated while this statement ran"),
				 errdetail("The result type %s has %d columns where this version of idsess returns %d.",
						   type_name, desc->natts, natts),
				 errhint("Run the statement again.")));
}
