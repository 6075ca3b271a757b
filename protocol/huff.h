/*
 * huff.h - the static byte code of record format 3.
 *
 * Field values are mostly Indonesian text: names, addresses, casework
 * notes. A fixed canonical Huffman code over bytes (tools/mkhuff.py derives
 * it from DOMAIN.md and sample records; its 256 code lengths are part of
 * the format, PROTOCOL.md §8.1) stores such text in 5.1-5.5 bits a byte.
 * The code is complete (every bit string decodes) and at most HF_MAXLEN
 * bits long, so one table lookup decodes a byte.
 *
 * Bits are written most significant first; the last byte is padded with
 * one bits. So the code says where it ends by itself, and each text has
 * exactly one code: hf_decode refuses other padding.
 */
#ifndef JALIN_HUFF_H
#define JALIN_HUFF_H

#include <stddef.h>
#include <stdint.h>

/* The shortest and longest code (bits): n bytes take between
 * HF_MIN_BITS * n and HF_MAX_BITS * n bits. */
#define HF_MIN_BITS 3
#define HF_MAX_BITS 11

/* Bits the code of s[0..n) takes. */
size_t hf_bits(const uint8_t *s, size_t n);

/* Write the code of s[0..n) to out: (hf_bits(s, n) + 7) / 8 bytes, the
 * last padded with one bits. */
void hf_encode(const uint8_t *s, size_t n, uint8_t *out);

/*
 * Decode in[0..len) into at most cap bytes at out (NULL: only check);
 * *n gets how many. 0 if in is exactly a code padded with fewer than 8 one
 * bits (HPACK's rule, RFC 7541 §5.2: ones are a prefix of the longest code,
 * so padding never reads as a byte) and the bytes fit; -1 otherwise.
 */
int hf_decode(
    const uint8_t *in, size_t len, uint8_t *out, size_t cap, size_t *n);

#endif
