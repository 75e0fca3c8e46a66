/*
 * Where the hash chain stands, so that a new segment (of this run or the next) can say
 * exactly what it continues from. At start the agent finds the end of the previous
 * run's chain from the segment files themselves, the authority: the last complete
 * batch of the newest segment. The small file chain.state in the data dir, written
 * atomically at every segment opening and at a clean stop, is a cache and a witness:
 * after a clean stop it saves reading the whole last segment, and it names the newest
 * segment, so one that disappears while the agent is down is noticed and recorded.
 * Errors: 0 or -errno.
 */
#ifndef FL_CHAIN_STATE_H
#define FL_CHAIN_STATE_H

#include <stdint.h>

#include "store/chain.h"
#include "store/store_dir.h"

#define CHAIN_STATE_FILE "chain.state"
#define CHAIN_RUN_ID_MAX 40
#define CHAIN_DETAIL_MAX 512

struct chain_pos {
	int has_hash;                    /* 0: nothing before, the chain starts */
	uint8_t hash[CHAIN_HASH_LEN];    /* hash of the last batch: the next one's prev_hash */
	char segment[SEGMENT_NAME_MAX];  /* the file holding that batch */
	char run_id[CHAIN_RUN_ID_MAX];   /* the run that wrote it */
	uint64_t last_seq;               /* of the last record in or before that batch */
	uint64_t offset;                 /* decompressed end of that batch in segment */
	int end;                         /* how segment ended: SegmentHeader.PrevEnd */
	char detail[CHAIN_DETAIL_MAX];   /* why, for people; "" when nothing to say */
	/* find_end only: segment files were there, and chain.state was not (it is written
	 * at the first segment's opening: only a deletion removes it). */
	int had_segments, state_absent;
};

/* Records that segment was opened (its name; not yet where its chain ends). */
int chain_state__opened(int dirfd, const char *segment);
/* Records a clean close: pos is the chain's end, segment_bytes the file's final size. */
int chain_state__closed(int dirfd, const struct chain_pos *pos, uint64_t segment_bytes);

/*
 * At start: where the chain of the data dir ends, into *pos (end saying how the last
 * run ended), and the number for the next segment file. Reads chain.state and, unless
 * it describes a clean stop of the newest segment, that segment's batches.
 */
int chain_state__find_end(int dirfd, struct chain_pos *pos, uint64_t *next_number);

#endif
