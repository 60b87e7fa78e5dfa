#ifndef CGLIBC_SHIM_H
#define CGLIBC_SHIM_H
// The glibc headers that Swift's Glibc module leaves out: <malloc.h> (mallopt, malloc_trim) and
// <sys/random.h> (getrandom). Nothing to link: it is the C library. <malloc.h> only where the C
// library is glibc (musl has no arenas to cap or trim).
#include <stdlib.h>
#include <sys/random.h>
#if defined(__GLIBC__)
#include <malloc.h>
#endif

#endif
