/*-------------------------------------------------------------------------
 *
 * search_index.h
 *		The admin search index's pending list, merged by the worker (search_index.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef IDSESS_SEARCH_INDEX_H
#define IDSESS_SEARCH_INDEX_H

#include "idsess.h"
#include "storage/block.h"

typedef struct IdsessSearchTidy
{
	BlockNumber before;			/* pending list pages found */
	BlockNumber after;			/* left after a merge (rows added meanwhile) */
	BlockNumber threshold;		/* pages from which the worker merges */
	int64		rows;			/* session rows in the pages found */
} IdsessSearchTidy;

extern IdsessSearchTidy idsess_tidy_search_index(void);

#endif							/* IDSESS_SEARCH_INDEX_H */
