/*-------------------------------------------------------------------------
 *
 * settings.c
 *		The idsess.* configuration parameters.
 *
 * Every setting idsess reads is defined here, so that the README's table of
 * settings and this file can be checked against each other.
 *
 *-------------------------------------------------------------------------
 */
#include "idsess.h"
#include "settings.h"

#include <limits.h>

#include "utils/guc.h"

char	   *idsess_master_key_file = NULL;
uint64		idsess_master_key_generation = 0;
int			idsess_max_ticket_kb = 4096;
int			idsess_idle_timeout_s = 0;
int			idsess_max_lifetime_s = 0;
char	   *idsess_databases = NULL;
int			idsess_expire_batch_size = 1000;
int			idsess_expire_batch_delay_ms = 0;
int			idsess_expire_min_rate = 5500;
bool		idsess_expire_prune = false;
int			idsess_max_nap_ms = 10000;
bool		idsess_expired_trigger_logout = false;
bool		idsess_compress_tickets = true;
int			idsess_key_lifetime_min = 90 * 24 * 60;
int			idsess_reseal_batch_size = 0;
int			idsess_stats_retention_min = 30 * 24 * 60;
int			idsess_tenant_counters = 1000;
int			idsess_max_sessions_per_subject = 0;
int			idsess_session_limit_action = IDSESS_LIMIT_REFUSE;
int			idsess_record_client = IDSESS_RECORD_OFF;
int			idsess_activity_granularity_s = 60;
int			idsess_ip_prefix_v4 = 24;
int			idsess_ip_prefix_v6 = 48;

static const struct config_enum_entry limit_actions[] = {
	{"refuse", IDSESS_LIMIT_REFUSE, false},
	{"end_oldest", IDSESS_LIMIT_END_OLDEST, false},
	{NULL, 0, false}
};

static const struct config_enum_entry record_levels[] = {
	{"off", IDSESS_RECORD_OFF, false},
	{"ip", IDSESS_RECORD_IP, false},
	{"ip_and_agent", IDSESS_RECORD_IP_AND_AGENT, false},
	{NULL, 0, false}
};

static void
master_key_file_assign(const char *newval pg_attribute_unused(),
					   void *extra pg_attribute_unused())
{
	/* The key ring reads the (possibly new) file again when it sees this. */
	idsess_master_key_generation++;
}

void
idsess_define_settings(void)
{
	DefineCustomStringVariable("idsess.master_key_file",
							   "File holding the 256-bit master key (64 hex digits) that wraps the data keys.",
							   "Only superusers can see or change it; the file must not be readable by group or others.",
							   &idsess_master_key_file,
							   "",
							   PGC_SUSET,
							   GUC_SUPERUSER_ONLY | GUC_NOT_IN_SAMPLE,
							   NULL, master_key_file_assign, NULL);

	DefineCustomIntVariable("idsess.max_ticket_size",
							"Largest ticket idsess_create and idsess_update accept.",
							NULL,
							&idsess_max_ticket_kb,
							4096, 1, 512 * 1024,
							PGC_SUSET,
							GUC_UNIT_KB,
							NULL, NULL, NULL);

	DefineCustomIntVariable("idsess.idle_timeout",
							"System-wide inactivity timeout for new sessions; 0 turns it off.",
							"A session created while it is set expires when it has not been renewed or touched for this long, unless idsess_create() gives its own.",
							&idsess_idle_timeout_s,
							0, 0, INT_MAX,
							PGC_SIGHUP,
							GUC_UNIT_S,
							NULL, NULL, NULL);

	DefineCustomIntVariable("idsess.max_lifetime",
							"Absolute lifetime of new sessions, however often renewed or touched; 0 means none.",
							"A session created while it is set ends at its creation plus this, unless idsess_create() or an upsert gives its own max_lifetime.",
							&idsess_max_lifetime_s,
							0, 0, INT_MAX,
							PGC_SIGHUP,
							GUC_UNIT_S,
							NULL, NULL, NULL);
	DefineCustomStringVariable("idsess.databases",
							   "Databases whose expired sessions the background workers remove, comma-separated.",
							   "Needs idsess in shared_preload_libraries; the launcher follows changes on reload.",
							   &idsess_databases,
							   "postgres",
							   PGC_SIGHUP,
							   GUC_LIST_INPUT,
							   NULL, NULL, NULL);

	DefineCustomIntVariable("idsess.expire_batch_size",
							"Sessions the expiry worker removes per transaction.",
							NULL,
							&idsess_expire_batch_size,
							1000, 1, 100000,
							PGC_SIGHUP,
							0,
							NULL, NULL, NULL);

	DefineCustomIntVariable("idsess.expire_batch_delay",
							"Pause of the expiry worker between batches while it works through a backlog.",
							"Zero paces a backlog by itself: flat out while no client backend is running a statement, otherwise a pause of four times each batch's time.",
							&idsess_expire_batch_delay_ms,
							0, 0, 10000,
							PGC_SIGHUP,
							GUC_UNIT_MS,
							NULL, NULL, NULL);

	DefineCustomIntVariable("idsess.expire_min_rate",
							"Sessions a second below which the expiry worker does not pace a backlog.",
							"The pacing's pauses shrink, down to none, so that a backlog is removed at least this fast from its first batch; zero leaves the pacing to its duty cycle alone.  No effect with idsess.expire_batch_delay set.",
							&idsess_expire_min_rate,
							5500, 0, 10000000,
							PGC_SIGHUP,
							0,
							NULL, NULL, NULL);

	DefineCustomBoolVariable("idsess.expire_prune",
							 "Have the expiry worker prune the heap pages each batch deleted from.",
							 "Otherwise the sessions' readers prune them as they come across them, and pay for it.",
							 &idsess_expire_prune,
							 false,
							 PGC_SIGHUP,
							 0,
							 NULL, NULL, NULL);

	DefineCustomIntVariable("idsess.max_nap",
							"Longest the expiry worker sleeps before looking for due sessions again.",
							"It wakes earlier when the next session falls due or when an earlier one is created.",
							&idsess_max_nap_ms,
							10000, 10, 3600 * 1000,
							PGC_SIGHUP,
							GUC_UNIT_MS,
							NULL, NULL, NULL);

	DefineCustomBoolVariable("idsess.expired_sessions_trigger_logout",
							 "Queue a back-channel logout in idsess.logout_outbox for every session the expirer removes.",
							 NULL,
							 &idsess_expired_trigger_logout,
							 false,
							 PGC_SIGHUP,
							 0,
							 NULL, NULL, NULL);

	DefineCustomBoolVariable("idsess.compress_tickets",
							 "Compress each ticket before sealing it, when that makes it smaller.",
							 "The sealed length then follows how compressible the ticket is; see the README before turning it off or on.",
							 &idsess_compress_tickets,
							 true,
							 PGC_SUSET,
							 0,
							 NULL, NULL, NULL);

	DefineCustomIntVariable("idsess.key_lifetime",
							"Age after which the expiry worker makes a new data key active; 0 never rotates.",
							"Older keys keep opening the tickets sealed under them.",
							&idsess_key_lifetime_min,
							90 * 24 * 60, 0, INT_MAX,
							PGC_SIGHUP,
							GUC_UNIT_MIN,
							NULL, NULL, NULL);

	DefineCustomIntVariable("idsess.reseal_batch_size",
							"Tickets under older keys the expiry worker re-seals with the active key per round; 0 turns it off.",
							NULL,
							&idsess_reseal_batch_size,
							0, 0, 100000,
							PGC_SIGHUP,
							0,
							NULL, NULL, NULL);

	DefineCustomIntVariable("idsess.stats_retention",
							"How long the hourly session history (idsess.stats_hourly) is kept.",
							NULL,
							&idsess_stats_retention_min,
							30 * 24 * 60, 60, INT_MAX,
							PGC_SIGHUP,
							GUC_UNIT_MIN,
							NULL, NULL, NULL);

	DefineCustomIntVariable("idsess.tenant_counters",
							"Tenants whose session events shared memory holds between two rounds of their database's worker.",
							"The tenants' hourly history (idsess.stats_hourly_tenants) comes from them; events of tenants beyond this within one round count in the database's history only, and the worker logs how many.  0 keeps no history per tenant.",
							&idsess_tenant_counters,
							1000, 0, 100000,
							PGC_POSTMASTER,
							0,
							NULL, NULL, NULL);

	DefineCustomIntVariable("idsess.max_sessions_per_subject",
							"Most concurrent sessions one subject may have; 0 means no limit.",
							"idsess_create() can override it per call with max_sessions.",
							&idsess_max_sessions_per_subject,
							0, 0, INT_MAX,
							PGC_SIGHUP,
							0,
							NULL, NULL, NULL);

	DefineCustomEnumVariable("idsess.session_limit_action",
							 "What idsess_create() does beyond the session limit: refuse, or end_oldest.",
							 NULL,
							 &idsess_session_limit_action,
							 IDSESS_LIMIT_REFUSE,
							 limit_actions,
							 PGC_SIGHUP,
							 0,
							 NULL, NULL, NULL);
	DefineCustomEnumVariable("idsess.record_client",
							 "What sessions record of the client using them: off, ip (the IP address, truncated, the device label and when it was last seen), or ip_and_agent (also the user agent).",
							 "Arguments the setting does not allow are ignored: nothing is stored.",
							 &idsess_record_client,
							 IDSESS_RECORD_OFF,
							 record_levels,
							 PGC_SIGHUP,
							 0,
							 NULL, NULL, NULL);
	DefineCustomIntVariable("idsess.activity_granularity",
							"How far a session's last_seen must move before a touch or renewal writes it; a new IP address is always written.",
							NULL,
							&idsess_activity_granularity_s,
							60, 0, 86400,
							PGC_SIGHUP,
							GUC_UNIT_S,
							NULL, NULL, NULL);
	DefineCustomIntVariable("idsess.ip_prefix_v4",
							"Bits of a client's IPv4 address that sessions record; the rest are zeroed.",
							NULL,
							&idsess_ip_prefix_v4,
							24, 0, 32,
							PGC_SIGHUP,
							0,
							NULL, NULL, NULL);
	DefineCustomIntVariable("idsess.ip_prefix_v6",
							"Bits of a client's IPv6 address that sessions record; the rest are zeroed.",
							NULL,
							&idsess_ip_prefix_v6,
							48, 0, 128,
							PGC_SIGHUP,
							0,
							NULL, NULL, NULL);

	MarkGUCPrefixReserved("idsess");
}
