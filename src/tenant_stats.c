/*-------------------------------------------------------------------------
 *
 * tenant_stats.c
 *		A shared table of session events per tenant, between the commits
 *		that count them and the worker's flush into the tenants' hourly
 *		history (stats.c does both; this file knows no SQL).
 *
 * An entry is one tenant of one served database, named by the database's
 * worker slot and OID: a committing backend adds to it, the database's
 * worker reads it each round and subtracts what it flushed once that has
 * committed, and an entry at zero is removed.  The table holds
 * idsess.tenant_counters entries, so it fills only when that many tenants
 * have events within one worker round; the events that find it full are
 * counted in the database's totals as always, and per slot here as
 * unattributed, which the worker logs.  Entries of a slot the launcher
 * gives to another database, or of a database recreated under the same
 * name, are dropped with the slot's other counts.
 *
 * Lock: one LWLock, always taken exclusive, guards the hash table and the
 * unattributed counts (reading also drops stale entries).  Adding and
 * subtracting do a few hash probes per tenant and allocate nothing, so
 * they can run in a commit callback.
 *
 *-------------------------------------------------------------------------
 */
#include "idsess.h"
#include "tenant_stats.h"
#include "settings.h"

#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "storage/lwlock.h"
#include "storage/shmem.h"
#include "utils/hsearch.h"

/* A tenant of at most IDSESS_MAX_ID_CHARS characters, in bytes. */
#define TENANT_BYTES (IDSESS_MAX_ID_CHARS * MAX_MULTIBYTE_CHAR_LEN + 1)

typedef struct TenantKey
{
	int			slot;
	Oid			dboid;
	char		tenant[TENANT_BYTES];	/* zero-padded: the key is compared whole */
} TenantKey;

typedef struct TenantEntry
{
	TenantKey	key;
	int64		n[IDSESS_NUM_EVENTS];
} TenantEntry;

typedef struct TenantStatsShared
{
	LWLock	   *lock;
	int64		unattributed[IDSESS_MAX_WORKERS];
} TenantStatsShared;

static TenantStatsShared *shared = NULL;
static HTAB *entries = NULL;

Size
idsess_tenant_stats_shmem_size(void)
{
	return add_size(MAXALIGN(sizeof(TenantStatsShared)),
					hash_estimate_size(Max(idsess_tenant_counters, 1), sizeof(TenantEntry)));
}

void
idsess_tenant_stats_shmem_request(void)
{
	RequestNamedLWLockTranche("idsess_tenant_stats", 1);
}

/* At shared memory startup, with AddinShmemInitLock held. */
void
idsess_tenant_stats_shmem_init(void)
{
	bool		found;
	HASHCTL		info;

	shared = ShmemInitStruct("idsess tenant stats", sizeof(TenantStatsShared), &found);
	if (!found)
	{
		memset(shared, 0, sizeof(TenantStatsShared));
		shared->lock = &(GetNamedLWLockTranche("idsess_tenant_stats"))->lock;
	}
	info.keysize = sizeof(TenantKey);
	info.entrysize = sizeof(TenantEntry);
	entries = ShmemInitHash("idsess tenant stats entries",
							Max(idsess_tenant_counters, 1), Max(idsess_tenant_counters, 1),
							&info, HASH_ELEM | HASH_BLOBS | HASH_FIXED_SIZE);
}

static void
make_key(TenantKey *key, int slot, Oid dboid, const char *tenant)
{
	memset(key, 0, sizeof(TenantKey));
	key->slot = slot;
	key->dboid = dboid;
	strlcpy(key->tenant, tenant, TENANT_BYTES);
}

/*
 * Adds a committed transaction's counts, one element per tenant, to this
 * database's entries in slot.  Called after commit: raises no error.
 */
void
idsess_tenant_stats_add(int slot, const IdsessTenantCounts *c, int n)
{
	TenantKey	key;

	if (entries == NULL || n == 0)
		return;
	LWLockAcquire(shared->lock, LW_EXCLUSIVE);
	for (int i = 0; i < n; i++)
	{
		TenantEntry *entry = NULL;
		bool		found;

		if (idsess_tenant_counters > 0)
		{
			make_key(&key, slot, MyDatabaseId, c[i].tenant);
			entry = hash_search(entries, &key, HASH_ENTER_NULL, &found);
		}
		if (entry == NULL)
		{
			for (int e = 0; e < IDSESS_NUM_EVENTS; e++)
				shared->unattributed[slot] += c[i].n[e];
			continue;
		}
		if (!found)
			memset(entry->n, 0, sizeof(entry->n));
		for (int e = 0; e < IDSESS_NUM_EVENTS; e++)
			entry->n[e] += c[i].n[e];
	}
	LWLockRelease(shared->lock);
}

/*
 * The worker's flush: copies this database's entries in its slot (palloc'd
 * in the current context) and the events left unattributed, and drops the
 * slot's entries of another database.  Returns how many entries.
 */
int
idsess_tenant_stats_read(int slot, IdsessTenantCounts **out, int64 *unattributed)
{
	HASH_SEQ_STATUS scan;
	TenantEntry *entry;
	int			n = 0;
	int			size = 16;

	*out = palloc(sizeof(IdsessTenantCounts) * size);
	*unattributed = 0;
	if (entries == NULL)
		return 0;
	LWLockAcquire(shared->lock, LW_EXCLUSIVE);
	*unattributed = shared->unattributed[slot];
	hash_seq_init(&scan, entries);
	while ((entry = hash_seq_search(&scan)) != NULL)
	{
		if (entry->key.slot != slot)
			continue;
		if (entry->key.dboid != MyDatabaseId)
		{
			hash_search(entries, &entry->key, HASH_REMOVE, NULL);
			continue;
		}
		if (n == size)
		{
			size *= 2;
			/* The lock is released by the error's cleanup if this fails. */
			*out = repalloc(*out, sizeof(IdsessTenantCounts) * size);
		}
		(*out)[n].tenant = pstrdup(entry->key.tenant);
		memcpy((*out)[n].n, entry->n, sizeof(entry->n));
		n++;
	}
	LWLockRelease(shared->lock);
	return n;
}

/*
 * Once the flush has committed: subtracts what it read, removing entries
 * that reach zero.  Called after commit: raises no error.
 */
void
idsess_tenant_stats_sub(int slot, const IdsessTenantCounts *c, int n, int64 unattributed)
{
	TenantKey	key;

	if (entries == NULL)
		return;
	LWLockAcquire(shared->lock, LW_EXCLUSIVE);
	shared->unattributed[slot] -= unattributed;
	for (int i = 0; i < n; i++)
	{
		TenantEntry *entry;
		bool		zero = true;

		make_key(&key, slot, MyDatabaseId, c[i].tenant);
		entry = hash_search(entries, &key, HASH_FIND, NULL);
		if (entry == NULL)
			continue;
		for (int e = 0; e < IDSESS_NUM_EVENTS; e++)
		{
			entry->n[e] -= c[i].n[e];
			zero &= entry->n[e] == 0;
		}
		if (zero)
			hash_search(entries, &key, HASH_REMOVE, NULL);
	}
	LWLockRelease(shared->lock);
}

/* The slot changes database, or its database was recreated: its counts go. */
void
idsess_tenant_stats_forget(int slot)
{
	HASH_SEQ_STATUS scan;
	TenantEntry *entry;

	if (entries == NULL)
		return;
	LWLockAcquire(shared->lock, LW_EXCLUSIVE);
	shared->unattributed[slot] = 0;
	hash_seq_init(&scan, entries);
	while ((entry = hash_seq_search(&scan)) != NULL)
		if (entry->key.slot == slot)
			hash_search(entries, &entry->key, HASH_REMOVE, NULL);
	LWLockRelease(shared->lock);
}
