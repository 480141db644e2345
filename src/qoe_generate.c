/*-------------------------------------------------------------------------
 *
 * qoe_generate.c
 *	  Realistic player telemetry: a per-session simulator (pure C).
 *
 * Every session i draws from its own xoshiro256** stream seeded from
 * (seed, i), so its rows depend on (config, i) only.  Users and videos have
 * streams of their own (seed, user) and (seed, video).  The delivery faults
 * (duplicates, out-of-order rows, dropped rows, unknown names) use a fourth
 * stream, so turning them off leaves the simulated events unchanged.
 *
 * Realism, in short:
 *	  - devices smart_tv 45%, mobile 30%, web 13%, tablet 7%, console 5%;
 *		networks by device; bitrate ladders capped by device and network;
 *	  - ten countries with their UTC offsets; sessions start by a local-hour
 *		profile peaking at 20-21h, weekends busier, slight growth over time;
 *	  - startup time log-normal by network and device; viewers leave when it
 *		exceeds their patience (exits before start); start failures;
 *	  - playback: heartbeats every 60 s, stalls by network, pauses, seeks
 *		(each followed by a short seek buffering most of the time), intro
 *		skips, bitrate changes (downshift after a stall), mid-roll ads for
 *		ad-supported users, playback failures, completions depending on
 *		video length, abandonment, replays of short clips;
 *	  - app 5.2.0 is rolled out from 40% of the period on.
 *
 * Injected faults (documented in README.md, "Generator"):
 *	  - app_version 5.2.0 on smart_tv: 4x the stall rate, 1.3x stall length;
 *	  - cdn_pop fra-2: startup 3.2x slower;
 *	  - delivery: 0.3% of rows duplicated, 1% of rows swapped with the next
 *		one, 3% of ended and buffer_end rows and 1% of buffer_start rows
 *		lost, unknown event names on 0.4% of rows.
 *
 *-------------------------------------------------------------------------
 */
#include "qoe_generate.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* ---------------------------------------------------------------------
 * PRNG: splitmix64 for seeding, xoshiro256** for the streams
 * ---------------------------------------------------------------------
 */
typedef struct Rng
{
	uint64_t	s[4];
} Rng;

static inline uint64_t
mix64(uint64_t z)
{
	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return z ^ (z >> 31);
}

static inline uint64_t
splitmix64(uint64_t *x)
{
	*x += UINT64_C(0x9e3779b97f4a7c15);
	return mix64(*x);
}

enum
{
	STREAM_SESSION = 1,
	STREAM_USER,
	STREAM_VIDEO,
	STREAM_FAULTS
};

static void
rng_seed(Rng *r, uint64_t seed, uint64_t stream, uint64_t idx)
{
	uint64_t	x = mix64(seed * UINT64_C(0x9e3779b97f4a7c15) ^ mix64(stream + 0x5151)) ^
		mix64(idx + UINT64_C(0x632be59bd9b4e019));

	for (int k = 0; k < 4; k++)
		r->s[k] = splitmix64(&x);
}

static inline uint64_t
rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

static inline uint64_t
rng_next(Rng *r)
{
	uint64_t   *s = r->s;
	uint64_t	result = rotl(s[1] * 5, 7) * 9;
	uint64_t	t = s[1] << 17;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return result;
}

/* uniform in [0, 1) */
static inline double
u01(Rng *r)
{
	return (double) (rng_next(r) >> 11) * 0x1.0p-53;
}

static inline double
uniform(Rng *r, double lo, double hi)
{
	return lo + (hi - lo) * u01(r);
}

/* exponential with the given mean */
static inline double
rexp(Rng *r, double mean)
{
	return -mean * log1p(-u01(r));
}

/* standard normal (Box-Muller, one of the pair) */
static inline double
rnorm(Rng *r)
{
	double		u1 = 1.0 - u01(r);	/* (0, 1] */
	double		u2 = u01(r);

	return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

static inline double
lognormal(Rng *r, double median, double sigma)
{
	return median * exp(sigma * rnorm(r));
}

static inline double
clampd(double x, double lo, double hi)
{
	return x < lo ? lo : (x > hi ? hi : x);
}

/* index drawn from weights summing to about 1 */
typedef struct Weighted
{
	const char *name;
	double		w;
} Weighted;

static int
pick(Rng *r, const Weighted *tab, int n)
{
	double		u = u01(r);

	for (int k = 0; k < n - 1; k++)
	{
		u -= tab[k].w;
		if (u < 0)
			return k;
	}
	return n - 1;
}

#define NELEM(a) ((int) (sizeof(a) / sizeof((a)[0])))

/* ---------------------------------------------------------------------
 * Event names
 * ---------------------------------------------------------------------
 */
enum
{
	N_REQUEST, N_LOADSTART, N_PLAY_REQUEST,
	N_PLAYING, N_FIRST_FRAME,
	N_PLAY, N_RESUME,
	N_PAUSE,
	N_SEEK_START, N_SEEKING,
	N_SEEK_END, N_SEEKED,
	N_SKIP,
	N_BUFFER_START, N_WAITING,
	N_BUFFER_END,
	N_HEARTBEAT, N_TIMEUPDATE,
	N_BITRATE, N_RENDITION_CHANGE, N_QUALITY_CHANGE,
	N_AD_START, N_AD_BREAK_START,
	N_AD_END, N_AD_BREAK_END,
	N_ENDED,
	N_ERROR, N_PLAYBACK_ERROR,
	N_EXIT, N_UNLOAD, N_SESSION_END,
	/* unknown to the vocabulary */
	N_UNKNOWN_FIRST,
	N_AD_IMPRESSION = N_UNKNOWN_FIRST, N_SUBTITLE, N_CAST, N_DRM,
	N_COUNT
};

const char *const qoe_gen_event_names[] = {
	"request", "loadstart", "play_request",
	"playing", "first_frame",
	"play", "resume",
	"pause",
	"seek_start", "seeking",
	"seek_end", "seeked",
	"skip",
	"buffer_start", "waiting",
	"buffer_end",
	"heartbeat", "timeupdate",
	"bitrate", "rendition_change", "quality_change",
	"ad_start", "ad_break_start",
	"ad_end", "ad_break_end",
	"ended",
	"error", "playback_error",
	"exit", "unload", "session_end",
	"ad_impression_beacon", "subtitle_track_change", "cast_session_start",
	"drm_license_acquired",
};

const int	qoe_gen_nnames = N_COUNT;

/* what the player means; names depend on the SDK naming scheme */
enum
{
	E_REQUEST, E_FIRST_FRAME, E_RESUME, E_PAUSE, E_SEEK_START, E_SEEK_END,
	E_SKIP, E_BUFFER_START, E_BUFFER_END, E_HEARTBEAT, E_BITRATE, E_AD_START,
	E_AD_END, E_ENDED, E_ERROR, E_EXIT, E_COUNT
};

enum
{
	SCHEME_STD, SCHEME_HTML5, SCHEME_SDK, NSCHEMES
};

static const uint16_t scheme_names[NSCHEMES][E_COUNT] = {
	/* canonical names */
	{N_REQUEST, N_PLAYING, N_PLAY, N_PAUSE, N_SEEK_START, N_SEEK_END, N_SKIP,
	N_BUFFER_START, N_BUFFER_END, N_HEARTBEAT, N_BITRATE, N_AD_START, N_AD_END,
	N_ENDED, N_ERROR, N_EXIT},
	/* HTML5 media events (web players): a stall ends with "playing" */
	{N_LOADSTART, N_PLAYING, N_PLAY, N_PAUSE, N_SEEKING, N_SEEKED, N_SKIP,
	N_WAITING, N_PLAYING, N_TIMEUPDATE, N_RENDITION_CHANGE, N_AD_START, N_AD_END,
	N_ENDED, N_ERROR, N_UNLOAD},
	/* another SDK's names */
	{N_PLAY_REQUEST, N_FIRST_FRAME, N_RESUME, N_PAUSE, N_SEEK_START, N_SEEK_END,
	N_SKIP, N_BUFFER_START, N_BUFFER_END, N_HEARTBEAT, N_QUALITY_CHANGE,
	N_AD_BREAK_START, N_AD_BREAK_END, N_ENDED, N_PLAYBACK_ERROR, N_SESSION_END},
};

/* ---------------------------------------------------------------------
 * Dimensions
 * ---------------------------------------------------------------------
 */
enum
{
	D_SMART_TV, D_MOBILE, D_WEB, D_TABLET, D_CONSOLE, NDEVICES
};

static const Weighted devices[NDEVICES] = {
	{"smart_tv", 0.45}, {"mobile", 0.30}, {"web", 0.13}, {"tablet", 0.07},
	{"console", 0.05}
};

static const Weighted os_smart_tv[] = {
	{"tizen 6.5", 0.35}, {"webos 22", 0.30}, {"android tv 12", 0.20}, {"roku os 12.5", 0.15}
};
static const Weighted os_mobile[] = {
	{"ios 17.5", 0.30}, {"ios 16.7", 0.12}, {"android 14", 0.30}, {"android 13", 0.20},
	{"android 12", 0.08}
};
static const Weighted os_web[] = {
	{"windows 11", 0.45}, {"windows 10", 0.20}, {"macos 14", 0.25}, {"chromeos 124", 0.10}
};
static const Weighted os_tablet[] = {
	{"ipados 17.5", 0.60}, {"android 13", 0.40}
};
static const Weighted os_console[] = {
	{"ps5 24.02", 0.55}, {"xbox 10.0.25398", 0.45}
};

static const struct
{
	const Weighted *tab;
	int			n;
}			device_os[NDEVICES] = {
	{os_smart_tv, NELEM(os_smart_tv)}, {os_mobile, NELEM(os_mobile)},
	{os_web, NELEM(os_web)}, {os_tablet, NELEM(os_tablet)},
	{os_console, NELEM(os_console)}
};

enum
{
	NET_WIFI, NET_ETHERNET, NET_4G, NET_5G, NET_3G, NNETS
};

static const char *const net_names[NNETS] = {"wifi", "ethernet", "4g", "5g", "3g"};

/* network mix per device: wifi, ethernet, 4g, 5g, 3g */
static const double device_net[NDEVICES][NNETS] = {
	{0.62, 0.38, 0, 0, 0},		/* smart_tv */
	{0.50, 0, 0.30, 0.12, 0.08},	/* mobile */
	{0.68, 0.32, 0, 0, 0},		/* web */
	{0.85, 0, 0.10, 0.05, 0},	/* tablet */
	{0.45, 0.55, 0, 0, 0},		/* console */
};

/* per network: startup median (s), stalls per minute, stall median (s),
 * bitrate ladder cap, errors per hour of play, start failure probability,
 * bitrate changes per minute */
static const struct
{
	double		startup;
	double		stall_rate;
	double		stall_len;
	int			cap;
	double		err_rate;
	double		start_fail;
	double		br_rate;
}			net_props[NNETS] = {
	{1.2, 0.030, 1.5, 7, 0.020, 0.010, 0.12},	/* wifi */
	{0.9, 0.012, 1.0, 8, 0.012, 0.007, 0.08},	/* ethernet */
	{1.8, 0.080, 2.5, 5, 0.040, 0.020, 0.30},	/* 4g */
	{1.1, 0.040, 1.5, 7, 0.030, 0.014, 0.25},	/* 5g */
	{3.5, 0.250, 4.5, 3, 0.080, 0.045, 0.40},	/* 3g */
};

/* per device: startup factor, stall factor, ladder cap */
static const struct
{
	double		startup;
	double		stall;
	int			cap;
}			device_props[NDEVICES] = {
	{1.30, 1.2, 8}, {1.00, 1.0, 5}, {0.90, 0.9, 7}, {1.00, 1.0, 6}, {1.05, 0.8, 8}
};

/* bits per second */
static const double ladder[] = {
	235e3, 375e3, 750e3, 1750e3, 3000e3, 4300e3, 5800e3, 8100e3, 16800e3
};

static const char *const app_versions[] = {"5.0.8", "5.1.3", "5.2.0"};

#define FAULT_APP 2				/* 5.2.0 ... */
#define FAULT_DEVICE D_SMART_TV /* ... on smart TVs */
#define FAULT_STALL_RATE 4.0
#define FAULT_STALL_LEN 1.3
#define FAULT_POP "fra-2"
#define FAULT_POP_STARTUP 3.2

typedef struct Country
{
	const char *code;
	double		w;
	int			offset_min;		/* UTC offset, minutes */
	Weighted	isp[3];
	Weighted	pop[3];
} Country;

static const Country countries[] = {
	{"US", 0.30, -300, {{"comcast", 0.40}, {"charter", 0.35}, {"verizon", 0.25}},
	{{"iad-1", 0.40}, {"ord-1", 0.30}, {"sjc-1", 0.30}}},
	{"BR", 0.10, -180, {{"vivo", 0.45}, {"claro", 0.40}, {"oi", 0.15}},
	{{"gru-1", 0.80}, {"gru-2", 0.20}, {NULL, 0}}},
	{"GB", 0.10, 0, {{"bt", 0.40}, {"sky", 0.35}, {"virgin media", 0.25}},
	{{"lhr-1", 0.60}, {"lhr-2", 0.40}, {NULL, 0}}},
	{"DE", 0.10, 60, {{"deutsche telekom", 0.50}, {"vodafone", 0.35}, {"o2", 0.15}},
	{{"fra-1", 0.50}, {"fra-2", 0.50}, {NULL, 0}}},
	{"FR", 0.07, 60, {{"orange", 0.45}, {"free", 0.30}, {"sfr", 0.25}},
	{{"cdg-1", 0.60}, {"fra-2", 0.40}, {NULL, 0}}},
	{"ES", 0.05, 60, {{"movistar", 0.50}, {"vodafone", 0.30}, {"orange", 0.20}},
	{{"mad-1", 0.70}, {"fra-2", 0.30}, {NULL, 0}}},
	{"IN", 0.10, 330, {{"jio", 0.55}, {"airtel", 0.35}, {"bsnl", 0.10}},
	{{"bom-1", 0.70}, {"sin-1", 0.30}, {NULL, 0}}},
	{"JP", 0.06, 540, {{"ntt", 0.50}, {"kddi", 0.30}, {"softbank", 0.20}},
	{{"nrt-1", 0.80}, {"sin-1", 0.20}, {NULL, 0}}},
	{"MX", 0.06, -360, {{"telmex", 0.60}, {"izzi", 0.25}, {"totalplay", 0.15}},
	{{"qro-1", 0.60}, {"dfw-1", 0.40}, {NULL, 0}}},
	{"CA", 0.06, -300, {{"rogers", 0.40}, {"bell", 0.40}, {"telus", 0.20}},
	{{"yyz-1", 0.70}, {"ord-1", 0.30}, {NULL, 0}}},
};

static int
pick_country(Rng *r)
{
	double		u = u01(r);

	for (int k = 0; k < NELEM(countries) - 1; k++)
	{
		u -= countries[k].w;
		if (u < 0)
			return k;
	}
	return NELEM(countries) - 1;
}

static int
pick3(Rng *r, const Weighted *tab)
{
	return pick(r, tab, tab[2].name ? 3 : 2);
}

/* sessions per local hour (relative) */
static const double hour_weight[24] = {
	3, 2, 1.2, 0.8, 0.6, 0.7, 1.2, 2, 2.5, 2.6, 2.8, 3.2,
	3.8, 3.8, 3.5, 3.6, 4.2, 5.2, 6.8, 8.8, 10.5, 10.2, 8, 5.2
};

/* ---------------------------------------------------------------------
 * Videos
 * ---------------------------------------------------------------------
 */
static const struct
{
	const char *name;
	double		w;
	double		lo;				/* duration range, seconds */
	double		hi;
}			categories[] = {
	{"clip", 0.25, 30, 300},
	{"news", 0.10, 90, 600},
	{"kids", 0.12, 420, 1500},
	{"sports", 0.08, 300, 1200},
	{"episode", 0.28, 1200, 3600},
	{"documentary", 0.07, 2400, 5400},
	{"film", 0.10, 4800, 7800},
};

static const char *const adjectives[32] = {
	"Silent", "Crimson", "Hidden", "Broken", "Golden", "Lost", "Electric", "Wild",
	"Frozen", "Midnight", "Burning", "Distant", "Hollow", "Secret", "Northern", "Final",
	"Velvet", "Iron", "Quiet", "Scarlet", "Endless", "Paper", "Glass", "Restless",
	"Lonely", "Bright", "Savage", "Gentle", "Sunken", "Wandering", "Falling", "Last"
};
static const char *const nouns[32] = {
	"Harbor", "Kingdom", "Signal", "Garden", "River", "Empire", "Horizon", "Orchard",
	"Summit", "Frontier", "Lantern", "Voyage", "Citadel", "Meadow", "Island", "Circuit",
	"Canyon", "Comet", "Station", "Forest", "Mirror", "Tide", "Engine", "Valley",
	"Shadow", "Archive", "Desert", "Parade", "Compass", "Ember", "Bridge", "Planet"
};

static void
video_core(uint64_t seed, int32_t v, double *duration, int *category, Rng *r)
{
	int			c;
	double		u = 0;

	rng_seed(r, seed, STREAM_VIDEO, (uint64_t) v);
	u = u01(r);
	for (c = 0; c < NELEM(categories) - 1; c++)
	{
		u -= categories[c].w;
		if (u < 0)
			break;
	}
	*category = c;
	*duration = floor(uniform(r, categories[c].lo, categories[c].hi + 1));
}

void
qoe_gen_video(uint64_t seed, int32_t v, QoeGenVideo *out)
{
	Rng			r;
	int			c;
	uint32_t	pair = (uint32_t) ((((uint64_t) (v - 1)) * 389 + mix64(seed) % 1024) % 1024);
	const char *adj = adjectives[pair / 32];
	const char *noun = nouns[pair % 32];
	int			part = (v - 1) / 1024 + 1;
	char		suffix[16] = "";

	video_core(seed, v, &out->duration, &c, &r);
	out->id = v;
	out->category = categories[c].name;
	if (part > 1)
		snprintf(suffix, sizeof(suffix), " %d", part);
	if (c == 4)
		snprintf(out->title, sizeof(out->title), "%s %s%s S%dE%d", adj, noun, suffix,
				 1 + (int) (rng_next(&r) % 4), 1 + (int) (rng_next(&r) % 10));
	else if (c == 5 || c == 6)
		snprintf(out->title, sizeof(out->title), "The %s %s%s", adj, noun, suffix);
	else
		snprintf(out->title, sizeof(out->title), "%s %s%s (%s)", adj, noun, suffix,
				 categories[c].name);
}

/* ---------------------------------------------------------------------
 * Session simulation
 * ---------------------------------------------------------------------
 */
#define USECS INT64_C(1000000)
#define DAY_USECS (INT64_C(86400) * USECS)
#define HEARTBEAT_SECS 60.0
#define AD_EVERY_SECS 900.0

typedef struct Sim
{
	QoeGenSession *s;
	Rng			r;
	const uint16_t *names;
	int64_t		t;
	double		pos;
	double		dur;
	int			level;
	int			cap;
	int			floor_level;
} Sim;

static inline void
emit(Sim *m, int e, bool haspos, double pos, double br)
{
	QoeGenRow  *row = &m->s->rows[m->s->nrows++];

	row->ts = m->t;
	row->name = m->names[e];
	row->has_position = haspos;
	row->position = haspos ? pos : 0;
	row->has_bitrate = br > 0;
	row->bitrate = br > 0 ? br : 0;
}

static inline void
advance(Sim *m, double secs)
{
	m->t += (int64_t) llround(secs * 1e6);
}

static inline bool
full(const Sim *m)
{
	return m->s->nrows >= QOE_GEN_MAX_SIM_ROWS - 12;
}

/* the weekday of day d (0 = Sunday) */
static inline int
weekday(int64_t start_ts, int64_t d)
{
	int64_t		days = start_ts / DAY_USECS + d;	/* 2000-01-01 was a Saturday */

	return (int) (((days + 6) % 7 + 7) % 7);
}

static void
simulate(const QoeGenConfig *cfg, uint64_t i, QoeGenSession *s)
{
	Sim			m;
	Rng		   *r = &m.r;
	Rng			ur;
	int64_t		users = cfg->sessions / 5 > 0 ? cfg->sessions / 5 : 1;
	int			country, dev, udev, net, app, scheme, vcat;
	bool		ad_supported;
	double		startup, patience, day_frac, p52, stall_rate, stall_len, err_rate,
				br_rate, target, start_pos, next_ad, hb_left, skip_at;
	int64_t		d, local_us;
	int			replays = 0;
	int			hsum_k;
	double		hsum, u;

	memset(&m, 0, sizeof(m));
	m.s = s;
	rng_seed(r, cfg->seed, STREAM_SESSION, i);
	s->nrows = 0;

	/* who */
	s->user_id = 1 + (int64_t) ((double) users * pow(u01(r), 1.6));
	if (s->user_id > users)
		s->user_id = users;
	rng_seed(&ur, cfg->seed, STREAM_USER, (uint64_t) s->user_id);
	country = pick_country(&ur);
	s->country_code = countries[country].code;
	s->isp = countries[country].isp[pick3(&ur, countries[country].isp)].name;
	udev = pick(&ur, devices, NDEVICES);
	{
		int			uos = pick(&ur, device_os[udev].tab, device_os[udev].n);

		ad_supported = u01(&ur) < 0.35;
		if (u01(r) < 0.8)
		{
			dev = udev;
			s->os_version = device_os[dev].tab[uos].name;
		}
		else
		{
			dev = pick(r, devices, NDEVICES);
			s->os_version = device_os[dev].tab[pick(r, device_os[dev].tab, device_os[dev].n)].name;
		}
	}
	s->device_type = devices[dev].name;
	s->cdn_pop = countries[country].pop[pick3(r, countries[country].pop)].name;
	{
		double		un = u01(r);

		for (net = 0; net < NNETS - 1; net++)
		{
			un -= device_net[dev][net];
			if (un < 0)
				break;
		}
		while (device_net[dev][net] == 0)
			net--;
	}
	s->network_type = net_names[net];

	/*
	 * when: day (weekends busier, slight growth), local hour; redrawn when
	 * the UTC time falls outside the period
	 */
	hsum = 0;
	for (hsum_k = 0; hsum_k < 24; hsum_k++)
		hsum += hour_weight[hsum_k];
	for (;;)
	{
		int			wd;
		double		accept;

		d = (int64_t) (u01(r) * cfg->days);
		u = u01(r);
		wd = weekday(cfg->start_ts, d);
		accept = (wd == 0 || wd == 6) ? 1.0 : 0.8;
		accept *= 0.85 + 0.15 * ((double) d + 0.5) / cfg->days;
		if (u >= accept)
			continue;
		u = u01(r) * hsum;
		for (hsum_k = 0; hsum_k < 23; hsum_k++)
		{
			u -= hour_weight[hsum_k];
			if (u < 0)
				break;
		}
		local_us = (int64_t) hsum_k * 3600 * USECS + (int64_t) (u01(r) * 3600.0 * 1e6);
		local_us -= (int64_t) countries[country].offset_min * 60 * USECS;
		local_us += d * DAY_USECS;
		if (local_us >= 0 && local_us < (int64_t) cfg->days * DAY_USECS)
			break;
	}
	m.t = cfg->start_ts + local_us;

	/* app version: 5.2.0 rolls out from 40% of the period on, to 55% */
	day_frac = ((double) (m.t - cfg->start_ts) / DAY_USECS);
	{
		double		rel = 0.4 * cfg->days;
		double		ramp = cfg->days * 0.2 > 0.5 ? cfg->days * 0.2 : 0.5;

		p52 = 0.55 * clampd((day_frac - rel) / ramp, 0, 1);
	}
	u = u01(r);
	app = u < p52 ? 2 : (u < p52 + (1 - p52) * 0.7 ? 1 : 0);
	s->app_version = app_versions[app];

	/* what */
	s->video_id = 1 + (int32_t) ((double) cfg->videos * pow(u01(r), 2.2));
	if (s->video_id > cfg->videos)
		s->video_id = cfg->videos;
	{
		Rng			vr;

		video_core(cfg->seed, s->video_id, &m.dur, &vcat, &vr);
	}
	s->video_duration = m.dur;

	/* how the player names things */
	if (dev == D_WEB)
		scheme = u01(r) < 0.8 ? SCHEME_HTML5 : SCHEME_STD;
	else
		scheme = u01(r) < 0.1 ? SCHEME_SDK : SCHEME_STD;
	m.names = scheme_names[scheme];

	/* quality parameters */
	startup = lognormal(r, net_props[net].startup * device_props[dev].startup, 0.5);
	if (strcmp(s->cdn_pop, FAULT_POP) == 0)
		startup *= FAULT_POP_STARTUP;
	startup = clampd(startup, 0.15, 90);
	stall_rate = net_props[net].stall_rate * device_props[dev].stall / 60.0;
	stall_len = net_props[net].stall_len;
	if (dev == FAULT_DEVICE && app == FAULT_APP)
	{
		stall_rate *= FAULT_STALL_RATE;
		stall_len *= FAULT_STALL_LEN;
	}
	err_rate = net_props[net].err_rate / 3600.0;
	br_rate = net_props[net].br_rate / 60.0;
	m.cap = net_props[net].cap < device_props[dev].cap ? net_props[net].cap : device_props[dev].cap;
	if (net == NET_WIFI && dev == D_SMART_TV && u01(r) < 0.3)
		m.cap = 8;
	m.floor_level = m.cap >= 3 ? m.cap - 3 : 0;
	m.level = m.cap - 1 - (u01(r) < 0.5 ? 1 : 0);
	if (m.level < m.floor_level)
		m.level = m.floor_level;

	/* intent: where playback starts and where the viewer means to stop */
	start_pos = 0;
	if (m.dur > 1200 && u01(r) < 0.2)
		start_pos = floor(m.dur * uniform(r, 0.05, 0.8));
	{
		double		pc = m.dur < 300 ? 0.70 : m.dur < 1200 ? 0.55 : m.dur < 3600 ? 0.42 : 0.30;

		if (u01(r) < pc)
			target = m.dur;
		else
			target = start_pos + (m.dur - start_pos) * 0.97 * pow(u01(r), 1.6);
	}

	/* request and startup */
	emit(&m, E_REQUEST, false, 0, 0);
	patience = 3.0 + rexp(r, 14.0);
	if (u01(r) < net_props[net].start_fail)
	{
		advance(&m, startup < 8 ? startup * uniform(r, 0.5, 1.5) : uniform(r, 2, 8));
		emit(&m, E_ERROR, false, 0, 0);
		if (u01(r) < 0.4)
		{
			advance(&m, uniform(r, 1, 5));
			emit(&m, E_EXIT, false, 0, 0);
		}
		return;
	}
	if (startup > patience || u01(r) < 0.02)
	{
		advance(&m, startup > patience ? patience : uniform(r, 0.1, 1.0) * startup);
		if (u01(r) < 0.85)
			emit(&m, E_EXIT, false, 0, 0);
		return;
	}
	advance(&m, startup);
	m.pos = start_pos;
	emit(&m, E_FIRST_FRAME, true, m.pos, 0);
	emit(&m, E_BITRATE, true, m.pos, ladder[m.level]);

	next_ad = ad_supported && m.dur > 600 ? (floor(m.pos / AD_EVERY_SECS) + 1) * AD_EVERY_SECS : 1e18;
	hb_left = HEARTBEAT_SECS;
	skip_at = (vcat == 4 && m.pos == 0 && u01(r) < 0.3) ? uniform(r, 15, 60) : 1e18;

	/* playback */
	for (;;)
	{
		double		rate_pause = 1.0 / (25 * 60.0);
		double		rate_seek = 1.0 / (20 * 60.0);
		double		total = stall_rate + rate_pause + rate_seek + br_rate + err_rate;
		double		d_rand = rexp(r, 1.0 / total);
		double		d_end = target - m.pos;
		double		d_ad = next_ad - m.pos;
		double		d_skip = skip_at - m.pos;
		double		step = d_rand;
		int			what = 0;	/* 0 random, 1 heartbeat, 2 end, 3 ad, 4 skip */

		if (d_end < 0)
			d_end = 0;
		if (d_ad < 0)
			d_ad = 0;
		if (d_skip < 0)
			d_skip = 0;
		if (hb_left < step)
			step = hb_left, what = 1;
		if (d_ad < step)
			step = d_ad, what = 3;
		if (d_skip < step)
			step = d_skip, what = 4;
		if (d_end <= step)
			step = d_end, what = 2;
		advance(&m, step);
		m.pos += step;
		hb_left -= step;

		if (full(&m))
		{
			emit(&m, E_EXIT, true, m.pos, 0);
			return;
		}

		if (what == 1)
		{
			emit(&m, E_HEARTBEAT, true, m.pos, 0);
			hb_left = HEARTBEAT_SECS;
		}
		else if (what == 2)
		{
			if (target >= m.dur)
			{
				m.pos = m.dur;
				emit(&m, E_ENDED, true, m.dur, 0);
				if (m.dur < 300 && replays == 0 && u01(r) < 0.08)
				{
					/* watch the clip again */
					replays++;
					advance(&m, uniform(r, 1, 4));
					m.pos = 0;
					emit(&m, E_RESUME, true, 0, 0);
					advance(&m, startup * 0.3);
					emit(&m, E_FIRST_FRAME, true, 0, 0);
					target = u01(r) < 0.6 ? m.dur : floor(m.dur * u01(r));
					hb_left = HEARTBEAT_SECS;
					continue;
				}
				if (u01(r) < 0.55)
				{
					advance(&m, uniform(r, 1, 15));
					emit(&m, E_EXIT, true, m.dur, 0);
				}
			}
			else if (u01(r) < 0.75)
				emit(&m, E_EXIT, true, m.pos, 0);
			return;
		}
		else if (what == 3)
		{
			static const double ad_len[3] = {15, 30, 60};

			emit(&m, E_AD_START, true, m.pos, 0);
			advance(&m, ad_len[rng_next(r) % 3] * (1 + 0.05 * u01(r)));
			emit(&m, E_AD_END, true, m.pos, 0);
			next_ad += AD_EVERY_SECS;
		}
		else if (what == 4)
		{
			double		to = m.pos + floor(uniform(r, 60, 90));

			if (to < m.dur - 5)
			{
				m.pos = to;
				emit(&m, E_SKIP, true, m.pos, 0);
				if (target < m.pos)
					target = m.pos;
				if (next_ad < 1e17)
					next_ad = (floor(m.pos / AD_EVERY_SECS) + 1) * AD_EVERY_SECS;
			}
			skip_at = 1e18;
		}
		else
		{
			double		x = u01(r) * total;

			if ((x -= stall_rate) < 0)
			{
				double		len = clampd(lognormal(r, stall_len, 0.8), 0.2, 180);
				double		give_up = uniform(r, 10, 45);

				emit(&m, E_BUFFER_START, true, m.pos, 0);
				if (len > give_up)
				{
					advance(&m, give_up);
					emit(&m, E_EXIT, true, m.pos, 0);
					return;
				}
				advance(&m, len);
				emit(&m, E_BUFFER_END, true, m.pos, 0);
				if (m.level > m.floor_level && u01(r) < 0.6)
				{
					m.level--;
					emit(&m, E_BITRATE, true, m.pos, ladder[m.level]);
				}
			}
			else if ((x -= rate_pause) < 0)
			{
				double		len = clampd(lognormal(r, 45, 1.2), 2, 1500);

				emit(&m, E_PAUSE, true, m.pos, 0);
				advance(&m, len);
				if (u01(r) < 0.08)
				{
					/* left while paused */
					if (u01(r) < 0.5)
						emit(&m, E_EXIT, true, m.pos, 0);
					return;
				}
				emit(&m, E_RESUME, true, m.pos, 0);
			}
			else if ((x -= rate_seek) < 0)
			{
				double		to;

				if (u01(r) < 0.65)
					to = floor(m.pos + uniform(r, 20, 600));
				else
					to = floor(m.pos - uniform(r, 10, 120));
				if (to > m.dur - 3)
					to = m.dur - 3;
				if (to < 0)
					to = 0;
				if (fabs(to - m.pos) >= 5)
				{
					emit(&m, E_SEEK_START, true, m.pos, 0);
					advance(&m, uniform(r, 0.1, 1.2));
					m.pos = to;
					emit(&m, E_SEEK_END, true, m.pos, 0);
					if (u01(r) < 0.7)
					{
						emit(&m, E_BUFFER_START, true, m.pos, 0);
						advance(&m, clampd(lognormal(r, 0.6, 0.6), 0.05, 10));
						emit(&m, E_BUFFER_END, true, m.pos, 0);
					}
					if (target < m.pos)
						target = m.pos + (m.dur - m.pos) * u01(r) * 0.5;
					if (next_ad < 1e17)
						next_ad = (floor(m.pos / AD_EVERY_SECS) + 1) * AD_EVERY_SECS;
				}
			}
			else if ((x -= br_rate) < 0)
			{
				int			prev = m.level;

				if (m.level < m.cap && (m.level == m.floor_level || u01(r) < 0.55))
					m.level++;
				else if (m.level > m.floor_level)
					m.level--;
				if (m.level != prev)
					emit(&m, E_BITRATE, true, m.pos, ladder[m.level]);
			}
			else
			{
				/* playback failure */
				emit(&m, E_ERROR, true, m.pos, 0);
				if (u01(r) < 0.5)
				{
					advance(&m, uniform(r, 1, 4));
					emit(&m, E_EXIT, true, m.pos, 0);
				}
				return;
			}
		}
	}
}

/* ---------------------------------------------------------------------
 * Delivery faults
 * ---------------------------------------------------------------------
 */
#define F_DUP 1
#define F_UNKNOWN 2

static void
deliver(const QoeGenConfig *cfg, uint64_t i, QoeGenSession *s)
{
	Rng			r;
	uint8_t		act[QOE_GEN_MAX_SIM_ROWS];
	int			n = 0,
				extra = 0,
				j;

	rng_seed(&r, cfg->seed, STREAM_FAULTS, i);

	/* drops (in place) and marks */
	for (int k = 0; k < s->nrows; k++)
	{
		double		u = u01(&r);
		int			name = s->rows[k].name;
		uint8_t		a = 0;

		if ((name == N_ENDED || name == N_BUFFER_END) && u < 0.03)
			continue;
		if ((name == N_BUFFER_START || name == N_WAITING) && u < 0.01)
			continue;
		if (u >= 0.5 && u < 0.503)
			a |= F_DUP;
		else if (u >= 0.6 && u < 0.604)
			a |= F_UNKNOWN;
		s->rows[n] = s->rows[k];
		act[n] = a;
		extra += (a != 0);
		n++;
	}
	if (n + extra > QOE_GEN_MAX_ROWS)
	{
		memset(act, 0, (size_t) n);
		extra = 0;
	}
	s->nrows = n + extra;

	/* inserts (from the end, in place) */
	j = n + extra;
	for (int k = n - 1; k >= 0 && j > k + 1; k--)
	{
		QoeGenRow	row = s->rows[k];

		if (act[k] & F_UNKNOWN)
		{
			QoeGenRow  *x = &s->rows[--j];

			*x = row;
			x->name = (uint16_t) (N_UNKNOWN_FIRST + (int) (rng_next(&r) % (N_COUNT - N_UNKNOWN_FIRST)));
			x->has_bitrate = false;
			x->bitrate = 0;
		}
		if (act[k] & F_DUP)
			s->rows[--j] = row;
		s->rows[--j] = row;
	}

	/* out-of-order delivery: swap with the next row */
	for (int k = 0; k + 1 < s->nrows; k++)
	{
		if (u01(&r) < 0.01)
		{
			QoeGenRow	tmp = s->rows[k];

			s->rows[k] = s->rows[k + 1];
			s->rows[k + 1] = tmp;
			k++;
		}
	}
}

void
qoe_gen_session(const QoeGenConfig *cfg, uint64_t i, QoeGenSession *out)
{
	uint64_t	key = mix64(cfg->seed ^ UINT64_C(0x5e55105e55105e55));

	out->index = i;
	/* mix64 is a bijection: ids are unique within a seed */
	snprintf(out->session_id, sizeof(out->session_id), "%016llx",
			 (unsigned long long) mix64(i ^ key));
	simulate(cfg, i, out);
	if (cfg->delivery_faults)
		deliver(cfg, i, out);
}
