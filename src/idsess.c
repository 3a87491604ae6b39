/*-------------------------------------------------------------------------
 *
 * idsess.c
 *		Module load: settings and the log filter, and when preloaded,
 *		shared memory and the expiry launcher.
 *
 * The store functions work whether or not idsess is in
 * shared_preload_libraries; only the background expiry needs preloading.
 *
 *-------------------------------------------------------------------------
 */
#include "idsess.h"
#include "idsess.h"
#include "logfilter.h"
#include "settings.h"
#include "shmem.h"
#include "stats.h"
#include "worker.h"

#include "fmgr.h"
#include "miscadmin.h"

PG_MODULE_MAGIC;

void		_PG_init(void);

void
_PG_init(void)
{
	idsess_define_settings();
	idsess_install_log_filter();
	if (!process_shared_preload_libraries_in_progress)
		return;
	idsess_shmem_init();
	idsess_stats_init();
	idsess_register_launcher();
}
