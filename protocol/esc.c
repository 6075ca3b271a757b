/*
 * esc.c - C-style escapes for text from others (esc.h says which
 * characters and why). jalind's log sink and jalinctl's text output use
 * it, so that no call site can forget.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "esc.h"

/* Bytes and code point of the valid UTF-8 sequence at p (lead byte >=
 * 0x80), 0 if it is not one: overlong forms, surrogates and code points
 * past U+10FFFF are refused, as jansson does. */
static size_t
utf8_seq(const unsigned char *p, size_t left, uint32_t *cp)
{
	size_t n;

	if (p[0] >= 0xC2 && p[0] <= 0xDF)
		n = 2, *cp = p[0] & 0x1Fu;
	else if (p[0] >= 0xE0 && p[0] <= 0xEF)
		n = 3, *cp = p[0] & 0x0Fu;
	else if (p[0] >= 0xF0 && p[0] <= 0xF4)
		n = 4, *cp = p[0] & 0x07u;
	else
		return 0;
	if (left < n)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((p[i] & 0xC0) != 0x80)
			return 0;
		*cp = (*cp << 6) | (p[i] & 0x3Fu);
	}
	if ((n == 3 && *cp < 0x800) || (n == 4 && *cp < 0x10000) ||
	    *cp > 0x10FFFF || (*cp >= 0xD800 && *cp <= 0xDFFF))
		return 0;
	return n;
}

/* Controls, and the Unicode characters that end a line or reorder what
 * follows on it ("Trojan Source"). */
static bool
is_control(uint32_t cp)
{
	return cp < 0x20 || (cp >= 0x7F && cp <= 0x9F) ||
	    (cp >= 0x2028 && cp <= 0x202E) || (cp >= 0x2066 && cp <= 0x2069);
}

bool
esc_shown(const char *s, size_t len, size_t *n, uint32_t *cp)
{
	const unsigned char *p = (const unsigned char *)s;

	if (p[0] < 0x80) {
		*n = 1;
		*cp = p[0];
	} else if ((*n = utf8_seq(p, len, cp)) == 0) {
		*n = 1;
		*cp = ESC_INVALID;
		return false;
	}
	return !is_control(*cp);
}

/* The escape of the character of n bytes at s into out (room for n *
 * ESC_GROWTH + 1); returns its length. */
static size_t
escape_char(const unsigned char *s, size_t n, char *out)
{
	size_t k = 0;

	if (n == 1 && (s[0] == '\n' || s[0] == '\r' || s[0] == '\t')) {
		out[0] = '\\';
		out[1] = s[0] == '\n' ? 'n' : s[0] == '\r' ? 'r' : 't';
		return 2;
	}
	for (size_t i = 0; i < n; i++)
		k += (size_t)snprintf(out + k, 5, "\\x%02x", s[i]);
	return k;
}

size_t
esc_text(char *dst, size_t size, const char *src, size_t len, size_t *used)
{
	char tmp[4 * ESC_GROWTH + 1];
	size_t i = 0, o = 0, n, k;
	uint32_t cp;

	while (i < len) {
		const char *piece = src + i;
		if (esc_shown(src + i, len - i, &n, &cp)) {
			k = n;
		} else {
			k = escape_char((const unsigned char *)src + i, n, tmp);
			piece = tmp;
		}
		if (o + k > size - 1)
			break;
		memcpy(dst + o, piece, k);
		o += k;
		i += n;
	}
	dst[o] = '\0';
	if (used != NULL)
		*used = i;
	return o;
}

char *
esc_dup(const char *s)
{
	size_t len, size;
	char *d;

	if (s == NULL)
		return NULL;
	len = strlen(s);
	size = len * ESC_GROWTH + 1;
	if ((d = malloc(size)) != NULL)
		esc_text(d, size, s, len, NULL);
	return d;
}
