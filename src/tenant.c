/*-------------------------------------------------------------------------
 *
 * tenant.c
 *		Which tenants the calling role administers, and the calls that
 *		make a role admin of a tenant.
 *
 * A role listed in idsess.tenant_admins, or any role that is a member of
 * one listed there, is restricted to the tenants listed for those roles; a
 * member of idsess_tenant_admin listed nowhere, to none.
 * The caller is judged by two roles that a SECURITY DEFINER function does
 * not change: the session user (only a superuser can change it) and the
 * outer user (the role of SET ROLE).  When both are restricted the caller
 * gets what both may see.  current_user is never asked: inside idsess's
 * own functions it is their owner, and inside a wrapper someone defined it
 * is the wrapper's.  A superuser is not restricted (it reads the tables
 * anyway) unless it SET ROLE to a restricted role.  The default tenant
 * (NULL) is visible only to roles that are not restricted.
 *
 * The answer is cached per backend: a get must not pay a query for it.  It
 * is forgotten when the users change, when role memberships or roles change
 * (syscache callbacks) and when the grant functions below change the table
 * (they send a relcache invalidation for it, which every backend receives
 * when they commit).
 *
 *-------------------------------------------------------------------------
 */
#include "idsess.h"
#include "tenant.h"
#include "spi.h"
#include "validate.h"

#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "catalog/pg_type.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/syscache.h"

typedef struct TenantScope
{
	bool		valid;
	Oid			session_user;
	Oid			outer_user;
	bool		all;			/* not restricted */
	int			n;
	char	  **tenants;		/* sorted, in TopMemoryContext */
} TenantScope;

static TenantScope scope;
static bool callbacks_registered = false;

static void
forget_scope(void)
{
	if (scope.tenants)
	{
		for (int i = 0; i < scope.n; i++)
			pfree(scope.tenants[i]);
		pfree(scope.tenants);
	}
	memset(&scope, 0, sizeof(scope));
}

static void
forget_on_syscache(Datum arg pg_attribute_unused(), int cacheid pg_attribute_unused(),
				   uint32 hashvalue pg_attribute_unused())
{
	forget_scope();
}

static void
forget_on_relcache(Datum arg pg_attribute_unused(), Oid relid pg_attribute_unused())
{
	/* Rare enough that any relation's invalidation may reset it. */
	forget_scope();
}

static Oid
tenant_admins_relid(void)
{
	Oid			nsp = get_namespace_oid("idsess", true);

	return OidIsValid(nsp) ? get_relname_relid("tenant_admins", nsp) : InvalidOid;
}

static IdsessQuery q_tenants_of = {
	.sql = "SELECT CASE WHEN pg_catalog.pg_has_role($1, 'idsess_tenant_admin', 'MEMBER') "
	"THEN COALESCE(a.tenants, '{}') ELSE a.tenants END "
	"FROM (SELECT pg_catalog.array_agg(DISTINCT t.tenant ORDER BY t.tenant) AS tenants "
	"FROM idsess.tenant_admins t WHERE pg_catalog.pg_has_role($1, t.role::pg_catalog.oid, 'MEMBER')) a",
	.nargs = 1, .argtypes = {OIDOID}
};

/*
 * The tenants of one role (sorted, in the current memory context), or -1
 * when it is not restricted.
 */
static int
tenants_of(Oid role, Oid relid, char ***out)
{
	Datum		arg = ObjectIdGetDatum(role);
	Datum		arr;
	Datum	   *elems;
	bool	   *nulls;
	bool		isnull;
	int			n;
	int			pin;
	Oid			save_user;
	int			save_sec;
	HeapTuple	tup;
	Oid			owner;
	MemoryContext cxt = CurrentMemoryContext;

	if (superuser_arg(role))
		return -1;

	/*
	 * Read as the table's owner: a view calls idsess.tenant_visible() with
	 * the caller's privileges, and a tenant admin may not read the table.
	 */
	tup = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	if (!HeapTupleIsValid(tup))
		elog(ERROR, "cache lookup failed for relation %u", relid);
	owner = ((Form_pg_class) GETSTRUCT(tup))->relowner;
	ReleaseSysCache(tup);
	GetUserIdAndSecContext(&save_user, &save_sec);
	SetUserIdAndSecContext(owner, save_sec | SECURITY_LOCAL_USERID_CHANGE);
	pin = idsess_pin_search_path();
	idsess_spi_connect();
	idsess_spi_run(&q_tenants_of, &arg, NULL, true, 1);
	arr = idsess_spi_get(0, 1, &isnull);
	n = -1;
	if (!isnull)
	{
		MemoryContext spi = MemoryContextSwitchTo(cxt);

		deconstruct_array(DatumGetArrayTypeP(arr), TEXTOID, -1, false, TYPALIGN_INT,
						  &elems, &nulls, &n);
		*out = palloc(sizeof(char *) * Max(n, 1));
		for (int i = 0; i < n; i++)
			(*out)[i] = TextDatumGetCString(elems[i]);
		MemoryContextSwitchTo(spi);
	}
	SPI_finish();
	idsess_unpin_search_path(pin);
	SetUserIdAndSecContext(save_user, save_sec);
	return n;
}

static bool
in_list(char **list, int n, const char *s)
{
	for (int i = 0; i < n; i++)
		if (strcmp(list[i], s) == 0)
			return true;
	return false;
}

static void
load_scope(void)
{
	Oid			session_user = GetSessionUserId();
	Oid			outer_user = GetOuterUserId();
	char	  **a = NULL;
	char	  **b = NULL;
	int			na;
	int			nb;
	Oid			relid;
	MemoryContext old;

	if (!callbacks_registered)
	{
		CacheRegisterSyscacheCallback(AUTHMEMROLEMEM, forget_on_syscache, (Datum) 0);
		CacheRegisterSyscacheCallback(AUTHOID, forget_on_syscache, (Datum) 0);
		CacheRegisterRelcacheCallback(forget_on_relcache, (Datum) 0);
		callbacks_registered = true;
	}
	if (scope.valid && scope.session_user == session_user && scope.outer_user == outer_user)
		return;
	forget_scope();
	relid = tenant_admins_relid();
	if (!OidIsValid(relid))
	{
		/* A schema before 1.2 has no tenants. */
		scope.all = true;
	}
	else
	{
		na = tenants_of(session_user, relid, &a);
		nb = outer_user == session_user ? -1 : tenants_of(outer_user, relid, &b);
		old = MemoryContextSwitchTo(TopMemoryContext);
		if (na < 0 && nb < 0)
			scope.all = true;
		else
		{
			char	  **from = na >= 0 ? a : b;
			int			nfrom = na >= 0 ? na : nb;

			scope.tenants = palloc(sizeof(char *) * Max(nfrom, 1));
			for (int i = 0; i < nfrom; i++)
				if (na < 0 || nb < 0 || in_list(b, nb, from[i]))
					scope.tenants[scope.n++] = pstrdup(from[i]);
		}
		MemoryContextSwitchTo(old);
	}
	scope.session_user = session_user;
	scope.outer_user = outer_user;
	scope.valid = true;
}

/* Whether the caller is restricted to some tenants. */
bool
idsess_tenant_restricted(void)
{
	load_scope();
	return !scope.all;
}

/* Whether the caller may see a session of this tenant (NULL: the default). */
bool
idsess_tenant_visible_text(text *tenant)
{
	char	   *t;
	bool		found;

	load_scope();
	if (scope.all)
		return true;
	if (tenant == NULL)
		return false;
	t = text_to_cstring(tenant);
	found = in_list(scope.tenants, scope.n, t);
	pfree(t);
	return found;
}

/* What idsess keeps for all tenants together is for unrestricted roles only. */
void
idsess_tenant_require_all(const char *what)
{
	if (idsess_tenant_restricted())
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied for %s", what),
				 errdetail("The calling role administers some tenants only, and %s covers all of them.",
						   what),
				 errhint("A tenant admin reads its tenants' sessions and events through the reports granted to idsess_tenant_admin (idsess_report_tenants, idsess_report_history).")));
}

/*
 * A tenant the caller names in an argument (NULL: the default tenant) must
 * be one it administers; said alike whether or not that tenant has any
 * sessions.
 */
void
idsess_tenant_check_arg(text *tenant)
{
	if (!idsess_tenant_visible_text(tenant))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied for this tenant"),
				 errdetail("The calling role is not an admin of the tenant it named."),
				 errhint("idsess.tenant_scope() lists the tenants it administers.")));
}

/* The caller's tenants as a sorted text[]; (Datum) 0 when not restricted. */
Datum
idsess_tenant_scope_array(void)
{
	Datum	   *elems;

	load_scope();
	if (scope.all)
		return (Datum) 0;
	elems = palloc(sizeof(Datum) * Max(scope.n, 1));
	for (int i = 0; i < scope.n; i++)
		elems[i] = CStringGetTextDatum(scope.tenants[i]);
	return PointerGetDatum(construct_array(elems, scope.n, TEXTOID, -1, false, TYPALIGN_INT));
}

PG_FUNCTION_INFO_V1(idsess_tenant_visible);
Datum
idsess_tenant_visible(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(idsess_tenant_visible_text(PG_ARGISNULL(0) ? NULL : PG_GETARG_TEXT_PP(0)));
}

PG_FUNCTION_INFO_V1(idsess_tenant_scope);
Datum
idsess_tenant_scope(PG_FUNCTION_ARGS)
{
	Datum		arr = idsess_tenant_scope_array();

	if (arr == (Datum) 0)
		PG_RETURN_NULL();
	PG_RETURN_DATUM(arr);
}

PG_FUNCTION_INFO_V1(idsess_require_all_tenants);
Datum
idsess_require_all_tenants(PG_FUNCTION_ARGS)
{
	idsess_tenant_require_all(PG_ARGISNULL(0) ? "this report" : text_to_cstring(PG_GETARG_TEXT_PP(0)));
	PG_RETURN_BOOL(true);
}

static IdsessQuery q_grant_row = {
	.sql = "INSERT INTO idsess.tenant_admins (role, tenant) VALUES ($1::pg_catalog.oid::pg_catalog.regrole, $2) "
	"ON CONFLICT DO NOTHING",
	.nargs = 2, .argtypes = {OIDOID, TEXTOID}
};
static IdsessQuery q_revoke_row = {
	.sql = "DELETE FROM idsess.tenant_admins WHERE role = $1::pg_catalog.oid::pg_catalog.regrole AND tenant = $2",
	.nargs = 2, .argtypes = {OIDOID, TEXTOID}
};
static IdsessQuery q_tenants_left = {
	.sql = "SELECT pg_catalog.count(*) FROM idsess.tenant_admins WHERE role = $1::pg_catalog.oid::pg_catalog.regrole",
	.nargs = 1, .argtypes = {OIDOID}
};

/* The role and tenant arguments of the grant functions, checked. */
static Oid
grant_args(FunctionCallInfo fcinfo, text **tenant)
{
	Oid			role;

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("role must not be null")));
	role = PG_GETARG_OID(0);
	*tenant = idsess_arg_id(fcinfo, 1, "tenant", IDSESS_MAX_ID_CHARS);
	return role;
}

static void
run_utility(const char *sql)
{
	if (SPI_execute(sql, false, 0) != SPI_OK_UTILITY)
		elog(ERROR, "SPI_execute failed: %s", sql);
}

PG_FUNCTION_INFO_V1(idsess_grant_tenant_admin);
Datum
idsess_grant_tenant_admin(PG_FUNCTION_ARGS)
{
	text	   *tenant;
	Oid			role = grant_args(fcinfo, &tenant);
	const char *trusted[] = {"idsess_service", "idsess_admin", "idsess_reporting"};
	Datum		args[2];
	int			n;

	if (superuser_arg(role))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_GRANT_OPERATION),
				 errmsg("a superuser cannot be made a tenant admin"),
				 errdetail("A superuser reads idsess's tables directly, whatever its tenants."),
				 errhint("Grant the tenant to a role without superuser.")));
	for (int i = 0; i < (int) lengthof(trusted); i++)
	{
		Oid			t = get_role_oid(trusted[i], false);

		if (role == t || has_privs_of_role(role, t))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_GRANT_OPERATION),
					 errmsg("role \"%s\" has the privileges of %s", GetUserNameFromId(role, false),
							trusted[i]),
					 errdetail("%s reads every tenant's sessions or aggregates through grants a tenant admin must not have.",
							   trusted[i]),
					 errhint("Make a role of its own for the tenant admin, without %s.", trusted[i])));
	}
	idsess_spi_connect();
	args[0] = ObjectIdGetDatum(role);
	args[1] = PointerGetDatum(tenant);
	n = idsess_spi_run(&q_grant_row, args, NULL, false, 0);
	if (!is_member_of_role_nosuper(role, get_role_oid("idsess_tenant_admin", false)))
		run_utility(psprintf("GRANT idsess_tenant_admin TO %s",
							 quote_identifier(GetUserNameFromId(role, false))));
	SPI_finish();
	CacheInvalidateRelcacheByRelid(tenant_admins_relid());
	forget_scope();
	PG_RETURN_BOOL(n > 0);
}

PG_FUNCTION_INFO_V1(idsess_revoke_tenant_admin);
Datum
idsess_revoke_tenant_admin(PG_FUNCTION_ARGS)
{
	text	   *tenant;
	Oid			role = grant_args(fcinfo, &tenant);
	Datum		args[2];
	bool		isnull;
	int			n;

	idsess_spi_connect();
	args[0] = ObjectIdGetDatum(role);
	args[1] = PointerGetDatum(tenant);
	n = idsess_spi_run(&q_revoke_row, args, NULL, false, 0);
	idsess_spi_run(&q_tenants_left, args, NULL, false, 1);
	if (DatumGetInt64(idsess_spi_get(0, 1, &isnull)) == 0 &&
		is_member_of_role_nosuper(role, get_role_oid("idsess_tenant_admin", false)))
		run_utility(psprintf("REVOKE idsess_tenant_admin FROM %s",
							 quote_identifier(GetUserNameFromId(role, false))));
	SPI_finish();
	CacheInvalidateRelcacheByRelid(tenant_admins_relid());
	forget_scope();
	PG_RETURN_BOOL(n > 0);
}
