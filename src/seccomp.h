/* Seccomp: the filter is compiled with libseccomp in the PARENT, before the child exists, so a bad
 * profile fails early and the child runs no libseccomp code; the child installs the finished BPF
 * program with seccomp(2) as its last step before execve.  config-linux.md "Seccomp".  */
#ifndef HUSK_SECCOMP_H
#define HUSK_SECCOMP_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "spec.h"

struct husk_seccomp_bpf
{
  void *insns;        /* struct sock_filter[], owned */
  size_t n_insns;     /* number of instructions */
  unsigned int flags; /* SECCOMP_FILTER_FLAG_* for seccomp(SECCOMP_SET_MODE_FILTER) */
};

/* Compile SECCOMP (NULL: nothing to do, OUT->n_insns = 0) into OUT.  Every action (errnoRet and
 * defaultErrnoRet included), argument conditions (all operators), architectures and flags.
 * Syscall names unknown on this architecture are skipped with a debug message, as runc and crun do.
 * Conditions on the same argument within one rule are ANDed (merged into one comparison; a set that
 * one comparison cannot express is an error asking to split the entry).  Unless the default action
 * already allows, a stub in front of the filter returns ENOSYS for syscall numbers above the highest
 * one the profile names, so glibc's fallbacks (clone3 -> clone) keep working.
 * Errors name the field: "config.json: linux.seccomp.architectures[1]: unknown architecture 'X'".
 * Returns 0, or -1 with ERR.  */
int seccomp_compile (const struct husk_seccomp *seccomp, struct husk_seccomp_bpf *out, struct husk_err *err);

/* Install BPF in the calling thread (seccomp(2) SECCOMP_SET_MODE_FILTER with BPF->flags).
 * n_insns 0 does nothing.  Needs no_new_privs or CAP_SYS_ADMIN.  Returns 0, or -1 with ERR.  */
int seccomp_apply (const struct husk_seccomp_bpf *bpf, struct husk_err *err);

/* Free what seccomp_compile allocated; safe on a zeroed or released struct.  */
void seccomp_bpf_release (struct husk_seccomp_bpf *bpf);

#endif
