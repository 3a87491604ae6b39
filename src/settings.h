/*-------------------------------------------------------------------------
 *
 * settings.h
 *		idsess's settings (GUCs), defined in settings.c.
 *
 *-------------------------------------------------------------------------
 */
#ifndef IDSESS_SETTINGS_H
#define IDSESS_SETTINGS_H

#include "idsess.h"

extern char *idsess_master_key_file;
extern int	idsess_max_ticket_kb;
extern int	idsess_idle_timeout_s;
extern int	idsess_max_lifetime_s;
extern char *idsess_databases;
extern int	idsess_expire_batch_size;
extern int	idsess_expire_batch_delay_ms;
extern int	idsess_expire_min_rate;
extern bool idsess_expire_prune;
extern bool idsess_compress_tickets;
extern int	idsess_max_nap_ms;
extern bool idsess_expired_trigger_logout;
extern int	idsess_key_lifetime_min;
extern int	idsess_reseal_batch_size;
extern int	idsess_stats_retention_min;
extern int	idsess_tenant_counters;
extern int	idsess_max_sessions_per_subject;
extern int	idsess_session_limit_action;

extern int	idsess_record_client;
extern int	idsess_activity_granularity_s;
extern int	idsess_ip_prefix_v4;
extern int	idsess_ip_prefix_v6;

#define IDSESS_RECORD_OFF			0
#define IDSESS_RECORD_IP			1
#define IDSESS_RECORD_IP_AND_AGENT	2

#define IDSESS_LIMIT_REFUSE			0
#define IDSESS_LIMIT_END_OLDEST		1
/* Counts assignments of idsess.master_key_file, reloads included. */
extern uint64 idsess_master_key_generation;

extern void idsess_define_settings(void);

#endif							/* IDSESS_SETTINGS_H */
