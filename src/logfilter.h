/*-------------------------------------------------------------------------
 *
 * logfilter.h
 *		Keeping tickets out of the server log (logfilter.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef IDSESS_LOGFILTER_H
#define IDSESS_LOGFILTER_H

#include "idsess.h"

extern void idsess_install_log_filter(void);

#endif							/* IDSESS_LOGFILTER_H */
