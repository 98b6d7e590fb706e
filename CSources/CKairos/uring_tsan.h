/* Private to CKairos (not under include/): ThreadSanitizer annotations for io_uring rings, used by
 * every file that sets up or tears down a ring (ingest_udp.c, ingest_replay.c, sys.c). */
#ifndef KAIROS_URING_TSAN_H
#define KAIROS_URING_TSAN_H

/* io_uring under ThreadSanitizer. liburing maps each ring's SQ/CQ memory with raw system calls,
 * which TSan does not intercept: when one ring is torn down and the next is mapped at the same
 * address (two ingests created one after the other, on different threads), TSan takes the new
 * ring's first SQE writes for a race with the old ring's last ones. The kernel orders them (the
 * munmap comes before the mmap that reuses the address); these two calls tell TSan so: release
 * before a ring is torn down, acquire after one is set up. They compile to nothing outside TSan
 * builds. */
#if defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define KAIROS_TSAN 1
#endif
#endif
#ifdef KAIROS_TSAN
void __tsan_acquire(void *addr);
void __tsan_release(void *addr);
/* The one sync object standing for "ring memory was remapped" (defined in sys.c). */
extern char kairos_uring_mappings;
static inline void kairos_uring_mapped(void) { __tsan_acquire(&kairos_uring_mappings); }
static inline void kairos_uring_unmapping(void) { __tsan_release(&kairos_uring_mappings); }
#else
static inline void kairos_uring_mapped(void) {}
static inline void kairos_uring_unmapping(void) {}
#endif

#endif
