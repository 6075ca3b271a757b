/*
 * test_log.c - jalind's log sink writes what a peer sent on one line,
 * escaped: a newline cannot forge a line, a terminal escape sequence
 * cannot reach the operator's terminal, Indonesian text stays readable.
 * stderr is pointed at a temporary file, as jalind -f writes it.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "config.h"
#include "log.h"

#define LINE_MAX_BYTES 1024 /* LOG_LINE_MAX of log.c */

struct sink {
	FILE *file;
	int saved_fd;
	char text[8192];
};

static int
sink_setup(void **state)
{
	struct sink *s = calloc(1, sizeof(*s));

	if (s == NULL || (s->file = tmpfile()) == NULL)
		return -1;
	fflush(stderr);
	s->saved_fd = dup(STDERR_FILENO);
	if (s->saved_fd < 0 || dup2(fileno(s->file), STDERR_FILENO) < 0)
		return -1;
	log_init(1, CFG_LOG_INFO, "jalind");
	*state = s;
	return 0;
}

static int
sink_teardown(void **state)
{
	struct sink *s = *state;

	fflush(stderr);
	dup2(s->saved_fd, STDERR_FILENO);
	close(s->saved_fd);
	fclose(s->file);
	free(s);
	return 0;
}

/* All that was logged so far, NUL-terminated; its length in *len. */
static const char *
logged(struct sink *s, size_t *len)
{
	fflush(stderr);
	rewind(s->file);
	*len = fread(s->text, 1, sizeof(s->text) - 1, s->file);
	s->text[*len] = '\0';
	return s->text;
}

/* The one line logged, without timestamp and ident: "warning: ...". */
static const char *
one_line(struct sink *s)
{
	size_t len;
	const char *t = logged(s, &len), *p;

	assert_true(len > 0);
	assert_int_equal(t[len - 1], '\n');
	assert_ptr_equal(memchr(t, '\n', len), t + len - 1);
	assert_null(memchr(t, '\r', len));
	assert_null(memchr(t, 0x1b, len));
	s->text[len - 1] = '\0';
	p = strstr(t, "] ");
	assert_non_null(p);
	return p + 2;
}

static void
test_forged_line_stays_on_one_line(void **state)
{
	struct sink *s = *state;

	log_warnx("peer %s: error from peer: %s", "banten",
	    "bye\n2026-12-07T10:00:00.000Z jalind[1] notice: peer jabar: up");
	assert_string_equal(one_line(s),
	    "warning: peer banten: error from peer: bye\\n2026-12-07T10:00:"
	    "00.000Z jalind[1] notice: peer jabar: up");
}

static void
test_terminal_controls_escaped(void **state)
{
	struct sink *s = *state;

	log_notice("peer %s: %s", "banten",
	    "\x1b[2J\x1b]0;owned\x07\r\tdel\x7f c1\xc2\x9b bidi\xe2\x80\xae");
	assert_string_equal(one_line(s),
	    "notice: peer banten: \\x1b[2J\\x1b]0;owned\\x07\\r\\tdel\\x7f "
	    "c1\\xc2\\x9b bidi\\xe2\\x80\\xae");
}

static void
test_utf8_kept_invalid_bytes_escaped(void **state)
{
	struct sink *s = *state;

	log_warnx("peer %s: %s", "sulsel",
	    "Dinas Sosial Kabupaten Mamasa – “Rumah Singgah” ꦗꦮ 🙏 "
	    "\xff\xc3( \xc0\x80 \xed\xa0\x80 \xe2\x80");
	assert_string_equal(one_line(s),
	    "warning: peer sulsel: Dinas Sosial Kabupaten Mamasa – “Rumah "
	    "Singgah” ꦗꦮ 🙏 \\xff\\xc3( \\xc0\\x80 \\xed\\xa0\\x80 "
	    "\\xe2\\x80");
}

static void
test_strerror_appended_and_errno_kept(void **state)
{
	struct sink *s = *state;

	errno = ENOENT;
	log_warn("store: cannot open '%s'", "/var/lib/jalin\n/x");
	assert_int_equal(errno, ENOENT);
	assert_string_equal(one_line(s),
	    "warning: store: cannot open '/var/lib/jalin\\n/x': No such file "
	    "or directory");
}

static void
test_long_message_cut_on_one_line(void **state)
{
	struct sink *s = *state;
	char msg[3000];
	const char *line;
	size_t len;

	memset(msg, 'a', sizeof(msg) - 2);
	msg[sizeof(msg) - 2] = '\n';
	msg[sizeof(msg) - 1] = '\0';
	log_warnx("peer banten: %s", msg);
	logged(s, &len);
	assert_true(len <= LINE_MAX_BYTES);
	line = one_line(s);
	assert_true(strlen(line) > 900);
	assert_string_equal(line + strlen(line) - 4, "a...");
}

/* Every byte an escape: the line is cut between two whole escapes. */
static void
test_escapes_cut_whole(void **state)
{
	struct sink *s = *state;
	char msg[1001];
	const char *line, *end;
	size_t len;

	memset(msg, 0x1b, sizeof(msg) - 1);
	msg[sizeof(msg) - 1] = '\0';
	log_warnx("peer banten: %s", msg);
	logged(s, &len);
	assert_true(len <= LINE_MAX_BYTES);
	line = one_line(s);
	end = line + strlen(line) - 3;
	assert_string_equal(end, "...");
	assert_memory_equal(end - 4, "\\x1b", 4);
	assert_int_equal(
	    (strlen(line) - strlen("warning: peer banten: ...")) % 4, 0);
}

static void
test_level_filter(void **state)
{
	struct sink *s = *state;
	size_t len;

	log_debug("peer banten: %s", "not shown at info");
	logged(s, &len);
	assert_int_equal(len, 0);
	log_set_level(CFG_LOG_DEBUG);
	log_debug("peer banten: %s", "shown\n");
	assert_string_equal(one_line(s), "debug: peer banten: shown\\n");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(
	        test_forged_line_stays_on_one_line, sink_setup, sink_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_terminal_controls_escaped, sink_setup, sink_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_utf8_kept_invalid_bytes_escaped, sink_setup,
	        sink_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_strerror_appended_and_errno_kept, sink_setup,
	        sink_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_long_message_cut_on_one_line, sink_setup, sink_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_escapes_cut_whole, sink_setup, sink_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_level_filter, sink_setup, sink_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
