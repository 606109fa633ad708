// Clang's thread-safety analysis (-Wthread-safety, run by `make check-tidy`): a member says
// which mutex guards it, a function which mutexes it needs held or free, and clang refuses code
// that touches guarded state without holding the mutex. The macros expand to clang's attributes
// under clang and to nothing under other compilers. core/mutex.h is the mutex they apply to.
#pragma once

#if defined(__clang__)
#define LK_THREAD_ANNOTATION(x) __attribute__((x))
#else
#define LK_THREAD_ANNOTATION(x)
#endif

// On a class: its objects are a capability (a mutex) of the given kind.
#define CAPABILITY(kind) LK_THREAD_ANNOTATION(capability(kind))
// On an RAII class: its constructor acquires and its destructor releases a capability.
#define SCOPED_CAPABILITY LK_THREAD_ANNOTATION(scoped_lockable)
// On a member: read or written only with `mu` held.
#define GUARDED_BY(mu) LK_THREAD_ANNOTATION(guarded_by(mu))
// On a pointer member: what it points to is used only with `mu` held (the pointer itself is not
// guarded, e.g. set once in the constructor).
#define PT_GUARDED_BY(mu) LK_THREAD_ANNOTATION(pt_guarded_by(mu))
// On a function: callers must hold these mutexes.
#define REQUIRES(...) LK_THREAD_ANNOTATION(requires_capability(__VA_ARGS__))
// On a function: callers must not hold these mutexes (the function takes them itself).
#define EXCLUDES(...) LK_THREAD_ANNOTATION(locks_excluded(__VA_ARGS__))
// On a function: it acquires / releases these mutexes (none named: the object itself).
#define ACQUIRE(...) LK_THREAD_ANNOTATION(acquire_capability(__VA_ARGS__))
#define RELEASE(...) LK_THREAD_ANNOTATION(release_capability(__VA_ARGS__))
