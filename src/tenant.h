/*-------------------------------------------------------------------------
 *
 * tenant.h
 *		The tenants a calling role administers (tenant.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef IDSESS_TENANT_H
#define IDSESS_TENANT_H

#include "idsess.h"

/*
 * SQL text: whether the caller may see a session row's tenant, for the
 * admin paths' statements (the column named as given).
 */
#define IDSESS_TENANT_VISIBLE(col) "idsess.tenant_visible(" col ")"

extern bool idsess_tenant_restricted(void);
extern bool idsess_tenant_visible_text(text *tenant);
extern void idsess_tenant_require_all(const char *what);
extern void idsess_tenant_check_arg(text *tenant);
extern Datum idsess_tenant_scope_array(void);

#endif							/* IDSESS_TENANT_H */
