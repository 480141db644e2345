/*
 * test_vocab.c
 *	  Unit tests of the event vocabulary: kind names, normalisation, the
 *	  built-in aliases of SPEC 1 and the extra aliases of SPEC 8.21.
 */
#include "qoe_core.h"
#include "unit.h"

typedef struct
{
	const char *name;
	int			kind;
} AliasCase;

/* every alias of SPEC 1, grouped by kind as in the table */
static const AliasCase spec_aliases[] = {
	{"request", QOE_REQUEST},
	{"play_request", QOE_REQUEST},
	{"playback_request", QOE_REQUEST},
	{"playbackrequest", QOE_REQUEST},
	{"play_attempt", QOE_REQUEST},
	{"attempt", QOE_REQUEST},
	{"view_start", QOE_REQUEST},
	{"viewstart", QOE_REQUEST},
	{"load", QOE_REQUEST},
	{"loadstart", QOE_REQUEST},
	{"play", QOE_PLAY},
	{"resume", QOE_PLAY},
	{"resumed", QOE_PLAY},
	{"unpause", QOE_PLAY},
	{"start", QOE_PLAY},
	{"playback_started", QOE_PLAY},
	{"video_playback_started", QOE_PLAY},
	{"video_playback_resumed", QOE_PLAY},
	{"playing", QOE_PLAYING},
	{"first_frame", QOE_PLAYING},
	{"firstframe", QOE_PLAYING},
	{"playbackstart", QOE_PLAYING},
	{"playback_start", QOE_PLAYING},
	{"video_content_started", QOE_PLAYING},
	{"pause", QOE_PAUSE},
	{"paused", QOE_PAUSE},
	{"playback_pause", QOE_PAUSE},
	{"playbackpause", QOE_PAUSE},
	{"video_playback_paused", QOE_PAUSE},
	{"seek_start", QOE_SEEK_START},
	{"seeking", QOE_SEEK_START},
	{"seek_started", QOE_SEEK_START},
	{"video_playback_seek_started", QOE_SEEK_START},
	{"seek_end", QOE_SEEK_END},
	{"seeked", QOE_SEEK_END},
	{"seek_completed", QOE_SEEK_END},
	{"video_playback_seek_completed", QOE_SEEK_END},
	{"seek", QOE_SEEK},
	{"jump", QOE_SEEK},
	{"skip", QOE_SEEK},
	{"buffer_start", QOE_BUFFER_START},
	{"buffering", QOE_BUFFER_START},
	{"waiting", QOE_BUFFER_START},
	{"rebuffer_start", QOE_BUFFER_START},
	{"stall", QOE_BUFFER_START},
	{"stall_start", QOE_BUFFER_START},
	{"buffer_started", QOE_BUFFER_START},
	{"video_playback_buffer_started", QOE_BUFFER_START},
	{"buffer_end", QOE_BUFFER_END},
	{"rebuffer_end", QOE_BUFFER_END},
	{"stall_end", QOE_BUFFER_END},
	{"buffer_complete", QOE_BUFFER_END},
	{"buffer_completed", QOE_BUFFER_END},
	{"buffer_ended", QOE_BUFFER_END},
	{"video_playback_buffer_completed", QOE_BUFFER_END},
	{"heartbeat", QOE_HEARTBEAT},
	{"ping", QOE_HEARTBEAT},
	{"timeupdate", QOE_HEARTBEAT},
	{"time_update", QOE_HEARTBEAT},
	{"progress_ping", QOE_HEARTBEAT},
	{"video_content_playing", QOE_HEARTBEAT},
	{"bitrate", QOE_BITRATE},
	{"bitrate_change", QOE_BITRATE},
	{"quality_change", QOE_BITRATE},
	{"qualitychange", QOE_BITRATE},
	{"playbackqualitychange", QOE_BITRATE},
	{"rendition_change", QOE_BITRATE},
	{"ad_start", QOE_AD_START},
	{"ad_break_start", QOE_AD_START},
	{"adbreakstart", QOE_AD_START},
	{"ad_end", QOE_AD_END},
	{"ad_break_end", QOE_AD_END},
	{"adbreakend", QOE_AD_END},
	{"ad_complete", QOE_AD_END},
	{"ended", QOE_ENDED},
	{"end", QOE_ENDED},
	{"complete", QOE_ENDED},
	{"completed", QOE_ENDED},
	{"video_ended", QOE_ENDED},
	{"playback_finish", QOE_ENDED},
	{"playbackfinish", QOE_ENDED},
	{"video_playback_completed", QOE_ENDED},
	{"video_content_completed", QOE_ENDED},
	{"error", QOE_ERROR},
	{"fatal_error", QOE_ERROR},
	{"playback_fail", QOE_ERROR},
	{"playbackfail", QOE_ERROR},
	{"playback_error", QOE_ERROR},
	{"exit", QOE_EXIT},
	{"close", QOE_EXIT},
	{"unload", QOE_EXIT},
	{"view_end", QOE_EXIT},
	{"viewend", QOE_EXIT},
	{"quit", QOE_EXIT},
	{"session_end", QOE_EXIT},
	{"abandon", QOE_EXIT},
	{"video_playback_exited", QOE_EXIT},
};

static int
lookup(const QoeAliasMap *m, const char *s)
{
	return qoe_lookup_kind(m, s, strlen(s));
}

static void
test_kind_names(void)
{
	int			k;

	CHECK_STR(qoe_kind_name(QOE_REQUEST), "request");
	CHECK_STR(qoe_kind_name(QOE_BUFFER_START), "buffer_start");
	CHECK_STR(qoe_kind_name(QOE_AD_END), "ad_end");
	CHECK_STR(qoe_kind_name(QOE_EXIT), "exit");
	CHECK(qoe_kind_name(-1) == NULL);
	CHECK(qoe_kind_name(QOE_NKINDS) == NULL);
	/* each canonical name maps to itself */
	for (k = 0; k < QOE_NKINDS; k++)
		CHECK_INT(lookup(NULL, qoe_kind_name(k)), k);
}

static void
test_normalize(void)
{
	char		buf[64];
	size_t		n;

	n = qoe_normalize_name(" \t Play-Request.X y\n", 20, buf, sizeof(buf));
	CHECK_INT(n, 16);
	CHECK_STR(buf, "play_request_x_y");
	n = qoe_normalize_name("  BUFFER.START  ", 16, buf, sizeof(buf));
	CHECK_STR(buf, "buffer_start");
	CHECK_INT(n, 12);
	/* one for one: two spaces give two underscores */
	qoe_normalize_name("a  b--c..d", 10, buf, sizeof(buf));
	CHECK_STR(buf, "a__b__c__d");
	/* not NUL-terminated input: only len bytes read */
	qoe_normalize_name("PLAYxxxx", 4, buf, sizeof(buf));
	CHECK_STR(buf, "play");
	/* truncated output, full length returned */
	n = qoe_normalize_name("abcdefghij", 10, buf, 4);
	CHECK_INT(n, 10);
	CHECK_STR(buf, "abc");
	n = qoe_normalize_name("   ", 3, buf, sizeof(buf));
	CHECK_INT(n, 0);
	CHECK_STR(buf, "");
	/* non-ASCII bytes are left alone */
	qoe_normalize_name("\xc3\x89T\xc3\x89", 5, buf, sizeof(buf));
	CHECK_STR(buf, "\xc3\x89t\xc3\x89");
}

static void
test_builtin(void)
{
	size_t		i;
	int			bad = 0;

	for (i = 0; i < sizeof(spec_aliases) / sizeof(spec_aliases[0]); i++)
	{
		int			k = lookup(NULL, spec_aliases[i].name);

		if (k != spec_aliases[i].kind)
		{
			printf("# alias %s: got %d want %d\n", spec_aliases[i].name, k,
				   spec_aliases[i].kind);
			bad++;
		}
	}
	CHECK_INT(bad, 0);
	CHECK_INT(sizeof(spec_aliases) / sizeof(spec_aliases[0]), 97);

	/* one per kind, spelled differently */
	CHECK_INT(lookup(NULL, " Play-Request "), QOE_REQUEST);
	CHECK_INT(lookup(NULL, "BUFFER.START"), QOE_BUFFER_START);
	CHECK_INT(lookup(NULL, "video_playback_seek_completed"), QOE_SEEK_END);
	CHECK_INT(lookup(NULL, "Video Playback Seek Completed"), QOE_SEEK_END);
	CHECK_INT(lookup(NULL, "Ended"), QOE_ENDED);
	CHECK_INT(lookup(NULL, "FATAL-ERROR"), QOE_ERROR);
	CHECK_INT(lookup(NULL, "Paused"), QOE_PAUSE);
	CHECK_INT(lookup(NULL, "un-pause"), QOE_KIND_UNKNOWN);
	CHECK_INT(lookup(NULL, "UNPAUSE"), QOE_PLAY);
	CHECK_INT(lookup(NULL, "Seeking"), QOE_SEEK_START);
	CHECK_INT(lookup(NULL, "jump"), QOE_SEEK);
	CHECK_INT(lookup(NULL, "Stall End"), QOE_BUFFER_END);
	CHECK_INT(lookup(NULL, "ad.complete"), QOE_AD_END);
	CHECK_INT(lookup(NULL, "AdBreakStart"), QOE_AD_START);
	CHECK_INT(lookup(NULL, "first-frame"), QOE_PLAYING);
	CHECK_INT(lookup(NULL, "playback start"), QOE_PLAYING);
	CHECK_INT(lookup(NULL, "playback_started"), QOE_PLAY);
	CHECK_INT(lookup(NULL, "Rendition-Change"), QOE_BITRATE);
	CHECK_INT(lookup(NULL, "timeUpdate"), QOE_HEARTBEAT);
	CHECK_INT(lookup(NULL, "video_content_playing"), QOE_HEARTBEAT);
	CHECK_INT(lookup(NULL, "\tView End\r\n"), QOE_EXIT);

	/* not NUL-terminated: only len bytes */
	CHECK_INT(qoe_lookup_kind(NULL, "playingxyz", 7), QOE_PLAYING);
	CHECK_INT(qoe_lookup_kind(NULL, "pla", 3), QOE_KIND_UNKNOWN);
}

static void
test_unknown(void)
{
	char		longname[200];

	CHECK_INT(lookup(NULL, ""), QOE_KIND_UNKNOWN);
	CHECK_INT(lookup(NULL, "   "), QOE_KIND_UNKNOWN);
	CHECK_INT(lookup(NULL, "plays"), QOE_KIND_UNKNOWN);
	CHECK_INT(lookup(NULL, "a"), QOE_KIND_UNKNOWN);
	CHECK_INT(lookup(NULL, "zzzz"), QOE_KIND_UNKNOWN);
	CHECK_INT(lookup(NULL, "play request"), QOE_REQUEST);
	CHECK_INT(lookup(NULL, "play__request"), QOE_KIND_UNKNOWN);
	CHECK_INT(lookup(NULL, "p\xc3\xa4use"), QOE_KIND_UNKNOWN);
	CHECK_INT(qoe_lookup_kind(NULL, NULL, 0), QOE_KIND_UNKNOWN);
	CHECK_INT(qoe_lookup_kind(NULL, "play\0", 5), QOE_KIND_UNKNOWN);

	/* too long: never matches, even with a known prefix */
	memset(longname, 'x', sizeof(longname));
	memcpy(longname, "play", 4);
	CHECK_INT(qoe_lookup_kind(NULL, longname, sizeof(longname)), QOE_KIND_UNKNOWN);
	CHECK_INT(qoe_lookup_kind(NULL, longname, QOE_MAX_ALIAS_LEN + 1), QOE_KIND_UNKNOWN);
}

static void
test_extra(void)
{
	char		err[256];
	QoeAliasMap *m;
	char		longspec[300];
	char		alias63[QOE_MAX_ALIAS_LEN + 1];

	m = qoe_alias_parse("", err, sizeof(err));
	CHECK(m != NULL);
	CHECK_INT(lookup(m, "play"), QOE_PLAY);
	free(m);

	m = qoe_alias_parse(NULL, err, sizeof(err));
	CHECK(m != NULL);
	free(m);

	m = qoe_alias_parse(" , ,,", err, sizeof(err));
	CHECK(m != NULL);
	free(m);

	m = qoe_alias_parse("Stream Start=Play, vid.stop = EXIT,,"
						"play=pause,heartbeat=Buffer-Start,foo=ended,foo=error",
						err, sizeof(err));
	CHECK(m != NULL);
	if (m)
	{
		CHECK_INT(lookup(m, "stream-start"), QOE_PLAY);
		CHECK_INT(lookup(m, "Vid Stop"), QOE_EXIT);
		/* extra aliases override built-ins */
		CHECK_INT(lookup(m, "PLAY"), QOE_PAUSE);
		CHECK_INT(lookup(m, "heartbeat"), QOE_BUFFER_START);
		/* the last definition wins */
		CHECK_INT(lookup(m, "foo"), QOE_ERROR);
		/* built-ins still there */
		CHECK_INT(lookup(m, "resume"), QOE_PLAY);
		CHECK_INT(lookup(m, "ping"), QOE_HEARTBEAT);
		CHECK_INT(lookup(m, "nothing"), QOE_KIND_UNKNOWN);
		free(m);
	}

	m = qoe_alias_parse("a=play,foo", err, sizeof(err));
	CHECK(m == NULL);
	CHECK_STR(err, "entry \"foo\" is not of the form alias=kind");

	m = qoe_alias_parse("x=bar", err, sizeof(err));
	CHECK(m == NULL);
	CHECK_STR(err, "unknown event kind \"bar\" in entry \"x=bar\"");

	/* kind names must be canonical, aliases are not accepted as kinds */
	m = qoe_alias_parse("x=resume", err, sizeof(err));
	CHECK(m == NULL);
	CHECK_STR(err, "unknown event kind \"resume\" in entry \"x=resume\"");

	m = qoe_alias_parse("x=", err, sizeof(err));
	CHECK(m == NULL);
	CHECK_STR(err, "unknown event kind \"\" in entry \"x=\"");

	m = qoe_alias_parse("x=play=pause", err, sizeof(err));
	CHECK(m == NULL);
	CHECK_STR(err, "unknown event kind \"play=pause\" in entry \"x=play=pause\"");

	m = qoe_alias_parse(" = play", err, sizeof(err));
	CHECK(m == NULL);
	CHECK_STR(err, "entry \"= play\" has an empty alias");

	memset(alias63, 'a', QOE_MAX_ALIAS_LEN);
	alias63[QOE_MAX_ALIAS_LEN] = '\0';
	snprintf(longspec, sizeof(longspec), "%s=seek", alias63);
	m = qoe_alias_parse(longspec, err, sizeof(err));
	CHECK(m != NULL);
	if (m)
	{
		CHECK_INT(lookup(m, alias63), QOE_SEEK);
		free(m);
	}
	snprintf(longspec, sizeof(longspec), "%sb=seek", alias63);
	m = qoe_alias_parse(longspec, err, sizeof(err));
	CHECK(m == NULL);
	CHECK(strstr(err, "longer than 63") != NULL);

	/* errbuf may be tiny or absent */
	m = qoe_alias_parse("nope", err, 5);
	CHECK(m == NULL);
	CHECK_STR(err, "entr");
	m = qoe_alias_parse("nope", NULL, 0);
	CHECK(m == NULL);
}

int
main(void)
{
	test_kind_names();
	test_normalize();
	test_builtin();
	test_unknown();
	test_extra();
	return unit_done();
}
