/*-------------------------------------------------------------------------
 *
 * clients.c
 *		The clients and SAML service-provider sessions of a session
 *		(Duende's IUserSession): add, list and remove clients (each with
 *		its own sid, in 1.1); add, list and remove SAML SP sessions.
 *
 * Clients are rows of idsess.session_clients rather than a list inside the
 * ticket, so "which sessions did client X join" is an index lookup; the
 * session row carries a copy for idsess_get (IDSESS_CLIENT_LIST_OF).  A
 * change locks the session FOR NO KEY UPDATE: concurrent changes to one
 * session take turns, so none is lost from the copy (ON CONFLICT DO NOTHING
 * makes a repeated add harmless), and a concurrent delete or revoke waits
 * for them.  Reading the lists takes FOR KEY SHARE.
 *
 *-------------------------------------------------------------------------
 */
#include "idsess.h"
#include "version.h"
#include "session_rows.h"
#include "session_sql.h"
#include "spi.h"
#include "validate.h"

#include "catalog/pg_type.h"
#include "fmgr.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"


static IdsessQuery q_add_client = {
	.sql = "INSERT INTO idsess.session_clients (session, client_id) VALUES ($1, $2) "
	"ON CONFLICT DO NOTHING",
	.nargs = 2, .argtypes = {INT8OID, TEXTOID}
};

/* 1.1: a given sid replaces the one the client joined with. */
static IdsessQuery q_add_client_sid = {
	.sql = "INSERT INTO idsess.session_clients AS c (session, client_id, client_sid) "
	"VALUES ($1, $2, $3) ON CONFLICT (session, client_id) DO UPDATE "
	"SET client_sid = EXCLUDED.client_sid WHERE EXCLUDED.client_sid IS NOT NULL",
	.nargs = 3, .argtypes = {INT8OID, TEXTOID, TEXTOID}
};

static IdsessQuery q_remove_client = {
	.sql = "DELETE FROM idsess.session_clients WHERE session = $1 AND client_id = $2",
	.nargs = 2, .argtypes = {INT8OID, TEXTOID}
};

static IdsessQuery q_client_list = {
	.sql = "SELECT ARRAY(SELECT client_id FROM idsess.session_clients WHERE session = $1 "
	"ORDER BY added, client_id)",
	.nargs = 1, .argtypes = {INT8OID}
};

static IdsessQuery q_client_sids = {
	.sql = "SELECT ARRAY(SELECT client_sid FROM idsess.session_clients WHERE session = $1 "
	"ORDER BY added, client_id)",
	.nargs = 1, .argtypes = {INT8OID}
};

static IdsessQuery q_saml_list = {
	.sql = "SELECT " IDSESS_SAML_LIST_OF("$1"),
	.nargs = 1, .argtypes = {INT8OID}
};

/* Runs a one-row, one-column list query for a session id. */
static Datum
list_of(IdsessQuery *q, int64 id)
{
	Datum		arg = Int64GetDatum(id);
	bool		isnull;

	idsess_spi_run(q, &arg, NULL, false, 1);
	return idsess_spi_copy(0, 1, &isnull);
}

static Datum
add_client(FunctionCallInfo fcinfo, IdsessApi api)
{
	text	   *key = idsess_arg_id(fcinfo, 0, "key", IDSESS_MAX_ID_CHARS);
	text	   *client = idsess_arg_id(fcinfo, 1, "client_id", IDSESS_MAX_ID_CHARS);
	text	   *client_sid = api >= IDSESS_API_1_1 ?
		idsess_arg_id_opt(fcinfo, 2, "client_sid", IDSESS_MAX_ID_CHARS) : NULL;
	Datum		args[3];
	char		nulls[3] = {' ', ' ', ' '};
	Datum		list;
	int			n;

	idsess_spi_connect();
	args[0] = Int64GetDatum(idsess_lock_live_session(key, true));
	args[1] = PointerGetDatum(client);
	args[2] = PointerGetDatum(client_sid);
	nulls[2] = client_sid ? ' ' : 'n';
	if (api >= IDSESS_API_1_1)
		n = idsess_spi_run(&q_add_client_sid, args, nulls, false, 0);
	else
		n = idsess_spi_run(&q_add_client, args, NULL, false, 0);
	if (n > 0)
		idsess_refresh_copy(DatumGetInt64(args[0]), api);
	list = list_of(&q_client_list, DatumGetInt64(args[0]));
	SPI_finish();
	PG_RETURN_DATUM(list);
}

static Datum
remove_client(FunctionCallInfo fcinfo, IdsessApi api)
{
	text	   *key = idsess_arg_id(fcinfo, 0, "key", IDSESS_MAX_ID_CHARS);
	text	   *client = idsess_arg_id(fcinfo, 1, "client_id", IDSESS_MAX_ID_CHARS);
	Datum		args[2];
	Datum		list;

	idsess_spi_connect();
	args[0] = Int64GetDatum(idsess_lock_live_session(key, true));
	args[1] = PointerGetDatum(client);
	if (idsess_spi_run(&q_remove_client, args, NULL, false, 0) > 0)
		idsess_refresh_copy(DatumGetInt64(args[0]), api);
	list = list_of(&q_client_list, DatumGetInt64(args[0]));
	SPI_finish();
	PG_RETURN_DATUM(list);
}

/* The client list, or with sids => true (1.1) the clients' own sids. */
static Datum
clients(FunctionCallInfo fcinfo, IdsessApi api)
{
	text	   *key = idsess_arg_id(fcinfo, 0, "key", IDSESS_MAX_ID_CHARS);
	bool		sids = api >= IDSESS_API_1_1 && !PG_ARGISNULL(1) && PG_GETARG_BOOL(1);
	Datum		list;

	idsess_spi_connect();
	list = list_of(sids ? &q_client_sids : &q_client_list, idsess_lock_live_session(key, false));
	SPI_finish();
	PG_RETURN_DATUM(list);
}

/*
 * Duende's AddSamlSession is an upsert by EntityId: a session of the same
 * entity under another session index is replaced, not kept beside it.
 */
static IdsessQuery q_add_saml = {
	.sql = "WITH d AS (DELETE FROM idsess.session_saml WHERE session = $1 AND entity_id = $2 "
	"AND session_index <> $3 RETURNING 1) "
	"INSERT INTO idsess.session_saml (session, entity_id, session_index, name_id, name_id_format) "
	"VALUES ($1, $2, $3, $4, $5) ON CONFLICT (session, entity_id, session_index) "
	"DO UPDATE SET name_id = EXCLUDED.name_id, name_id_format = EXCLUDED.name_id_format",
	.nargs = 5, .argtypes = {INT8OID, TEXTOID, TEXTOID, TEXTOID, TEXTOID}
};

static Datum
add_saml_session(FunctionCallInfo fcinfo, IdsessApi api)
{
	text	   *key = idsess_arg_id(fcinfo, 0, "key", IDSESS_MAX_ID_CHARS);
	text	   *entity = idsess_arg_id(fcinfo, 1, "entity_id", IDSESS_MAX_URI_CHARS);
	text	   *index = idsess_arg_id(fcinfo, 2, "session_index", IDSESS_MAX_ID_CHARS);
	text	   *name_id = idsess_arg_id(fcinfo, 3, "name_id", IDSESS_MAX_URI_CHARS);
	text	   *format = idsess_arg_id_opt(fcinfo, 4, "name_id_format", IDSESS_MAX_URI_CHARS);
	Datum		args[5];
	char		nulls[5] = {' ', ' ', ' ', ' ', ' '};
	Datum		list;

	idsess_spi_connect();
	args[0] = Int64GetDatum(idsess_lock_live_session(key, true));
	args[1] = PointerGetDatum(entity);
	args[2] = PointerGetDatum(index);
	args[3] = PointerGetDatum(name_id);
	args[4] = PointerGetDatum(format);
	nulls[4] = format ? ' ' : 'n';
	idsess_spi_run(&q_add_saml, args, nulls, false, 0);
	idsess_refresh_copy(DatumGetInt64(args[0]), api);
	list = list_of(&q_saml_list, DatumGetInt64(args[0]));
	SPI_finish();
	PG_RETURN_DATUM(list);
}

PG_FUNCTION_INFO_V1(idsess_saml_sessions);
Datum
idsess_saml_sessions(PG_FUNCTION_ARGS)
{
	text	   *key = idsess_arg_id(fcinfo, 0, "key", IDSESS_MAX_ID_CHARS);
	Datum		list;

	idsess_spi_connect();
	list = list_of(&q_saml_list, idsess_lock_live_session(key, false));
	SPI_finish();
	PG_RETURN_DATUM(list);
}

static IdsessQuery q_remove_saml = {
	.sql = "DELETE FROM idsess.session_saml WHERE session = $1 AND entity_id = $2",
	.nargs = 2, .argtypes = {INT8OID, TEXTOID}
};

static Datum
remove_saml_session(FunctionCallInfo fcinfo, IdsessApi api)
{
	text	   *key = idsess_arg_id(fcinfo, 0, "key", IDSESS_MAX_ID_CHARS);
	text	   *entity = idsess_arg_id(fcinfo, 1, "entity_id", IDSESS_MAX_URI_CHARS);
	Datum		args[2];
	int			n;

	idsess_spi_connect();
	args[0] = Int64GetDatum(idsess_lock_live_session(key, true));
	args[1] = PointerGetDatum(entity);
	n = idsess_spi_run(&q_remove_saml, args, NULL, false, 0);
	if (n > 0)
		idsess_refresh_copy(DatumGetInt64(args[0]), api);
	SPI_finish();
	PG_RETURN_INT32(n);
}

/*
 * Entry points: the unversioned symbol serves the 1.0 and 1.1 scripts
 * (version.c), each later script binds the symbol of its version.
 */
PG_FUNCTION_INFO_V1(idsess_add_client);
Datum
idsess_add_client(PG_FUNCTION_ARGS)
{
	return add_client(fcinfo, idsess_unversioned_api(fcinfo, 2, 3));
}

PG_FUNCTION_INFO_V1(idsess_add_client_1_2);
Datum
idsess_add_client_1_2(PG_FUNCTION_ARGS)
{
	return add_client(fcinfo, IDSESS_API_1_2);
}

PG_FUNCTION_INFO_V1(idsess_clients);
Datum
idsess_clients(PG_FUNCTION_ARGS)
{
	return clients(fcinfo, idsess_unversioned_api(fcinfo, 1, 2));
}

PG_FUNCTION_INFO_V1(idsess_clients_1_2);
Datum
idsess_clients_1_2(PG_FUNCTION_ARGS)
{
	return clients(fcinfo, IDSESS_API_1_2);
}

PG_FUNCTION_INFO_V1(idsess_remove_client);
Datum
idsess_remove_client(PG_FUNCTION_ARGS)
{
	return remove_client(fcinfo, idsess_unversioned_api(fcinfo, 2, 2));
}

PG_FUNCTION_INFO_V1(idsess_remove_client_1_2);
Datum
idsess_remove_client_1_2(PG_FUNCTION_ARGS)
{
	return remove_client(fcinfo, IDSESS_API_1_2);
}

PG_FUNCTION_INFO_V1(idsess_add_saml_session);
Datum
idsess_add_saml_session(PG_FUNCTION_ARGS)
{
	return add_saml_session(fcinfo, idsess_unversioned_api(fcinfo, 5, 5));
}

PG_FUNCTION_INFO_V1(idsess_add_saml_session_1_2);
Datum
idsess_add_saml_session_1_2(PG_FUNCTION_ARGS)
{
	return add_saml_session(fcinfo, IDSESS_API_1_2);
}

PG_FUNCTION_INFO_V1(idsess_remove_saml_session);
Datum
idsess_remove_saml_session(PG_FUNCTION_ARGS)
{
	return remove_saml_session(fcinfo, idsess_unversioned_api(fcinfo, 2, 2));
}

PG_FUNCTION_INFO_V1(idsess_remove_saml_session_1_2);
Datum
idsess_remove_saml_session_1_2(PG_FUNCTION_ARGS)
{
	return remove_saml_session(fcinfo, IDSESS_API_1_2);
}
