/*
 * cmd_sync.c - watching and checking sync: verify PEER, and watch (the
 * status, refreshed).
 *
 * watch waits between refreshes in sigtimedwait() with SIGINT and SIGTERM
 * blocked: Ctrl-C during a refresh is kept pending and ends the wait that
 * follows, so the terminal is always restored and no signal handler (nor
 * the global flag it would need) is involved.
 */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cmd.h"
#include "json.h"
#include "msg.h"

#define ANSI_HOME_CLEAR "\033[H\033[2J"
#define ANSI_CURSOR_OFF "\033[?25l"
#define ANSI_CURSOR_ON  "\033[?25h"

int
cmd_verify(struct ctx *x)
{
	struct creq r;
	json_t *res;
	int rc;

	creq_init(&r, x->cl, MSG_VERIFY);
	creq_str(&r, MK_PEER, x->argv[0]);
	rc = ctl_call(x, &r, &res);
	creq_free(&r);
	if (rc != EXIT_OK)
		return rc;
	x->out->verify(res);
	rc = json_is_true(json_object_get(res, "in_sync")) ? EXIT_OK
	                                                   : EXIT_FAILED;
	json_decref(res);
	return rc;
}

/* The wall clock in UTC, to the second, for the refresh header. */
static void
utc_now(char *out, size_t n)
{
	time_t now = time(NULL);
	struct tm tm;

	if (gmtime_r(&now, &tm) == NULL ||
	    strftime(out, n, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(out, n, "-");
}

/* One refresh: (re)connect if needed, ask, show. Returns the status. */
static int
refresh(struct ctx *x, bool tty, uint64_t n)
{
	char now[32];
	int rc;

	utc_now(now, sizeof(now));
	if (tty) {
		printf(ANSI_HOME_CLEAR "jalinctl watch: %s, every %llu s "
		                       "(Ctrl-C to stop)\n\n",
		    now, (unsigned long long)x->interval);
		fflush(stdout); /* before any message on stderr */
	} else if (!x->json) {
		printf("%swatch: %s\n", n > 0 ? "\n" : "", now);
	}
	if (x->cl == NULL && (rc = ctl_open(x->t, true, &x->cl)) != EXIT_OK)
		goto failed;
	/* a node closes a remote admin idle for its admin_idle_timeout
	 * (60 s by default): over TLS, connect for each refresh */
	if ((rc = ctl_status(x)) == EXIT_UNREACH || x->t->remote != NULL) {
		client_close(x->cl);
		x->cl = NULL;
	}
failed:
	if (rc != EXIT_OK && !x->json)
		printf("(the node did not answer: see the message above; "
		       "trying again in %llu s)\n",
		    (unsigned long long)x->interval);
	fflush(stdout);
	return rc;
}

/* Sleep for the interval; true if SIGINT or SIGTERM came instead. */
static bool
interrupted(const sigset_t *set, uint64_t secs)
{
	struct timespec ts = {(time_t)secs, 0};
	int sig;

	for (;;) {
		sig = sigtimedwait(set, NULL, &ts);
		if (sig > 0)
			return true;
		if (errno == EAGAIN)
			return false;
		/* EINTR: another signal (SIGWINCH); keep waiting a bit */
		ts = (struct timespec){1, 0};
	}
}

int
cmd_watch(struct ctx *x)
{
	bool tty = !x->json && isatty(STDOUT_FILENO);
	sigset_t set, old;
	int rc = EXIT_OK;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigprocmask(SIG_BLOCK, &set, &old);
	if (tty) {
		/* one write per frame: no flicker */
		setvbuf(stdout, NULL, _IOFBF, 1 << 16);
		fputs(ANSI_CURSOR_OFF, stdout);
	}
	for (uint64_t n = 0;; n++) {
		rc = refresh(x, tty, n);
		if (x->count != 0 && n + 1 >= x->count)
			break;
		if (interrupted(&set, x->interval)) {
			rc = EXIT_OK;
			break;
		}
	}
	if (tty)
		fputs(ANSI_CURSOR_ON, stdout);
	fflush(stdout);
	sigprocmask(SIG_SETMASK, &old, NULL);
	return rc;
}
