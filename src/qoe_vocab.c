/*-------------------------------------------------------------------------
 *
 * qoe_vocab.c
 *	  Event vocabulary of qoe_agg: kind names, name normalisation, the
 *	  built-in alias table (SPEC 1, 8.1) and the extra aliases of the
 *	  qoe_agg.event_aliases GUC (SPEC 8.21).
 *
 * Pure C: no PostgreSQL headers.  Lookup runs once per input row, so it
 * normalises into a stack buffer and binary-searches a sorted table.
 *
 * IDENTIFICATION
 *	  src/qoe_vocab.c
 *
 *-------------------------------------------------------------------------
 */
#include "qoe_core.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct QoeAliasEntry
{
	const char *name;
	uint8_t		len;
	uint8_t		kind;
} QoeAliasEntry;

/*
 * Built-in aliases of SPEC 1, after normalisation.  MUST stay sorted
 * bytewise (memcmp, then shorter first): qoe_lookup_kind() binary-searches
 * it.  The canonical kind names are in here too.
 */
static const QoeAliasEntry builtin_aliases[] = {
	{"abandon", 7, QOE_EXIT},
	{"ad_break_end", 12, QOE_AD_END},
	{"ad_break_start", 14, QOE_AD_START},
	{"ad_complete", 11, QOE_AD_END},
	{"ad_end", 6, QOE_AD_END},
	{"ad_start", 8, QOE_AD_START},
	{"adbreakend", 10, QOE_AD_END},
	{"adbreakstart", 12, QOE_AD_START},
	{"attempt", 7, QOE_REQUEST},
	{"bitrate", 7, QOE_BITRATE},
	{"bitrate_change", 14, QOE_BITRATE},
	{"buffer_complete", 15, QOE_BUFFER_END},
	{"buffer_completed", 16, QOE_BUFFER_END},
	{"buffer_end", 10, QOE_BUFFER_END},
	{"buffer_ended", 12, QOE_BUFFER_END},
	{"buffer_start", 12, QOE_BUFFER_START},
	{"buffer_started", 14, QOE_BUFFER_START},
	{"buffering", 9, QOE_BUFFER_START},
	{"close", 5, QOE_EXIT},
	{"complete", 8, QOE_ENDED},
	{"completed", 9, QOE_ENDED},
	{"end", 3, QOE_ENDED},
	{"ended", 5, QOE_ENDED},
	{"error", 5, QOE_ERROR},
	{"exit", 4, QOE_EXIT},
	{"fatal_error", 11, QOE_ERROR},
	{"first_frame", 11, QOE_PLAYING},
	{"firstframe", 10, QOE_PLAYING},
	{"heartbeat", 9, QOE_HEARTBEAT},
	{"jump", 4, QOE_SEEK},
	{"load", 4, QOE_REQUEST},
	{"loadstart", 9, QOE_REQUEST},
	{"pause", 5, QOE_PAUSE},
	{"paused", 6, QOE_PAUSE},
	{"ping", 4, QOE_HEARTBEAT},
	{"play", 4, QOE_PLAY},
	{"play_attempt", 12, QOE_REQUEST},
	{"play_request", 12, QOE_REQUEST},
	{"playback_error", 14, QOE_ERROR},
	{"playback_fail", 13, QOE_ERROR},
	{"playback_finish", 15, QOE_ENDED},
	{"playback_pause", 14, QOE_PAUSE},
	{"playback_request", 16, QOE_REQUEST},
	{"playback_start", 14, QOE_PLAYING},
	{"playback_started", 16, QOE_PLAY},
	{"playbackfail", 12, QOE_ERROR},
	{"playbackfinish", 14, QOE_ENDED},
	{"playbackpause", 13, QOE_PAUSE},
	{"playbackqualitychange", 21, QOE_BITRATE},
	{"playbackrequest", 15, QOE_REQUEST},
	{"playbackstart", 13, QOE_PLAYING},
	{"playing", 7, QOE_PLAYING},
	{"progress_ping", 13, QOE_HEARTBEAT},
	{"quality_change", 14, QOE_BITRATE},
	{"qualitychange", 13, QOE_BITRATE},
	{"quit", 4, QOE_EXIT},
	{"rebuffer_end", 12, QOE_BUFFER_END},
	{"rebuffer_start", 14, QOE_BUFFER_START},
	{"rendition_change", 16, QOE_BITRATE},
	{"request", 7, QOE_REQUEST},
	{"resume", 6, QOE_PLAY},
	{"resumed", 7, QOE_PLAY},
	{"seek", 4, QOE_SEEK},
	{"seek_completed", 14, QOE_SEEK_END},
	{"seek_end", 8, QOE_SEEK_END},
	{"seek_start", 10, QOE_SEEK_START},
	{"seek_started", 12, QOE_SEEK_START},
	{"seeked", 6, QOE_SEEK_END},
	{"seeking", 7, QOE_SEEK_START},
	{"session_end", 11, QOE_EXIT},
	{"skip", 4, QOE_SEEK},
	{"stall", 5, QOE_BUFFER_START},
	{"stall_end", 9, QOE_BUFFER_END},
	{"stall_start", 11, QOE_BUFFER_START},
	{"start", 5, QOE_PLAY},
	{"time_update", 11, QOE_HEARTBEAT},
	{"timeupdate", 10, QOE_HEARTBEAT},
	{"unload", 6, QOE_EXIT},
	{"unpause", 7, QOE_PLAY},
	{"video_content_completed", 23, QOE_ENDED},
	{"video_content_playing", 21, QOE_HEARTBEAT},
	{"video_content_started", 21, QOE_PLAYING},
	{"video_ended", 11, QOE_ENDED},
	{"video_playback_buffer_completed", 31, QOE_BUFFER_END},
	{"video_playback_buffer_started", 29, QOE_BUFFER_START},
	{"video_playback_completed", 24, QOE_ENDED},
	{"video_playback_exited", 21, QOE_EXIT},
	{"video_playback_paused", 21, QOE_PAUSE},
	{"video_playback_resumed", 22, QOE_PLAY},
	{"video_playback_seek_completed", 29, QOE_SEEK_END},
	{"video_playback_seek_started", 27, QOE_SEEK_START},
	{"video_playback_started", 22, QOE_PLAY},
	{"view_end", 8, QOE_EXIT},
	{"view_start", 10, QOE_REQUEST},
	{"viewend", 7, QOE_EXIT},
	{"viewstart", 9, QOE_REQUEST},
	{"waiting", 7, QOE_BUFFER_START},
};

#define NBUILTIN (sizeof(builtin_aliases) / sizeof(builtin_aliases[0]))

static const char *const kind_names[QOE_NKINDS] = {
	"request",
	"ended",
	"error",
	"pause",
	"play",
	"seek_start",
	"seek",
	"seek_end",
	"buffer_start",
	"buffer_end",
	"ad_end",
	"ad_start",
	"playing",
	"bitrate",
	"heartbeat",
	"exit"
};

/* one extra alias; name is normalised and NUL-terminated */
typedef struct QoeExtraAlias
{
	uint8_t		len;
	uint8_t		kind;
	char		name[QOE_MAX_ALIAS_LEN + 1];
} QoeExtraAlias;

/* the extra alias map: one malloc'd block, entries sorted by name, unique */
struct QoeAliasMap
{
	uint32_t	n;
	QoeExtraAlias entries[];	/* n of them */
};

const char *
qoe_kind_name(int kind)
{
	if (kind < 0 || kind >= QOE_NKINDS)
		return NULL;
	return kind_names[kind];
}

static inline bool
is_ascii_space(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' ||
		c == '\v' || c == '\f';
}

size_t
qoe_normalize_name(const char *s, size_t len, char *out, size_t outcap)
{
	size_t		start = 0;
	size_t		end = len;
	size_t		n;
	size_t		i;

	if (s == NULL)
		len = end = 0;
	while (start < end && is_ascii_space((unsigned char) s[start]))
		start++;
	while (end > start && is_ascii_space((unsigned char) s[end - 1]))
		end--;
	n = end - start;

	if (outcap > 0)
	{
		size_t		ncopy = n < outcap - 1 ? n : outcap - 1;

		for (i = 0; i < ncopy; i++)
		{
			unsigned char c = (unsigned char) s[start + i];

			if (c >= 'A' && c <= 'Z')
				c = (unsigned char) (c - 'A' + 'a');
			else if (c == ' ' || c == '-' || c == '.')
				c = '_';
			out[i] = (char) c;
		}
		out[ncopy] = '\0';
	}
	return n;
}

/* bytewise comparison: memcmp, then the shorter one first */
static inline int
name_cmp(const char *a, size_t alen, const char *b, size_t blen)
{
	int			c = memcmp(a, b, alen < blen ? alen : blen);

	if (c != 0)
		return c;
	return (alen > blen) - (alen < blen);
}

static int
lookup_builtin(const char *name, size_t len)
{
	size_t		lo = 0;
	size_t		hi = NBUILTIN;

	while (lo < hi)
	{
		size_t		mid = lo + (hi - lo) / 2;
		const QoeAliasEntry *e = &builtin_aliases[mid];
		int			c = name_cmp(name, len, e->name, e->len);

		if (c == 0)
			return e->kind;
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return QOE_KIND_UNKNOWN;
}

static int
lookup_extra(const QoeAliasMap *map, const char *name, size_t len)
{
	size_t		lo = 0;
	size_t		hi = map->n;

	while (lo < hi)
	{
		size_t		mid = lo + (hi - lo) / 2;
		const QoeExtraAlias *e = &map->entries[mid];
		int			c = name_cmp(name, len, e->name, e->len);

		if (c == 0)
			return e->kind;
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return QOE_KIND_UNKNOWN;
}

int
qoe_lookup_kind(const QoeAliasMap *extra, const char *name, size_t len)
{
	char		buf[QOE_MAX_ALIAS_LEN + 1];
	size_t		n;

	if (name == NULL)
		return QOE_KIND_UNKNOWN;
	n = qoe_normalize_name(name, len, buf, sizeof(buf));
	if (n == 0 || n > QOE_MAX_ALIAS_LEN)
		return QOE_KIND_UNKNOWN;
	if (extra != NULL && extra->n > 0)
	{
		int			k = lookup_extra(extra, buf, n);

		if (k != QOE_KIND_UNKNOWN)
			return k;
	}
	return lookup_builtin(buf, n);
}

/* canonical kind of a normalised name, or QOE_KIND_UNKNOWN */
static int
canonical_kind(const char *name, size_t len)
{
	int			k;

	for (k = 0; k < QOE_NKINDS; k++)
	{
		if (strlen(kind_names[k]) == len && memcmp(kind_names[k], name, len) == 0)
			return k;
	}
	return QOE_KIND_UNKNOWN;
}

QoeAliasMap *
qoe_alias_parse(const char *spec, char *errbuf, size_t errlen)
{
	size_t		speclen = spec ? strlen(spec) : 0;
	size_t		nmax = 1;
	size_t		i;
	size_t		pos;
	QoeAliasMap *map;
	uint32_t	n = 0;
	uint32_t	out;

	if (errbuf && errlen > 0)
		errbuf[0] = '\0';
	for (i = 0; i < speclen; i++)
		if (spec[i] == ',')
			nmax++;

	map = malloc(sizeof(QoeAliasMap) + nmax * sizeof(QoeExtraAlias));
	if (map == NULL)
	{
		if (errbuf && errlen > 0)
			snprintf(errbuf, errlen, "out of memory");
		return NULL;
	}

	pos = 0;
	while (pos <= speclen && speclen > 0)
	{
		size_t		s = pos;
		size_t		e = pos;
		size_t		eq;
		size_t		alen;
		size_t		klen;
		char		kbuf[QOE_MAX_ALIAS_LEN + 1];
		int			kind;
		QoeExtraAlias *ent;

		while (e < speclen && spec[e] != ',')
			e++;
		pos = e + 1;

		/* trim the entry, for messages and the emptiness test */
		while (s < e && is_ascii_space((unsigned char) spec[s]))
			s++;
		while (e > s && is_ascii_space((unsigned char) spec[e - 1]))
			e--;
		if (s == e)
			continue;			/* empty entry */

		eq = s;
		while (eq < e && spec[eq] != '=')
			eq++;
		if (eq == e)
		{
			if (errbuf && errlen > 0)
				snprintf(errbuf, errlen, "entry \"%.*s\" is not of the form alias=kind",
						 (int) (e - s), spec + s);
			free(map);
			return NULL;
		}

		ent = &map->entries[n];
		alen = qoe_normalize_name(spec + s, eq - s, ent->name, sizeof(ent->name));
		if (alen == 0)
		{
			if (errbuf && errlen > 0)
				snprintf(errbuf, errlen, "entry \"%.*s\" has an empty alias",
						 (int) (e - s), spec + s);
			free(map);
			return NULL;
		}
		if (alen > QOE_MAX_ALIAS_LEN)
		{
			if (errbuf && errlen > 0)
				snprintf(errbuf, errlen, "alias in entry \"%.*s\" is longer than %d characters",
						 (int) (e - s), spec + s, QOE_MAX_ALIAS_LEN);
			free(map);
			return NULL;
		}

		klen = qoe_normalize_name(spec + eq + 1, e - eq - 1, kbuf, sizeof(kbuf));
		kind = klen <= QOE_MAX_ALIAS_LEN ? canonical_kind(kbuf, klen) : QOE_KIND_UNKNOWN;
		if (kind == QOE_KIND_UNKNOWN)
		{
			size_t		ks = eq + 1;

			while (ks < e && is_ascii_space((unsigned char) spec[ks]))
				ks++;
			if (errbuf && errlen > 0)
				snprintf(errbuf, errlen, "unknown event kind \"%.*s\" in entry \"%.*s\"",
						 (int) (e - ks), spec + ks, (int) (e - s), spec + s);
			free(map);
			return NULL;
		}
		ent->len = (uint8_t) alen;
		ent->kind = (uint8_t) kind;
		n++;
	}

	/* stable insertion sort by name (few entries) */
	for (i = 1; i < n; i++)
	{
		QoeExtraAlias tmp = map->entries[i];
		size_t		j = i;

		while (j > 0 && name_cmp(map->entries[j - 1].name, map->entries[j - 1].len,
								 tmp.name, tmp.len) > 0)
		{
			map->entries[j] = map->entries[j - 1];
			j--;
		}
		map->entries[j] = tmp;
	}

	/* remove duplicate aliases; the last one given wins */
	out = 0;
	for (i = 0; i < n; i++)
	{
		if (i + 1 < n &&
			name_cmp(map->entries[i].name, map->entries[i].len,
					 map->entries[i + 1].name, map->entries[i + 1].len) == 0)
			continue;
		if (out != i)
			map->entries[out] = map->entries[i];
		out++;
	}
	map->n = out;
	return map;
}
