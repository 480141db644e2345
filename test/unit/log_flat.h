/*
 * log_flat.h
 *	  For the unit tests and the fuzz target: a log's records in one block
 *	  (a copy), to hand them on as received bytes (data, nbytes).
 */
#ifndef LOG_FLAT_H
#define LOG_FLAT_H

#include "qoe_core.h"

#include <stdint.h>

static inline QoeLog *
log_flat(const QoeLog *log)
{
	size_t		save = qoe_log_chunk_min;
	QoeLog	   *flat;

	qoe_log_chunk_min = SIZE_MAX;	/* one block, however large */
	flat = qoe_log_concat(qoe_log_create(&qoe_malloc_allocator, 0),
						  &qoe_malloc_allocator, log);
	qoe_log_chunk_min = save;
	return flat;
}

#endif							/* LOG_FLAT_H */
