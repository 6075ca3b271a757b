/*
 * crc32c.h - CRC-32C (Castagnoli), the checksum of every stored record.
 *
 * A record written behind jalind's back, or damaged on disk, fails its
 * checksum when read; the store then treats it as corrupt (never merged,
 * replaced by a peer's copy) instead of spreading it. Uses the SSE 4.2
 * instruction when the CPU has it, a table otherwise.
 */
#ifndef JALIN_CRC32C_H
#define JALIN_CRC32C_H

#include <stddef.h>
#include <stdint.h>

/* CRC-32C of buf[0..len), continuing from crc (0 to start). */
uint32_t crc32c(uint32_t crc, const void *buf, size_t len);

#endif
