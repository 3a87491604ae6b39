/*-------------------------------------------------------------------------
 *
 * compat.h
 *		Every difference between the PostgreSQL releases idsess builds
 *		for, in one place.
 *
 * idsess is built and tested on PostgreSQL 15 (Debian 12) and 17 (Debian
 * 13).  Each branch below names the release that changed the API, so that
 * a branch can go when the oldest supported release has the change.  The
 * range here is the one debian/pgversions, META.json and the README's
 * support table give; t/000_versions.pl fails when they drift apart.
 *
 *-------------------------------------------------------------------------
 */
#ifndef IDSESS_COMPAT_H
#define IDSESS_COMPAT_H

#include "postgres.h"

/* The supported releases, as major version numbers (15 to 17). */
#define IDSESS_PG_MIN_MAJOR 15
#define IDSESS_PG_MAX_MAJOR 17

#if PG_VERSION_NUM < IDSESS_PG_MIN_MAJOR * 10000 || PG_VERSION_NUM >= (IDSESS_PG_MAX_MAJOR + 1) * 10000
#error "idsess supports PostgreSQL 15 to 17: see the README's support table"
#endif

/*
 * PostgreSQL 16 renamed pgstat_fetch_stat_local_beentry() to
 * pgstat_get_local_beentry_by_index(); it still takes the 1-based index
 * into the backend status snapshot.  It is the only server symbol idsess
 * uses that exists in one release and not the other, so it is referenced
 * weakly: a library built for one release, loaded into a server of the
 * other, then gets past the dynamic loader to PostgreSQL's magic block
 * check, which refuses it saying which release each is (instead of
 * "undefined symbol").  A server of the right release always has it.
 */
/*
 * PostgreSQL 16 moved the varlena macros (VARDATA, SET_VARSIZE, ...) out of
 * postgres.h into varatt.h.
 */
#if PG_VERSION_NUM >= 160000
#include "varatt.h"
#endif

#include "utils/backend_status.h"
#if PG_VERSION_NUM < 160000
#define pgstat_get_local_beentry_by_index(idx) pgstat_fetch_stat_local_beentry(idx)
#pragma weak pgstat_fetch_stat_local_beentry
#else
#pragma weak pgstat_get_local_beentry_by_index
#endif

#endif							/* IDSESS_COMPAT_H */
