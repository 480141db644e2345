/*-------------------------------------------------------------------------
 *
 * qoe_generate.h
 *	  Realistic player telemetry generator (pure C, no postgres.h).
 *
 * Used by qoe_generate_events() / qoe_generate_videos() (qoe_generate_pg.c),
 * the unit tests and the speed bench.  Everything is deterministic: session
 * i's rows depend only on (config, i), never on call order, and video v's
 * attributes only on (seed, v).
 *
 *-------------------------------------------------------------------------
 */
#ifndef QOE_GENERATE_H
#define QOE_GENERATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* limits checked by the SQL glue */
#define QOE_GEN_MAX_SESSIONS 50000000
#define QOE_GEN_MAX_DAYS 3660
#define QOE_GEN_MAX_VIDEOS 10000000

/* rows per session: simulated events are capped below this, faults added */
#define QOE_GEN_MAX_SIM_ROWS 900
#define QOE_GEN_MAX_ROWS 1024

typedef struct QoeGenConfig
{
	uint64_t	seed;
	int64_t		sessions;		/* total sessions (users = sessions / 5) */
	int32_t		days;			/* >= 1 */
	int32_t		videos;			/* >= 1 */
	int64_t		start_ts;		/* PostgreSQL microseconds of day 0, 00:00 UTC */
	bool		delivery_faults;	/* duplicates, out-of-order, dropped rows,
									 * unknown names (true in SQL) */
} QoeGenConfig;

typedef struct QoeGenVideo
{
	int32_t		id;				/* 1 .. videos */
	double		duration;		/* seconds */
	const char *category;
	char		title[64];
} QoeGenVideo;

typedef struct QoeGenRow
{
	int64_t		ts;				/* PostgreSQL microseconds */
	double		position;		/* meaningful iff has_position */
	double		bitrate;		/* bits/s, meaningful iff has_bitrate */
	uint16_t	name;			/* index into qoe_gen_event_names */
	bool		has_position;
	bool		has_bitrate;
} QoeGenRow;

typedef struct QoeGenSession
{
	uint64_t	index;
	char		session_id[20];	/* 16 hex digits */
	int64_t		user_id;		/* 1 .. users */
	int32_t		video_id;		/* 1 .. videos */
	double		video_duration;
	const char *device_type;
	const char *os_version;
	const char *app_version;
	const char *network_type;
	const char *country_code;
	const char *isp;
	const char *cdn_pop;
	int			nrows;
	QoeGenRow	rows[QOE_GEN_MAX_ROWS];
} QoeGenSession;

/* event names as sent by players; QOE_GEN_NNAMES of them */
extern const char *const qoe_gen_event_names[];
extern const int qoe_gen_nnames;

/* video v (1-based) of a catalogue generated with seed */
extern void qoe_gen_video(uint64_t seed, int32_t v, QoeGenVideo *out);

/* session i (0-based) of cfg, rows in delivery order */
extern void qoe_gen_session(const QoeGenConfig *cfg, uint64_t i, QoeGenSession *out);

#endif							/* QOE_GENERATE_H */
