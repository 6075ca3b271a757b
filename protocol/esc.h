/*
 * esc.h - text from others made safe for a log line or a terminal.
 *
 * A peer's ERROR text, a client's purpose, a record's value: any of them
 * may hold a newline that forges a log line, an escape sequence that moves
 * the cursor or recolours an operator's terminal, bytes that are not UTF-8,
 * or Unicode controls that reorder what is shown. esc_text shows such a
 * character as C-style escapes and leaves all else, Indonesian text and any
 * other valid UTF-8 included, as it is:
 *
 *   \n \r \t         newline, carriage return, tab
 *   \xNN             every other byte of a character that is not shown:
 *                    C0 controls (ESC is \x1b), DEL (\x7f), C1 controls
 *                    (U+0080-U+009F: \xc2\x9b), the Unicode line and
 *                    paragraph separators and bidirectional overrides and
 *                    isolates (U+2028-U+202E, U+2066-U+2069: \xe2\x80\xae),
 *                    and each byte that starts no valid UTF-8 sequence
 *                    (overlong forms, surrogates, past U+10FFFF, cut short)
 *
 * A backslash is kept as it is: escaping is idempotent (text escaped twice,
 * as a peer's last error logged again, reads the same), and the point is
 * that nothing can start a new line or reach the terminal as a control, not
 * that the text can be decoded back.
 */
#ifndef JALIN_ESC_H
#define JALIN_ESC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Worst case: every byte becomes "\xNN". */
#define ESC_GROWTH 4

/* *cp for a byte that starts no valid UTF-8 sequence. */
#define ESC_INVALID UINT32_MAX

/*
 * Classify the character at s. s, len: the bytes left (len > 0). *n
 * receives its length in bytes (1 for an invalid byte), *cp its code point
 * or ESC_INVALID. Returns true when it may be shown as it is, false when
 * esc_text escapes it.
 */
bool esc_shown(const char *s, size_t len, size_t *n, uint32_t *cp);

/*
 * Escape the len bytes at src (NUL bytes included, escaped as \x00) into
 * dst of size bytes (size >= 1): at most size - 1 bytes and a NUL. A
 * character or escape that does not fit whole is left out with all after
 * it. Returns the bytes written (without the NUL); *used (may be NULL)
 * receives the bytes of src consumed, which is less than len when the
 * text was cut.
 */
size_t esc_text(
    char *dst, size_t size, const char *src, size_t len, size_t *used);

/*
 * The escaped copy of the NUL-terminated s, malloc'd (the caller frees),
 * or NULL when s is NULL or memory runs out.
 */
char *esc_dup(const char *s);

#endif
