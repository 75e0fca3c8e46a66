/*
 * fl-browse: renders HTML pages in one headless Chromium and keeps what a person would
 * see, for the tests of `tree --html` and `report --html`. Chromium starts slowly on the
 * test machines, so one browser renders every page given, driven through the DevTools
 * protocol on a pipe (--remote-debugging-pipe: JSON messages on fds 3 and 4, each ended
 * by a NUL): no port, no network, nothing shared with other tests.
 *
 *   fl-browse [--width PX] [--height PX] [--timeout S] OUTDIR PAGE[#FRAGMENT]...
 *
 * For each PAGE (a file; a #FRAGMENT is navigated to as well, to show a :target), after
 * its load event, writes to OUTDIR, NAME being the page's file name (and the fragment):
 *   NAME.png        a screenshot of the whole page (not only the window)
 *   NAME.dom.html   the document as parsed (the DOM serialized, as --dump-dom gives)
 *   NAME.txt        the text a person reads (document.body.innerText)
 * Chromium runs with a fresh profile in OUTDIR/profile (removed by the caller), no GPU,
 * no sandbox (we are root), no background networking. Exit 0, or 1 with one line naming
 * the page and what failed. The browser is killed on the way out whatever happens.
 */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <openssl/evp.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static pid_t browser = -1;
static int to_fd = -1, from_fd = -1;
static char *inbuf;
static size_t in_len, in_cap;
static int next_id = 1;
static double timeout_s = 60;

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...)
{
	va_list ap;

	fputs("fl-browse: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	if (browser > 0) {
		kill(browser, SIGKILL);
		waitpid(browser, NULL, 0);
	}
	exit(1);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void start_browser(const char *profile, int width, int height)
{
	int down[2], up[2];
	char ud[PATH_MAX + 32], ws[64];

	if (pipe2(down, O_CLOEXEC) || pipe2(up, O_CLOEXEC))
		die("pipe: %s", strerror(errno));
	snprintf(ud, sizeof(ud), "--user-data-dir=%s", profile);
	snprintf(ws, sizeof(ws), "--window-size=%d,%d", width, height);
	browser = fork();
	if (browser < 0)
		die("fork: %s", strerror(errno));
	if (browser == 0) {
		int null = open("/dev/null", O_RDWR);
		/* The protocol's pipe is fds 3 (commands in) and 4 (replies out). Moved above
		 * them first: a pipe end may be fd 3 or 4 already, and dup2 onto itself would
		 * keep its close-on-exec flag. */
		int in = fcntl(down[0], F_DUPFD, 10), out = fcntl(up[1], F_DUPFD, 10);

		if (in < 0 || out < 0 || dup2(in, 3) < 0 || dup2(out, 4) < 0)
			_exit(127);
		/* Chromium talks a lot on stderr (no D-Bus here): keep only ours readable. */
		if (null >= 0) {
			dup2(null, 0);
			dup2(null, 1);
			dup2(null, 2);
		}
		execlp("chromium", "chromium", "--headless", "--no-sandbox", "--disable-gpu",
		       "--disable-background-networking", "--disable-component-update", "--disable-sync",
		       "--no-first-run", "--no-default-browser-check", "--hide-scrollbars",
		       "--remote-debugging-pipe", ud, ws, "about:blank", (char *)NULL);
		_exit(127);
	}
	close(down[0]);
	close(up[1]);
	to_fd = down[1];
	from_fd = up[0];
}

static void send_msg(json_t *msg)
{
	char *s = json_dumps(msg, JSON_COMPACT);
	size_t n, off = 0;

	if (!s)
		die("out of memory");
	n = strlen(s) + 1; /* the NUL ends the message */
	while (off < n) {
		ssize_t w = write(to_fd, s + off, n - off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			die("writing to chromium: %s", w < 0 ? strerror(errno) : "closed");
		off += (size_t)w;
	}
	free(s);
}

/* The next message from the browser, parsed; NULL when the deadline passes. */
static json_t *recv_msg(double deadline)
{
	for (;;) {
		char *nul = in_len ? memchr(inbuf, '\0', in_len) : NULL;

		if (nul) {
			size_t n = (size_t)(nul - inbuf) + 1;
			json_error_t e;
			json_t *j = json_loadb(inbuf, n - 1, 0, &e);

			memmove(inbuf, inbuf + n, in_len - n);
			in_len -= n;
			if (!j)
				die("chromium sent what is not JSON: %s", e.text);
			return j;
		}
		double left = deadline - now_s();
		struct pollfd p = { .fd = from_fd, .events = POLLIN };

		if (left <= 0)
			return NULL;
		if (poll(&p, 1, (int)(left * 1000) + 1) < 0 && errno != EINTR)
			die("poll: %s", strerror(errno));
		if (!(p.revents & (POLLIN | POLLHUP)))
			continue;
		if (in_cap - in_len < 65536) {
			in_cap = in_cap ? in_cap * 2 : 1 << 20;
			inbuf = realloc(inbuf, in_cap);
			if (!inbuf)
				die("out of memory");
		}
		ssize_t r = read(from_fd, inbuf + in_len, in_cap - in_len);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			die("chromium closed the protocol pipe (did it start? is it installed?)");
		in_len += (size_t)r;
	}
}

/* Sends a command (to a session when given) and waits for its reply, passing over events;
 * returns the reply's "result" (owned by the caller), dies on an error reply. */
static json_t *call(const char *session, const char *method, json_t *params, const char *what)
{
	int id = next_id++;
	json_t *msg = json_pack("{s:i, s:s, s:o}", "id", id, "method", method, "params",
				params ? params : json_object());
	double deadline = now_s() + timeout_s;

	if (session)
		json_object_set_new(msg, "sessionId", json_string(session));
	send_msg(msg);
	json_decref(msg);
	for (;;) {
		json_t *r = recv_msg(deadline), *res;

		if (!r)
			die("%s: no reply to %s within %.0f s", what, method, timeout_s);
		if (json_integer_value(json_object_get(r, "id")) != id) {
			json_decref(r);
			continue;
		}
		if (json_object_get(r, "error"))
			die("%s: %s failed: %s", what, method,
			    json_string_value(json_object_get(json_object_get(r, "error"), "message")));
		res = json_incref(json_object_get(r, "result"));
		json_decref(r);
		return res ? res : json_object();
	}
}

/* Waits for an event of the session (e.g. the page's load). */
static void wait_event(const char *session, const char *method, const char *what)
{
	double deadline = now_s() + timeout_s;

	for (;;) {
		json_t *r = recv_msg(deadline);
		const char *m, *s;

		if (!r)
			die("%s: no %s within %.0f s", what, method, timeout_s);
		m = json_string_value(json_object_get(r, "method"));
		s = json_string_value(json_object_get(r, "sessionId"));
		if (m && !strcmp(m, method) && s && !strcmp(s, session)) {
			json_decref(r);
			return;
		}
		json_decref(r);
	}
}

static void write_file(const char *path, const void *data, size_t len)
{
	FILE *f = fopen(path, "wbe");

	if (!f || (len && fwrite(data, 1, len, f) != len) || fclose(f))
		die("%s: %s", path, strerror(errno));
}

static char *value_of(json_t *res, const char *what, const char *expr)
{
	json_t *v = json_object_get(json_object_get(res, "result"), "value");

	if (!json_is_string(v))
		die("%s: %s gave no string", what, expr);
	return strdup(json_string_value(v));
}

static void shot(const char *session, const char *out, const char *what)
{
	json_t *m = call(session, "Page.getLayoutMetrics", NULL, what);
	json_t *size = json_object_get(m, "cssContentSize");
	double w = json_number_value(json_object_get(size, "width"));
	double h = json_number_value(json_object_get(size, "height"));
	json_t *res;
	const char *b64;
	unsigned char *png;
	size_t n, pad = 0;
	int len;

	json_decref(m);
	if (w < 1 || h < 1)
		die("%s: the page has no size", what);
	res = call(session, "Page.captureScreenshot",
		   json_pack("{s:s, s:b, s:{s:f, s:f, s:f, s:f, s:f}}", "format", "png", "captureBeyondViewport", 1,
			     "clip", "x", 0.0, "y", 0.0, "width", w, "height", h, "scale", 1.0), what);
	b64 = json_string_value(json_object_get(res, "data"));
	if (!b64)
		die("%s: no screenshot data", what);
	n = strlen(b64);
	png = malloc(n / 4 * 3 + 3);
	if (!png)
		die("out of memory");
	len = EVP_DecodeBlock(png, (const unsigned char *)b64, (int)n);
	if (len < 0)
		die("%s: the screenshot is not base64", what);
	/* EVP_DecodeBlock counts the padding as zero bytes. */
	while (pad < 2 && n > pad && b64[n - 1 - pad] == '=')
		pad++;
	write_file(out, png, (size_t)len - pad);
	free(png);
	json_decref(res);
}

static void render(const char *session, const char *outdir, const char *page)
{
	char abs[PATH_MAX], url[PATH_MAX * 2], base[PATH_MAX * 2], path[PATH_MAX * 4];
	const char *frag = strchr(page, '#');
	size_t plen = frag ? (size_t)(frag - page) : strlen(page);
	json_t *res;
	char *dom, *text;
	const char *slash;

	if (plen >= sizeof(abs))
		die("%s: name too long", page);
	memcpy(base, page, plen);
	base[plen] = '\0';
	if (!realpath(base, abs))
		die("%s: %s", base, strerror(errno));
	snprintf(url, sizeof(url), "file://%s%s", abs, frag ? frag : "");
	slash = strrchr(abs, '/');
	snprintf(base, sizeof(base), "%s%s%s", slash ? slash + 1 : abs, frag ? "-" : "", frag ? frag + 1 : "");
	json_decref(call(session, "Page.navigate", json_pack("{s:s}", "url", url), page));
	wait_event(session, "Page.loadEventFired", page);
	/* DevTools' own evaluation: the page's policy forbids scripts, not the inspector. */
	res = call(session, "Runtime.evaluate", json_pack("{s:s, s:b}", "expression",
		   "document.documentElement.outerHTML", "returnByValue", 1), page);
	dom = value_of(res, page, "outerHTML");
	json_decref(res);
	res = call(session, "Runtime.evaluate", json_pack("{s:s, s:b}", "expression", "document.body.innerText",
		   "returnByValue", 1), page);
	text = value_of(res, page, "innerText");
	json_decref(res);
	snprintf(path, sizeof(path), "%s/%s.dom.html", outdir, base);
	write_file(path, dom, strlen(dom));
	snprintf(path, sizeof(path), "%s/%s.txt", outdir, base);
	write_file(path, text, strlen(text));
	snprintf(path, sizeof(path), "%s/%s.png", outdir, base);
	shot(session, path, page);
	free(dom);
	free(text);
}

int main(int argc, char **argv)
{
	int width = 1400, height = 900, i = 1, status;
	char profile[PATH_MAX];
	json_t *res, *target;
	char *session;
	double deadline;

	for (; i < argc && !strncmp(argv[i], "--", 2); i += 2) {
		if (i + 1 >= argc)
			die("%s needs a value", argv[i]);
		if (!strcmp(argv[i], "--width"))
			width = atoi(argv[i + 1]);
		else if (!strcmp(argv[i], "--height"))
			height = atoi(argv[i + 1]);
		else if (!strcmp(argv[i], "--timeout"))
			timeout_s = atof(argv[i + 1]);
		else
			die("unknown option %s", argv[i]);
	}
	if (argc - i < 2 || width < 100 || height < 100 || timeout_s <= 0)
		die("usage: fl-browse [--width PX] [--height PX] [--timeout S] OUTDIR PAGE[#FRAGMENT]...");
	signal(SIGPIPE, SIG_IGN);
	snprintf(profile, sizeof(profile), "%s/profile", argv[i]);
	start_browser(profile, width, height);
	res = call(NULL, "Target.createTarget", json_pack("{s:s}", "url", "about:blank"), "browser");
	target = json_incref(json_object_get(res, "targetId"));
	json_decref(res);
	if (!json_is_string(target))
		die("browser: no target id");
	res = call(NULL, "Target.attachToTarget", json_pack("{s:o, s:b}", "targetId", target, "flatten", 1),
		   "browser");
	session = strdup(json_string_value(json_object_get(res, "sessionId")));
	json_decref(res);
	json_decref(call(session, "Page.enable", NULL, "browser"));
	json_decref(call(session, "Emulation.setDeviceMetricsOverride",
			 json_pack("{s:i, s:i, s:i, s:b}", "width", width, "height", height,
				   "deviceScaleFactor", 1, "mobile", 0), "browser"));
	for (int k = i + 1; k < argc; k++)
		render(session, argv[i], argv[k]);
	free(session);
	json_decref(call(NULL, "Browser.close", NULL, "browser"));
	/* Closed by request: wait for it, then make sure. */
	deadline = now_s() + timeout_s;
	while (waitpid(browser, &status, WNOHANG) == 0) {
		if (now_s() > deadline) {
			kill(browser, SIGKILL);
			waitpid(browser, &status, 0);
			break;
		}
		usleep(20000);
	}
	return 0;
}
