/*
 * check_cert_format.c - sslsocket_certinfo_format against Python's
 * pprint.pformat of the same structure, for structures no certificate
 * authority would sign: long values, quotes, backslashes, line breaks,
 * non-ASCII and non-printable characters, invalid UTF-8, empty parts, and
 * a batch of random ones. The expected text always comes from python3.
 */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cert_int.h"
#include "sslsocket.h"

#define SEP "=====END====="

/* Reads records (one certinfo each) from the file argv[1]; fields are hex
 * so that no quoting of ours stands between the C strings and Python.
 * Bytes are decoded as UTF-8 with surrogateescape, which is how the
 * formatter shows invalid bytes. */
static const char py_script[] =
	"import pprint, sys\n"
	"def h(x): return bytes.fromhex(x[1:]).decode('utf-8', 'surrogateescape')\n"
	"def flush(na, subj, san, present):\n"
	"    d = {}\n"
	"    if na is not None: d['notAfter'] = na\n"
	"    d['subject'] = tuple(tuple(r) for r in subj)\n"
	"    if san or present: d['subjectAltName'] = tuple(san)\n"
	"    sys.stdout.write(pprint.pformat(d) + '\\n" SEP "\\n')\n"
	"na, subj, san, present = None, [], [], False\n"
	"for line in open(sys.argv[1]):\n"
	"    f = line.split()\n"
	"    if not f: continue\n"
	"    if f[0] == 'N': na = h(f[1])\n"
	"    elif f[0] == 'R': subj.append([])\n"
	"    elif f[0] == 'A': subj[-1].append((h(f[1]), h(f[2])))\n"
	"    elif f[0] == 'S': san.append((h(f[1]), h(f[2])))\n"
	"    elif f[0] == 'P': present = True\n"
	"    elif f[0] == 'E':\n"
	"        flush(na, subj, san, present); na, subj, san, present = None, [], [], False\n";

static void put_hex(FILE *f, const char *s)
{
	fputs(" x", f); /* never an empty field */
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		fprintf(f, "%02x", *p);
}

static void write_record(FILE *f, const struct sslsocket_certinfo *ci)
{
	if (ci->not_after) {
		fputs("N", f);
		put_hex(f, ci->not_after);
		fputs("\n", f);
	}
	for (size_t i = 0; i < ci->subject_count; i++) {
		fputs("R\n", f);
		for (size_t j = 0; j < ci->subject[i].count; j++) {
			fputs("A", f);
			put_hex(f, ci->subject[i].attrs[j].name);
			put_hex(f, ci->subject[i].attrs[j].value);
			fputs("\n", f);
		}
	}
	if (ci->subject_alt_name)
		fputs("P\n", f); /* present, even when empty */
	for (size_t i = 0; i < ci->san_count; i++) {
		fputs("S", f);
		put_hex(f, ci->subject_alt_name[i].name);
		put_hex(f, ci->subject_alt_name[i].value);
		fputs("\n", f);
	}
	fputs("E\n", f);
}

static char *slurp_cmd(const char *cmd)
{
	FILE *p = popen(cmd, "r");
	char *buf = NULL;
	size_t len = 0, cap = 0;
	size_t n;
	char tmp[65536];

	ck_assert(p != NULL);
	while ((n = fread(tmp, 1, sizeof tmp, p)) > 0) {
		if (len + n + 1 > cap) {
			cap = (len + n + 1) * 2;
			buf = realloc(buf, cap);
			ck_assert(buf != NULL);
		}
		memcpy(buf + len, tmp, n);
		len += n;
	}
	ck_assert_int_eq(pclose(p), 0);
	ck_assert(buf != NULL);
	buf[len] = '\0';
	return buf;
}

/* Formats every record with Python and with us, and compares. */
static void compare_all(struct sslsocket_certinfo *const *cis, size_t n)
{
	char spec[] = "/tmp/check_cert_format.XXXXXX";
	char script[] = "/tmp/check_cert_format_py.XXXXXX";
	char cmd[200];
	int fd = mkstemp(spec), sfd = mkstemp(script);
	FILE *f;
	char *py, *cur;

	ck_assert(fd >= 0 && sfd >= 0);
	ck_assert(write(sfd, py_script, sizeof py_script - 1) == (ssize_t)(sizeof py_script - 1));
	close(sfd);
	f = fdopen(fd, "w");
	ck_assert(f != NULL);
	for (size_t i = 0; i < n; i++)
		write_record(f, cis[i]);
	fclose(f);
	snprintf(cmd, sizeof cmd, "python3 %s %s", script, spec);
	py = slurp_cmd(cmd);
	unlink(spec);
	unlink(script);
	cur = py;
	for (size_t i = 0; i < n; i++) {
		char *end = strstr(cur, "\n" SEP "\n");
		char *ours = sslsocket_certinfo_format(cis[i]);
		ck_assert_msg(end != NULL, "python gave fewer records than %zu", n);
		*end = '\0';
		ck_assert_msg(ours != NULL, "format failed on record %zu", i);
		ck_assert_msg(strcmp(ours, cur) == 0, "record %zu:\n--- ours\n%s\n--- python\n%s", i,
		              ours, cur);
		free(ours);
		cur = end + strlen("\n" SEP "\n");
	}
	free(py);
}

/* ---- building structures ------------------------------------------------- */

static struct sslsocket_certinfo *ci_new(const char *not_after)
{
	struct sslsocket_certinfo *ci = calloc(1, sizeof *ci);

	ck_assert(ci != NULL);
	ci->validated = 1;
	ci->not_after = not_after ? strdup(not_after) : NULL;
	return ci;
}

static void ci_rdn(struct sslsocket_certinfo *ci)
{
	ci->subject = realloc(ci->subject, (ci->subject_count + 1) * sizeof *ci->subject);
	ck_assert(ci->subject != NULL);
	ci->subject[ci->subject_count].count = 0;
	ci->subject[ci->subject_count].attrs = NULL;
	ci->subject_count++;
}

static void ci_attr(struct sslsocket_certinfo *ci, const char *name, const char *value)
{
	struct sslsocket_rdn *r = &ci->subject[ci->subject_count - 1];

	r->attrs = realloc(r->attrs, (r->count + 1) * sizeof *r->attrs);
	ck_assert(r->attrs != NULL);
	r->attrs[r->count].name = strdup(name);
	r->attrs[r->count].value = strdup(value);
	r->count++;
}

static void ci_san(struct sslsocket_certinfo *ci, const char *name, const char *value)
{
	ci->subject_alt_name =
		realloc(ci->subject_alt_name, (ci->san_count + 1) * sizeof *ci->subject_alt_name);
	ck_assert(ci->subject_alt_name != NULL);
	ci->subject_alt_name[ci->san_count].name = strdup(name);
	ci->subject_alt_name[ci->san_count].value = strdup(value);
	ci->san_count++;
}

static const char *const tricky[] = {
	/* longer than a line, with spaces */
	"a value with spaces that is much longer than eighty columns so that pprint has "
	"to cut it into several adjacent string literals at the spaces",
	/* one long word: cannot be cut */
	"averyveryveryveryveryveryveryveryveryveryveryveryveryveryveryveryveryverylongword"
	"withoutanyspaceatall",
	"it's got a single quote",
	"has \"double\" quotes",
	"has both ' and \" quotes and a backslash \\ too, and is long enough to be cut here",
	"back\\slash\\\\es",
	"line one\nline two\r\nline three\rfour\x0bfive\x0csix\x1cseven\x1d\x1e end",
	"tab\there and \x01\x1f\x7f controls",
	"caf\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e \xf0\x9f\x98\x80 emoji",
	"nbsp\xc2\xa0zwsp\xe2\x80\x8bls\xe2\x80\xa8ps\xe2\x80\xa9 pua\xee\x80\x80 "
	"nonchar\xf4\x8f\xbf\xbf soft\xc2\xad hyphen",
	"invalid \xff\xfe utf-8 \xc3 and \xed\xa0\x80 surrogate",
	"",
	" ",
	"   leading and trailing spaces   ",
	"ideographic\xe3\x80\x80space\xe2\x80\x83" "em space \xc2\x85" "nel \xe1\x9a\x80" "ogham",
	"a  b   c    d     e      f       g        h         i          j           k            "
	"l             m              n",
	"\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9 "
	"\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9 "
	"\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9 "
	"\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9 "
	"\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9",
	"trailing newline\n",
	"\n\n\n",
	"exactly-sized-value-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
	"exactly-sized-value-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
	"exactly-sized-value-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
};
#define NTRICKY (sizeof tricky / sizeof tricky[0])

static void ci_free_all(struct sslsocket_certinfo **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		sslsocket_certinfo_free(v[i]);
}

START_TEST(test_tricky_values)
{
	/* Each value in every position: a subject attribute of a one-RDN
	 * subject, the second member of a multi-valued RDN, an attribute
	 * name, a subjectAltName value and notAfter. */
	struct sslsocket_certinfo *v[NTRICKY * 3];
	size_t n = 0;

	for (size_t i = 0; i < NTRICKY; i++) {
		struct sslsocket_certinfo *a = ci_new("Feb 26 00:39:28 2029 GMT");
		struct sslsocket_certinfo *b = ci_new(tricky[i]);
		struct sslsocket_certinfo *c = ci_new(NULL);

		ci_rdn(a);
		ci_attr(a, "commonName", tricky[i]);
		ci_san(a, "DNS", "localhost");
		ci_san(a, "DNS", tricky[i]);

		ci_rdn(b);
		ci_attr(b, "countryName", "US");
		ci_rdn(b);
		ci_attr(b, "organizationalUnitName", "Multi");
		ci_attr(b, "commonName", tricky[i]);
		ci_rdn(b);
		ci_attr(b, tricky[i], "x");

		ci_san(c, tricky[i], tricky[(i + 1) % NTRICKY]);
		v[n++] = a;
		v[n++] = b;
		v[n++] = c;
	}
	compare_all(v, n);
	ci_free_all(v, n);
}
END_TEST

START_TEST(test_shapes)
{
	/* Empty subject, one-element tuples at every level, a wide multi-RDN
	 * subject, and many alt names. */
	struct sslsocket_certinfo *v[6];
	char name[64];

	v[0] = ci_new(NULL);
	v[1] = ci_new("May  9 00:00:00 2007 GMT");
	ci_rdn(v[1]);
	ci_attr(v[1], "commonName", "x");
	v[2] = ci_new("May  9 00:00:00 2007 GMT");
	for (int i = 0; i < 12; i++) {
		ci_rdn(v[2]);
		for (int j = 0; j <= i % 4; j++) {
			snprintf(name, sizeof name, "1.3.6.1.4.1.99999.%d.%d", i, j);
			ci_attr(v[2], name, i % 3 ? "short" : tricky[0]);
		}
	}
	v[3] = ci_new("Jan  1 00:00:00 1970 GMT");
	ci_rdn(v[3]);
	ci_attr(v[3], "commonName", "many.example");
	for (int i = 0; i < 40; i++) {
		snprintf(name, sizeof name, "host%d.many.example", i);
		ci_san(v[3], i % 2 ? "DNS" : "IP Address", name);
	}
	v[4] = ci_new("Jan  1 00:00:00 1970 GMT");
	ci_san(v[4], "DNS", "only.example");
	/* A subjectAltName extension without names: Python's (). */
	v[5] = ci_new("Jan  1 00:00:00 1970 GMT");
	ci_rdn(v[5]);
	ci_attr(v[5], "commonName", "x");
	v[5]->subject_alt_name = calloc(1, sizeof *v[5]->subject_alt_name);
	compare_all(v, 6);
	ci_free_all(v, 6);
}
END_TEST

/* A deterministic pseudo-random generator (xorshift) so that failures
 * reproduce. */
static uint32_t rng_state;
static uint32_t rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 17;
	rng_state ^= rng_state << 5;
	return rng_state;
}

static char *random_string(void)
{
	static const char *const atoms[] = {
		"a", "b", "word", " ", "  ", "\t", "\n", "\r\n", "'", "\"", "\\", "\xc3\xa9",
		"\xe6\x97\xa5", "\xf0\x9f\x98\x80", "\xc2\xa0", "\xe2\x80\x8b", "\x01", "\x7f",
		"\xff", "\xe2\x80\xa8", "xn--", ".", "-", "verylongwordwithoutspaces",
	};
	size_t n = rng() % 60;
	char *s = calloc(1, n * 26 + 1);

	ck_assert(s != NULL);
	for (size_t i = 0; i < n; i++)
		strcat(s, atoms[rng() % (sizeof atoms / sizeof atoms[0])]);
	return s;
}

START_TEST(test_random_structures)
{
	enum { N = 300 };
	static struct sslsocket_certinfo *v[N];

	rng_state = 0x9E3779B9u + (uint32_t)_i;
	for (int k = 0; k < N; k++) {
		char *na = rng() % 4 ? random_string() : NULL;
		struct sslsocket_certinfo *ci = ci_new(na);
		int rdns = (int)(rng() % 5), sans = (int)(rng() % 4);

		free(na);
		for (int i = 0; i < rdns; i++) {
			int attrs = 1 + (int)(rng() % 3);
			ci_rdn(ci);
			for (int j = 0; j < attrs; j++) {
				char *a = random_string(), *b = random_string();
				ci_attr(ci, a, b);
				free(a);
				free(b);
			}
		}
		for (int i = 0; i < sans; i++) {
			char *b = random_string();
			ci_san(ci, rng() % 2 ? "DNS" : "IP Address", b);
			free(b);
		}
		v[k] = ci;
	}
	compare_all(v, N);
	ci_free_all(v, N);
}
END_TEST

START_TEST(test_printable_table)
{
	/* The generated table against the running Python, every code point
	 * (surrogates included). */
	char *py = slurp_cmd("python3 -c \"import sys; sys.stdout.write(''.join("
	                     "'1' if chr(c).isprintable() else '0' for c in range(0x110000)))\"");
	size_t bad = 0;
	uint32_t first_bad = 0;

	ck_assert_uint_eq(strlen(py), 0x110000);
	for (uint32_t c = 0; c < 0x110000; c++) {
		if (core_unicode_isprintable(c) != (py[c] == '1')) {
			if (!bad)
				first_bad = c;
			bad++;
		}
	}
	ck_assert_msg(bad == 0, "%zu code points differ from Python, first U+%04X", bad,
	              (unsigned)first_bad);
	ck_assert_int_eq(core_unicode_isprintable(0x110000), 0);
	free(py);
}
END_TEST

START_TEST(test_not_validated)
{
	struct sslsocket_certinfo *ci = ci_new("May  9 00:00:00 2007 GMT");
	char *s;

	ci->validated = 0;
	s = sslsocket_certinfo_format(ci);
	ck_assert_str_eq(s, "{}");
	free(s);
	sslsocket_certinfo_free(ci);
}
END_TEST

Suite *cert_format_suite(void)
{
	Suite *s = suite_create("cert_format");
	TCase *tc = tcase_create("pprint");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_tricky_values);
	tcase_add_test(tc, test_shapes);
	tcase_add_loop_test(tc, test_random_structures, 0, 4);
	tcase_add_test(tc, test_printable_table);
	tcase_add_test(tc, test_not_validated);
	suite_add_tcase(s, tc);
	return s;
}
