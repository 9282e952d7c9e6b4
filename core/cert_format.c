/*
 * cert_format.c - getpeercert()'s dictionary as Python's
 * pprint.pformat(d) prints it (Python 3.11: width 80, indent 1, sorted
 * keys, not compact).
 *
 * This is a port of the parts of pprint.PrettyPrinter that a dictionary
 * of tuples of strings reaches (_format, _pprint_dict, _format_dict_items,
 * _pprint_tuple, _format_items, _pprint_str, _safe_repr) and of
 * str.__repr__, kept close to the Python so that the two can be read side
 * by side. Widths are counted in code points, as len() does. Values are
 * UTF-8; a byte that is not valid UTF-8 is shown as Python's
 * surrogateescape would show it ('\udcXX').
 */
#include <stdlib.h>
#include <string.h>

#include "cert_int.h"

#define PP_WIDTH 80

/* ---- output buffer -------------------------------------------------- */

struct out {
	char *buf;
	size_t len, cap;
	int oom;
};

static void put(struct out *o, const char *s, size_t n)
{
	if (o->oom)
		return;
	if (o->len + n + 1 > o->cap) {
		size_t cap = o->cap ? o->cap : 256;
		char *nb;
		while (o->len + n + 1 > cap)
			cap *= 2;
		nb = realloc(o->buf, cap);
		if (!nb) {
			o->oom = 1;
			return;
		}
		o->buf = nb;
		o->cap = cap;
	}
	memcpy(o->buf + o->len, s, n);
	o->len += n;
	o->buf[o->len] = '\0';
}

static void puts_(struct out *o, const char *s)
{
	put(o, s, strlen(s));
}

static void put_spaces(struct out *o, long n)
{
	for (; n > 0; n--)
		put(o, " ", 1);
}

static void put_cp(struct out *o, uint32_t c)
{
	char b[4];

	if (c < 0x80) {
		b[0] = (char)c;
		put(o, b, 1);
	} else if (c < 0x800) {
		b[0] = (char)(0xC0 | (c >> 6));
		b[1] = (char)(0x80 | (c & 0x3F));
		put(o, b, 2);
	} else if (c < 0x10000) {
		b[0] = (char)(0xE0 | (c >> 12));
		b[1] = (char)(0x80 | ((c >> 6) & 0x3F));
		b[2] = (char)(0x80 | (c & 0x3F));
		put(o, b, 3);
	} else {
		b[0] = (char)(0xF0 | (c >> 18));
		b[1] = (char)(0x80 | ((c >> 12) & 0x3F));
		b[2] = (char)(0x80 | ((c >> 6) & 0x3F));
		b[3] = (char)(0x80 | (c & 0x3F));
		put(o, b, 4);
	}
}

/* ---- strings as code points ---------------------------------------------- */

struct ustr {
	uint32_t *cp;
	size_t n;
};

/* UTF-8 to code points; an invalid byte b becomes U+DC00+b
 * (surrogateescape). Lone surrogates in the input count as invalid. */
static int decode(const char *s, struct ustr *u)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = strlen(s), i = 0;

	u->n = 0;
	u->cp = malloc((n + 1) * sizeof *u->cp);
	if (!u->cp)
		return -1;
	while (i < n) {
		unsigned char c = p[i];
		size_t k = 0;
		uint32_t cp = c, min = 0;

		if (c >= 0xC0 && c < 0xE0)
			k = 1, cp = c & 0x1F, min = 0x80;
		else if (c >= 0xE0 && c < 0xF0)
			k = 2, cp = c & 0x0F, min = 0x800;
		else if (c >= 0xF0 && c < 0xF8)
			k = 3, cp = c & 0x07, min = 0x10000;
		if (c >= 0x80 && k == 0)
			goto invalid;
		if (k >= n - i)
			goto invalid;
		for (size_t j = 1; j <= k; j++) {
			if ((p[i + j] & 0xC0) != 0x80)
				goto invalid;
			cp = (cp << 6) | (p[i + j] & 0x3F);
		}
		if (k && (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)))
			goto invalid;
		u->cp[u->n++] = cp;
		i += k + 1;
		continue;
invalid:
		u->cp[u->n++] = 0xDC00 + c;
		i++;
	}
	return 0;
}

/* str.isspace() */
static int py_isspace(uint32_t c)
{
	return (c >= 0x09 && c <= 0x0D) || (c >= 0x1C && c <= 0x20) || c == 0x85 || c == 0xA0 ||
	       c == 0x1680 || (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 ||
	       c == 0x202F || c == 0x205F || c == 0x3000;
}

/* The line boundaries of str.splitlines() (\r\n counts as one). */
static int py_linebreak(uint32_t c)
{
	return (c >= 0x0A && c <= 0x0D) || (c >= 0x1C && c <= 0x1E) || c == 0x85 || c == 0x2028 ||
	       c == 0x2029;
}

static uint32_t repr_quote(const uint32_t *cp, size_t n)
{
	int single = 0, dbl = 0;

	for (size_t i = 0; i < n; i++) {
		single |= cp[i] == '\'';
		dbl |= cp[i] == '"';
	}
	return single && !dbl ? '"' : '\'';
}

/* How str.__repr__ writes one code point inside quotes q; returns its
 * length and, when o is not NULL, writes it. */
static long repr_cp(struct out *o, uint32_t c, uint32_t q)
{
	static const char hex[] = "0123456789abcdef";
	char b[12];
	int digits;

	if (c == q || c == '\\') {
		b[0] = '\\';
		b[1] = (char)c;
		if (o)
			put(o, b, 2);
		return 2;
	}
	if (c == '\t' || c == '\n' || c == '\r') {
		b[0] = '\\';
		b[1] = c == '\t' ? 't' : c == '\n' ? 'n' : 'r';
		if (o)
			put(o, b, 2);
		return 2;
	}
	if (c >= 0x20 && c < 0x7F) {
		if (o)
			put_cp(o, c);
		return 1;
	}
	if (c >= 0x80 && core_unicode_isprintable(c)) {
		if (o)
			put_cp(o, c);
		return 1;
	}
	if (c <= 0xFF)
		b[1] = 'x', digits = 2;
	else if (c <= 0xFFFF)
		b[1] = 'u', digits = 4;
	else
		b[1] = 'U', digits = 8;
	b[0] = '\\';
	for (int i = 0; i < digits; i++)
		b[2 + i] = hex[(c >> (4 * (digits - 1 - i))) & 0xF];
	if (o)
		put(o, b, (size_t)digits + 2);
	return digits + 2;
}

/* len(repr(s)) and, when o is not NULL, repr(s) itself. */
static long repr_str(struct out *o, const uint32_t *cp, size_t n)
{
	uint32_t q = repr_quote(cp, n);
	long len = 2;

	if (o)
		put_cp(o, q);
	for (size_t i = 0; i < n; i++)
		len += repr_cp(o, cp[i], q);
	if (o)
		put_cp(o, q);
	return len;
}

/* ---- the object tree ----------------------------------------------------- */

enum pkind { P_STR, P_TUPLE, P_DICT };

struct pnode {
	enum pkind kind;
	struct ustr str;             /* P_STR */
	size_t n;                    /* P_TUPLE, P_DICT */
	struct pnode *items;         /* contiguous children */
	const char *const *keys;     /* P_DICT: sorted, plain ASCII */
};

/* _safe_repr: tuples as "(a, b)" and "(a,)", dicts as "{'k': v}". */
static long node_repr(struct out *o, const struct pnode *x)
{
	long len = 0;

	switch (x->kind) {
	case P_STR:
		return repr_str(o, x->str.cp, x->str.n);
	case P_TUPLE:
		if (o)
			puts_(o, "(");
		for (size_t i = 0; i < x->n; i++) {
			if (i) {
				if (o)
					puts_(o, ", ");
				len += 2;
			}
			len += node_repr(o, &x->items[i]);
		}
		if (x->n == 1) {
			if (o)
				puts_(o, ",");
			len += 1;
		}
		if (o)
			puts_(o, ")");
		return len + 2;
	case P_DICT:
		if (o)
			puts_(o, "{");
		for (size_t i = 0; i < x->n; i++) {
			if (i) {
				if (o)
					puts_(o, ", ");
				len += 2;
			}
			if (o) {
				put(o, "'", 1);
				puts_(o, x->keys[i]);
				puts_(o, "': ");
			}
			len += (long)strlen(x->keys[i]) + 4;
			len += node_repr(o, &x->items[i]);
		}
		if (o)
			puts_(o, "}");
		return len + 2;
	}
	return 0;
}

static void pp_format(struct out *o, const struct pnode *x, long indent, long allowance, int level);

static void pp_format_items(struct out *o, const struct pnode *x, long indent, long allowance,
                            int level)
{
	indent += 1;
	for (size_t i = 0; i < x->n; i++) {
		int last = i + 1 == x->n;
		if (i) {
			puts_(o, ",\n");
			put_spaces(o, indent);
		}
		pp_format(o, &x->items[i], indent, last ? allowance : 1, level);
	}
}

static void pp_tuple(struct out *o, const struct pnode *x, long indent, long allowance, int level)
{
	const char *endchar = x->n == 1 ? ",)" : ")";

	puts_(o, "(");
	pp_format_items(o, x, indent, allowance + (long)strlen(endchar), level);
	puts_(o, endchar);
}

static void pp_dict(struct out *o, const struct pnode *x, long indent, long allowance, int level)
{
	puts_(o, "{");
	allowance += 1;
	indent += 1;
	for (size_t i = 0; i < x->n; i++) {
		int last = i + 1 == x->n;
		long klen = (long)strlen(x->keys[i]) + 2;
		put(o, "'", 1);
		puts_(o, x->keys[i]);
		puts_(o, "': ");
		pp_format(o, &x->items[i], indent + klen + 2, last ? allowance : 1, level);
		if (!last) {
			puts_(o, ",\n");
			put_spaces(o, indent);
		}
	}
	puts_(o, "}");
}

struct chunks {
	struct { size_t off, n; } *v;
	size_t n, cap;
};

static int chunk_add(struct chunks *c, size_t off, size_t n)
{
	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 16;
		void *nv = realloc(c->v, cap * sizeof *c->v);
		if (!nv)
			return -1;
		c->v = nv;
		c->cap = cap;
	}
	c->v[c->n].off = off;
	c->v[c->n].n = n;
	c->n++;
	return 0;
}

/* _pprint_str: a string too wide for its place is cut into adjacent
 * literals, first at line ends, then after runs of whitespace
 * (re.findall(r'\S*\s*', line)). */
static void pp_str(struct out *o, const struct pnode *x, long indent, long allowance, int level)
{
	const uint32_t *cp = x->str.cp;
	size_t n = x->str.n;
	struct chunks ch = { 0 };
	long max_width, max_width1;
	size_t start = 0;

	if (n == 0) {
		repr_str(o, cp, 0);
		return;
	}
	if (level == 1) {
		indent += 1;
		allowance += 1;
	}
	max_width1 = max_width = PP_WIDTH - indent;
	while (start < n) {
		size_t end = start, part, cur_off, cur_n = 0;
		int last_line;
		long max_width2 = max_width;

		while (end < n && !py_linebreak(cp[end]))
			end++;
		if (end < n) {
			if (cp[end] == '\r' && end + 1 < n && cp[end + 1] == '\n')
				end++;
			end++;
		}
		last_line = end == n;
		if (last_line)
			max_width1 -= allowance;
		if (repr_str(NULL, cp + start, end - start) <= max_width1) {
			if (chunk_add(&ch, start, end - start) < 0)
				goto oom;
			start = end;
			continue;
		}
		/* parts: maximal \S*\s* runs; the empty final match is dropped. */
		cur_off = start;
		for (part = start; part < end;) {
			size_t pe = part, cand_n;
			while (pe < end && !py_isspace(cp[pe]))
				pe++;
			while (pe < end && py_isspace(cp[pe]))
				pe++;
			if (pe == end && last_line)
				max_width2 -= allowance;
			cand_n = cur_n + (pe - part);
			if (repr_str(NULL, cp + cur_off, cand_n) > max_width2) {
				if (cur_n && chunk_add(&ch, cur_off, cur_n) < 0)
					goto oom;
				cur_off = part;
				cur_n = pe - part;
			} else {
				cur_n = cand_n;
			}
			part = pe;
		}
		if (cur_n && chunk_add(&ch, cur_off, cur_n) < 0)
			goto oom;
		start = end;
	}
	if (ch.n == 1) {
		repr_str(o, cp, n);
		free(ch.v);
		return;
	}
	if (level == 1)
		puts_(o, "(");
	for (size_t i = 0; i < ch.n; i++) {
		if (i) {
			puts_(o, "\n");
			put_spaces(o, indent);
		}
		repr_str(o, cp + ch.v[i].off, ch.v[i].n);
	}
	if (level == 1)
		puts_(o, ")");
	free(ch.v);
	return;
oom:
	free(ch.v);
	o->oom = 1;
}

static void pp_format(struct out *o, const struct pnode *x, long indent, long allowance, int level)
{
	long len = node_repr(NULL, x);

	if (len > PP_WIDTH - indent - allowance) {
		switch (x->kind) {
		case P_STR:
			pp_str(o, x, indent, allowance, level + 1);
			return;
		case P_TUPLE:
			pp_tuple(o, x, indent, allowance, level + 1);
			return;
		case P_DICT:
			pp_dict(o, x, indent, allowance, level + 1);
			return;
		}
	}
	node_repr(o, x);
}

/* ---- certinfo to tree -------------------------------------------------------- */

struct pool {
	struct pnode *v;
	size_t used, cap;
};

static struct pnode *take(struct pool *p, size_t k)
{
	struct pnode *r = p->v + p->used;

	p->used += k;
	return r;
}

static int set_str(struct pnode *x, const char *s)
{
	x->kind = P_STR;
	return decode(s ? s : "", &x->str);
}

static int pair(struct pnode *x, struct pool *p, const struct sslsocket_attr *a)
{
	x->kind = P_TUPLE;
	x->n = 2;
	x->items = take(p, 2);
	if (set_str(&x->items[0], a->name) < 0 || set_str(&x->items[1], a->value) < 0)
		return -1;
	return 0;
}

static int build(struct pnode *dict, struct pool *p, const struct sslsocket_certinfo *ci,
                 const char **keys)
{
	size_t k = 0;
	struct pnode *vals;
	/* An empty but present subjectAltName (non-NULL array, count 0) is
	 * Python's (). */
	int san = ci->san_count > 0 || ci->subject_alt_name != NULL;
	size_t nkeys = (ci->not_after ? 1 : 0) + 1 + (san ? 1 : 0);

	/* Sorted: 'notAfter' < 'subject' < 'subjectAltName'. */
	vals = take(p, nkeys);
	dict->kind = P_DICT;
	dict->n = nkeys;
	dict->items = vals;
	dict->keys = keys;
	if (ci->not_after) {
		keys[k] = "notAfter";
		if (set_str(&vals[k++], ci->not_after) < 0)
			return -1;
	}
	keys[k] = "subject";
	vals[k].kind = P_TUPLE;
	vals[k].n = ci->subject_count;
	vals[k].items = take(p, ci->subject_count);
	for (size_t i = 0; i < ci->subject_count; i++) {
		struct pnode *rdn = &vals[k].items[i];
		rdn->kind = P_TUPLE;
		rdn->n = ci->subject[i].count;
		rdn->items = take(p, rdn->n);
		for (size_t j = 0; j < rdn->n; j++)
			if (pair(&rdn->items[j], p, &ci->subject[i].attrs[j]) < 0)
				return -1;
	}
	k++;
	if (san) {
		keys[k] = "subjectAltName";
		vals[k].kind = P_TUPLE;
		vals[k].n = ci->san_count;
		vals[k].items = take(p, ci->san_count);
		for (size_t i = 0; i < ci->san_count; i++)
			if (pair(&vals[k].items[i], p, &ci->subject_alt_name[i]) < 0)
				return -1;
	}
	return 0;
}

char *sslsocket_certinfo_format(const struct sslsocket_certinfo *ci)
{
	struct out o = { 0 };
	struct pool p = { 0 };
	struct pnode dict = { 0 };
	const char *keys[3];
	size_t need = 3 + 1 + 1;

	if (!ci)
		return NULL;
	if (!ci->validated)
		return strdup("{}");
	for (size_t i = 0; i < ci->subject_count; i++)
		need += 1 + 3 * ci->subject[i].count;
	need += 3 * ci->san_count;
	p.v = calloc(need, sizeof *p.v);
	p.cap = need;
	if (!p.v)
		return NULL;
	if (build(&dict, &p, ci, keys) < 0)
		o.oom = 1;
	else
		pp_format(&o, &dict, 0, 0, 0);
	for (size_t i = 0; i < p.used; i++)
		free(p.v[i].str.cp);
	free(p.v);
	if (o.oom || !o.buf) {
		free(o.buf);
		return NULL;
	}
	return o.buf;
}
