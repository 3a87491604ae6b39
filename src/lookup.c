/*-------------------------------------------------------------------------
 *
 * lookup.c
 *		idsess_get(): one session by key, read straight from the indexes
 *		without the executor; the sessions of one sid the same way.
 *
 * Opening the session of every incoming request is the store's hottest
 * path, so it does not go through SPI: an index scan on the unique key and
 * the live test in C; the session's clients and SAML SP sessions come from
 * the row's copies of them (1.1), or from index scans of their tables by
 * their (session, ...) primary keys for a row without.  It returns exactly what
 * the SQL in store.c would.  idsess_get_sessions by sid alone (the lookup
 * node-oidc-provider makes on most requests) takes the same path through
 * the sid index.
 *
 *-------------------------------------------------------------------------
 */
#include "idsess.h"
#include "lookup.h"
#include "tenant.h"
#include "arrays.h"
#include "envelope.h"
#include "scan.h"
#include "session_rows.h"
#include "session_sql.h"
#include "ticket.h"
#include "validate.h"

#include "catalog/namespace.h"
#include "catalog/pg_collation.h"
#include "catalog/pg_type.h"
#include "executor/tuptable.h"
#include "fmgr.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/fmgroids.h"
#include "utils/json.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/varlena.h"


/*
 * Attribute numbers of idsess.sessions, as created by idsess--1.0.sql; 1.1
 * adds the issuer and the copies of the clients and SAML SP sessions after
 * them.
 */
enum
{
	S_ID = 1, S_KEY, S_SCHEME, S_SUBJECT, S_SID, S_DISPLAY, S_CREATED, S_RENEWED,
	S_EXPIRES, S_IDLE, S_LAST_ACTIVE, S_DUE, S_KEY_ID, S_TICKET, S_ISSUER,
	S_CLIENT_LIST, S_SAML_LIST,
	S_NATTS = S_SAML_LIST
};

typedef struct SessionRow
{
	bool		found;
	Datum		values[S_NATTS];
	bool		nulls[S_NATTS];
} SessionRow;

static void
copy_session(TupleTableSlot *slot, void *arg)
{
	SessionRow *row = (SessionRow *) arg;
	TupleDesc	desc = slot->tts_tupleDescriptor;

	for (int i = 0; i < S_NATTS; i++)
	{
		Form_pg_attribute att;

		/* A 1.0 table has no issuer and no copies. */
		if (i >= desc->natts)
		{
			row->nulls[i] = true;
			continue;
		}
		att = TupleDescAttr(desc, i);
		row->nulls[i] = slot->tts_isnull[i];
		row->values[i] = row->nulls[i] ? (Datum) 0 :
			datumCopy(slot->tts_values[i], att->attbyval, att->attlen);
	}
	row->found = true;
}

/* One client or SAML SP session, with what it is ordered by. */
typedef struct Child
{
	TimestampTz added;
	char	   *sort1;
	char	   *sort2;
	Datum		values[4];
	bool		nulls[4];
	Datum		sid;
	bool		sid_null;
} Child;

typedef struct Children
{
	int			n;
	int			cap;
	Child	   *items;
	int			natts;			/* attributes after `session`, before `added` */
	bool		with_sid;		/* 1.1 clients: the client's sid after `added` */
} Children;

static void
collect_child(TupleTableSlot *slot, void *arg)
{
	Children   *c = (Children *) arg;
	Child	   *item;

	if (c->n == c->cap)
	{
		c->cap = c->cap ? c->cap * 2 : 8;
		c->items = c->items ? repalloc(c->items, sizeof(Child) * c->cap) :
			palloc(sizeof(Child) * c->cap);
	}
	item = &c->items[c->n++];
	for (int i = 0; i < c->natts; i++)
	{
		item->nulls[i] = slot->tts_isnull[i + 1];
		item->values[i] = item->nulls[i] ? (Datum) 0 :
			PointerGetDatum(PG_DETOAST_DATUM_COPY(slot->tts_values[i + 1]));
	}
	item->added = DatumGetTimestampTz(slot->tts_values[c->natts + 1]);
	item->sid_null = !c->with_sid || slot->tts_isnull[c->natts + 2];
	item->sid = item->sid_null ? (Datum) 0 :
		PointerGetDatum(PG_DETOAST_DATUM_COPY(slot->tts_values[c->natts + 2]));
	item->sort1 = TextDatumGetCString(item->values[0]);
	item->sort2 = c->natts > 1 ? TextDatumGetCString(item->values[1]) : "";
}

static int
child_cmp(const void *a, const void *b)
{
	const Child *x = (const Child *) a;
	const Child *y = (const Child *) b;
	int			r;

	if (x->added != y->added)
		return x->added < y->added ? -1 : 1;
	r = varstr_cmp(x->sort1, strlen(x->sort1), y->sort1, strlen(y->sort1), DEFAULT_COLLATION_OID);
	if (r == 0)
		r = varstr_cmp(x->sort2, strlen(x->sort2), y->sort2, strlen(y->sort2), DEFAULT_COLLATION_OID);
	return r;
}

static Datum
client_array(Children *c)
{
	Datum	   *elems = palloc(sizeof(Datum) * (c->n > 0 ? c->n : 1));

	for (int i = 0; i < c->n; i++)
		elems[i] = c->items[i].values[0];
	return idsess_text_array(elems, c->n);
}

static Datum
client_sid_array(Children *c)
{
	Datum	   *elems = palloc(sizeof(Datum) * (c->n > 0 ? c->n : 1));
	bool	   *nulls = palloc(sizeof(bool) * (c->n > 0 ? c->n : 1));

	for (int i = 0; i < c->n; i++)
	{
		elems[i] = c->items[i].sid;
		nulls[i] = c->items[i].sid_null;
	}
	return idsess_text_array_nulls(elems, nulls, c->n);
}

static Datum
saml_jsonb(Children *c)
{
	static const char *const names[4] = {"entity_id", "session_index", "name_id", "name_id_format"};
	StringInfoData buf;

	initStringInfo(&buf);
	appendStringInfoChar(&buf, '[');
	for (int i = 0; i < c->n; i++)
	{
		appendStringInfoString(&buf, i > 0 ? ", {" : "{");
		for (int a = 0; a < 4; a++)
		{
			if (a > 0)
				appendStringInfoString(&buf, ", ");
			escape_json(&buf, names[a]);
			appendStringInfoString(&buf, ": ");
			if (c->items[i].nulls[a])
				appendStringInfoString(&buf, "null");
			else
				escape_json(&buf, TextDatumGetCString(c->items[i].values[a]));
		}
		appendStringInfoChar(&buf, '}');
	}
	appendStringInfoChar(&buf, ']');
	return DirectFunctionCall1(jsonb_in, CStringGetDatum(buf.data));
}

/*
 * The client ids and their sids (text[] each) from the row's copy, an n x 2
 * array (IDSESS_CLIENT_LIST_OF); sids is NULL for a 1.0 result.  False for a
 * value of another shape, which idsess never writes: the caller then reads
 * the table, which is the record.
 */
static bool
copied_clients(Datum list, Datum *ids, Datum *sids)
{
	ArrayType  *arr = DatumGetArrayTypeP(list);
	Datum	   *elems;
	bool	   *nulls;
	int			n;
	Datum	   *id_elems;
	Datum	   *sid_elems;
	bool	   *sid_nulls;

	if (ARR_NDIM(arr) != 0 && (ARR_NDIM(arr) != 2 || ARR_DIMS(arr)[1] != 2))
		return false;
	deconstruct_array(arr, TEXTOID, -1, false, TYPALIGN_INT, &elems, &nulls, &n);
	n /= 2;
	id_elems = palloc(sizeof(Datum) * (n > 0 ? n : 1));
	sid_elems = palloc(sizeof(Datum) * (n > 0 ? n : 1));
	sid_nulls = palloc(sizeof(bool) * (n > 0 ? n : 1));
	for (int i = 0; i < n; i++)
	{
		if (nulls[2 * i])
			return false;
		id_elems[i] = elems[2 * i];
		sid_elems[i] = elems[2 * i + 1];
		sid_nulls[i] = nulls[2 * i + 1];
	}
	*ids = idsess_text_array(id_elems, n);
	if (sids)
		*sids = idsess_text_array_nulls(sid_elems, sid_nulls, n);
	return true;
}

/*
 * Whether the row's SAML copy has the shape idsess writes (IDSESS_SAML_LIST_OF):
 * a jsonb array of objects.  Another (a hand-made update) makes the caller
 * read the table, as for the clients.
 */
static bool
copied_saml(Datum list)
{
	Jsonb	   *jb = DatumGetJsonbP(list);
	uint32		n;

	if (!JB_ROOT_IS_ARRAY(jb) || JB_ROOT_IS_SCALAR(jb))
		return false;
	n = JB_ROOT_COUNT(jb);
	for (uint32 i = 0; i < n; i++)
	{
		JsonbValue *v = getIthJsonbValueFromContainer(&jb->root, i);

		if (v->type != jbvBinary || !JsonContainerIsObject(v->val.binary.data))
			return false;
	}
	return true;
}

/* Whether the session is live now: not expired, not idle too long. */
static bool
is_live(SessionRow *row)
{
	TimestampTz now = GetCurrentTransactionStartTimestamp();

	if (!row->nulls[S_EXPIRES - 1] && DatumGetTimestampTz(row->values[S_EXPIRES - 1]) <= now)
		return false;
	if (!row->nulls[S_IDLE - 1])
	{
		Datum		deadline = DirectFunctionCall2(timestamptz_pl_interval,
												   row->values[S_LAST_ACTIVE - 1],
												   row->values[S_IDLE - 1]);

		if (DatumGetTimestampTz(deadline) <= now)
			return false;
	}
	return true;
}

/*
 * Puts a live session into the function's result: its clients and SAML SP
 * sessions from the row's copies, or, for a row without them, read from
 * their tables by their primary keys; its ticket opened with its key.  With
 * opened, the opened tickets are counted against one call's bound
 * (idsess_check_opened).  The plaintext is wiped once the tuplestore has its
 * copy.
 */
static void
put_session(ReturnSetInfo *rsinfo, Oid nsp, SessionRow *row, Size *opened, IdsessApi api)
{
	Datum		values[IDSESS_S_NATTS_1_1];
	bool		nulls[IDSESS_S_NATTS_1_1];
	bool		api_1_1 = api >= IDSESS_API_1_1;
	static const int from_row[] = {S_KEY, S_SCHEME, S_SUBJECT, S_SID, S_DISPLAY, S_CREATED,
	S_RENEWED, S_EXPIRES, S_LAST_ACTIVE, S_IDLE};
	text	   *key = DatumGetTextPP(row->values[S_KEY - 1]);
	char		format;
	bytea	   *plain;

	StaticAssertStmt(lengthof(from_row) == IDSESS_S_IDLE + 1, "from_row covers key .. idle_timeout");
	idsess_check_natts(rsinfo->setDesc, api_1_1 ? IDSESS_S_NATTS_1_1 : IDSESS_S_NATTS_1_0,
					   "idsess.session");
	for (int i = 0; i < (int) lengthof(from_row); i++)
	{
		values[i] = row->values[from_row[i] - 1];
		nulls[i] = row->nulls[from_row[i] - 1];
	}
	nulls[IDSESS_S_CLIENTS] = nulls[IDSESS_S_SAML] = false;
	if (api_1_1)
	{
		values[IDSESS_S_ISSUER] = row->values[S_ISSUER - 1];
		nulls[IDSESS_S_ISSUER] = row->nulls[S_ISSUER - 1];
		nulls[IDSESS_S_CLIENT_SIDS] = false;
	}

	if (row->nulls[S_CLIENT_LIST - 1] ||
		!copied_clients(row->values[S_CLIENT_LIST - 1], &values[IDSESS_S_CLIENTS],
						api_1_1 ? &values[IDSESS_S_CLIENT_SIDS] : NULL))
	{
		Children	clients = {0};

		clients.natts = 1;
		clients.with_sid = api_1_1;
		idsess_scan_index(nsp, "session_clients", "session_clients_pkey", F_INT8EQ,
						  row->values[S_ID - 1], GetActiveSnapshot(), collect_child, &clients);
		if (clients.n > 1)
			qsort(clients.items, clients.n, sizeof(Child), child_cmp);
		values[IDSESS_S_CLIENTS] = client_array(&clients);
		if (api_1_1)
			values[IDSESS_S_CLIENT_SIDS] = client_sid_array(&clients);
	}
	if (!row->nulls[S_SAML_LIST - 1] && copied_saml(row->values[S_SAML_LIST - 1]))
		values[IDSESS_S_SAML] = row->values[S_SAML_LIST - 1];
	else
	{
		Children	saml = {0};

		saml.natts = 4;
		idsess_scan_index(nsp, "session_saml", "session_saml_pkey", F_INT8EQ,
						  row->values[S_ID - 1], GetActiveSnapshot(), collect_child, &saml);
		if (saml.n > 1)
			qsort(saml.items, saml.n, sizeof(Child), child_cmp);
		values[IDSESS_S_SAML] = saml_jsonb(&saml);
	}

	plain = idsess_unseal(DatumGetByteaPP(row->values[S_TICKET - 1]), &format,
						  VARDATA_ANY(key), VARSIZE_ANY_EXHDR(key));
	idsess_put_row_opened(rsinfo->setResult, rsinfo->setDesc, values, nulls, IDSESS_S_TICKET,
						  plain, format, opened);
}

static Datum
get(FunctionCallInfo fcinfo, IdsessApi api)
{
	text	   *key = idsess_arg_id(fcinfo, 0, "key", IDSESS_MAX_ID_CHARS);
	ReturnSetInfo *rsinfo;
	Oid			nsp;
	SessionRow	row;

	/* The identity server's role sees every tenant; a tenant admin none this way. */
	idsess_tenant_require_all("idsess_get");
	/* A tuplestore that never spills the opened ticket to a temporary file. */
	(void) idsess_ticket_srf(fcinfo);
	rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	nsp = get_namespace_oid("idsess", false);

	memset(&row, 0, sizeof(row));
	idsess_scan_index(nsp, "sessions", "sessions_key_key", F_TEXTEQ, PointerGetDatum(key),
					  GetActiveSnapshot(), copy_session, &row);
	if (row.found && is_live(&row))
		put_session(rsinfo, nsp, &row, NULL, api);
	return (Datum) 0;
}

/* Every row of a scan, each copied as copy_session copies one. */
static void
collect_session(TupleTableSlot *slot, void *arg)
{
	List	  **rows = (List **) arg;
	SessionRow *row = palloc0(sizeof(SessionRow));

	copy_session(slot, row);
	*rows = lappend(*rows, row);
}

static int
session_id_cmp(const ListCell *a, const ListCell *b)
{
	int64		x = DatumGetInt64(((SessionRow *) lfirst(a))->values[S_ID - 1]);
	int64		y = DatumGetInt64(((SessionRow *) lfirst(b))->values[S_ID - 1]);

	return x < y ? -1 : x > y;
}

/*
 * idsess_get_sessions(session_id => sid), the lookup node-oidc-provider
 * makes on most of its requests (findByUid): the live sessions with this
 * sid in id order, as the SQL in store.c returns them, read from the sid
 * index the way idsess_get reads one session.  The caller has set up the
 * result (idsess_ticket_srf).  Each row is put in a memory context of its
 * own, reset after the row.
 */
void
idsess_get_by_sid(FunctionCallInfo fcinfo, text *sid, IdsessApi api)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	Oid			nsp = get_namespace_oid("idsess", false);
	List	   *rows = NIL;
	MemoryContext rowcxt;
	Size		opened = 0;
	ListCell   *lc;

	idsess_scan_index(nsp, "sessions", "sessions_sid_idx", F_TEXTEQ, PointerGetDatum(sid),
					  GetActiveSnapshot(), collect_session, &rows);
	list_sort(rows, session_id_cmp);
	rowcxt = AllocSetContextCreate(CurrentMemoryContext, "idsess session row",
								   ALLOCSET_DEFAULT_SIZES);
	foreach(lc, rows)
	{
		SessionRow *row = (SessionRow *) lfirst(lc);
		MemoryContext old;

		CHECK_FOR_INTERRUPTS();
		if (!is_live(row))
			continue;
		old = MemoryContextSwitchTo(rowcxt);
		put_session(rsinfo, nsp, row, &opened, api);
		MemoryContextSwitchTo(old);
		MemoryContextReset(rowcxt);
	}
	MemoryContextDelete(rowcxt);
}

/*
 * Entry points: the unversioned symbol serves the 1.0 and 1.1 scripts
 * (version.c), each later script binds the symbol of its version.
 */
PG_FUNCTION_INFO_V1(idsess_get);
Datum
idsess_get(PG_FUNCTION_ARGS)
{
	return get(fcinfo, idsess_unversioned_api(fcinfo, 1, 1));
}

PG_FUNCTION_INFO_V1(idsess_get_1_2);
Datum
idsess_get_1_2(PG_FUNCTION_ARGS)
{
	return get(fcinfo, IDSESS_API_1_2);
}
